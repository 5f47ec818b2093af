//! The corpus store round-trips the real corpora of ../shared with the counts their PROVENANCE files
//! state, through the `sru-ner import` command as a user runs it.
mod common;

use std::collections::BTreeMap;
use std::process::Command;

use sru_ner::corpus::{CorpusStatistics, CorpusStore};

fn import(store: &std::path::Path, corpus: &str, split: &str, input: &std::path::Path, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_sru-ner"))
        .args(["import", "--format", "iob", "--corpus", corpus, "--split", split, "--input"])
        .arg(input)
        .arg("--output")
        .arg(store)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

#[test]
fn mtl_corpora_round_trip_with_provenance_counts() {
    let Some(data) = common::shared_data("") else { return };
    let store_dir = tempfile::tempdir().unwrap();
    let store = CorpusStore::new(store_dir.path());
    // (corpus, file, split, sentences, mentions per type) from each PROVENANCE.txt
    let cases: &[(&str, &str, &str, usize, &[(&str, usize)])] = &[
        ("bc5cdr", "bc5cdr/train.tsv", "train", 4560, &[("Chemical", 5203), ("Disease", 4182)]),
        ("bc5cdr", "bc5cdr/devel.tsv", "dev", 4581, &[("Chemical", 5347), ("Disease", 4246)]),
        ("bc5cdr", "bc5cdr/test.tsv", "test", 4797, &[("Chemical", 5385), ("Disease", 4424)]),
        ("bc2gm", "bc2gm/train.tsv", "train", 12574, &[("GENE", 15197)]),
        ("linnaeus", "linnaeus/test.tsv", "test", 7142, &[("Species", 1433)]),
        ("ncbi_disease", "ncbi_disease/devel.tsv", "dev", 923, &[("Disease", 787)]),
        (
            "jnlpba",
            "jnlpba/original/test/Genia4EReval1.iob2",
            "test",
            3856,
            &[("protein", 5067), ("DNA", 1056), ("RNA", 118), ("cell_type", 1921), ("cell_line", 500)],
        ),
        ("conll2003", "conll2003/eng.testb", "test", 3453, &[("LOC", 1668), ("MISC", 702), ("ORG", 1661), ("PER", 1617)]),
    ];
    for &(corpus, file, split, n_sentences, mentions) in cases {
        let printed = import(store_dir.path(), corpus, split, &data.join(file), &[]);
        assert!(printed.contains(&format!("{n_sentences} sentences")), "{printed}");
        let read = store.read(corpus, split).unwrap();
        let stats = CorpusStatistics::of(&read);
        assert_eq!(stats.sentences, n_sentences, "{file}");
        assert_eq!(stats.mentions, counts(mentions), "{file}");
        assert_eq!(stats.nested, 0, "{file} is flat");
        for s in &read {
            let chars: Vec<char> = s.text.chars().collect();
            for span in &s.spans {
                assert!(span.start_word < span.end_word && span.end_word <= s.words.len());
            }
            for w in &s.words {
                assert!(w.end <= chars.len());
            }
        }
    }
}

#[test]
fn renaming_ranges_and_appending() {
    let Some(data) = common::shared_data("jnlpba") else { return };
    let store_dir = tempfile::tempdir().unwrap();
    let file = data.join("original/test/Genia4EReval2.iob2");
    let printed = import(store_dir.path(), "jnlpba", "dev", &file, &["--sentences", "0..100", "--rename", "protein=Gene_or_protein"]);
    assert!(printed.contains("100 sentences"), "{printed}");
    import(store_dir.path(), "jnlpba", "dev", &file, &["--sentences", "100..150", "--rename", "protein=Gene_or_protein"]);
    let read = CorpusStore::new(store_dir.path()).read("jnlpba", "dev").unwrap();
    assert_eq!(read.len(), 150);
    assert_eq!(read[149].sentence_id, 149, "ids continue across parts");
    assert!(read[0].types.contains(&"Gene_or_protein".to_string()));
    assert!(read.iter().flat_map(|s| &s.spans).all(|s| s.label != "protein"));
    assert!(read[0].document_id.is_some(), "###MEDLINE lines give document ids");
}

#[test]
fn malformed_input_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.tsv");
    std::fs::write(&input, "IL-2\tB-protein\n\ngene\tB-DNA\nx\tZ-DNA\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sru-ner"))
        .args(["import", "--format", "iob", "--corpus", "c", "--split", "train", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(dir.path().join("store"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.tsv:4"), "{stderr}");
}
