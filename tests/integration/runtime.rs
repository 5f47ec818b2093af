//! The runtime on the real default encoder: exact offsets over every PubMed abstract of ../shared,
//! model directories that save and load, many callers at once, long documents.
use crate::common;

use std::sync::Arc;

use sru_ner::model::{SruNerModel, DEFAULT_TYPES};
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;
use tch::Device;

fn trained_model_dir() -> std::path::PathBuf {
    common::trained_model_dir()
}

/// Same entities, scores equal up to float noise (batch padding changes rounding in the encoder).
fn assert_same_entities(a: &[sru_ner::Entity], b: &[sru_ner::Entity], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.start, x.end, &x.label, &x.text), (y.start, y.end, &y.label, &y.text), "{what}");
        assert!((x.score - y.score).abs() < 1e-4, "{what}: scores {} vs {}", x.score, y.score);
    }
}

#[test]
fn entity_text_is_the_slice_at_its_character_offsets_in_pubmed_abstracts() {
    let Some(pubmed) = common::shared_data("pubmed_raw") else { return };
    let abstracts = common::pubmed_abstracts(&pubmed);
    assert_eq!(abstracts.len(), 2404, "pubmed_raw holds 2404 abstracts (PROVENANCE.txt)");
    let runtime = ModelRuntime::start(ModelSource::Directory(trained_model_dir()), RuntimeOptions::default()).unwrap();
    // Every eighth abstract (301 of them; all 2404 would take about 6 minutes of a 2-core CPU that
    // annotates 300 abstracts in 49 s), plus a text with multi-byte characters (the abstracts are
    // ASCII-fied). The segmentation, which gives the offsets, is checked on all 2404 below.
    let mut texts: Vec<String> = abstracts.iter().step_by(8).map(|(_, t)| t.clone()).collect();
    texts.push("Treatment with α-aspirin 🧬 reduced fever. Müller cells received insulin and β-heparin daily.".into());
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let annotated: Vec<Vec<sru_ner::Entity>> = refs.chunks(64).flat_map(|chunk| runtime.annotate(chunk).unwrap()).collect();
    assert_eq!(annotated.len(), refs.len());
    let mut n_entities = 0;
    for (text, entities) in refs.iter().zip(&annotated) {
        let chars: Vec<char> = text.chars().collect();
        for e in entities {
            let slice: String = chars[e.start..e.end].iter().collect();
            assert_eq!(slice, e.text, "offsets {}..{} in {text:?}", e.start, e.end);
            assert!(e.score > 0.0 && e.score <= 1.0);
            assert!(DEFAULT_TYPES.contains(&e.label.as_str()));
        }
        n_entities += entities.len();
    }
    assert!(n_entities > 0, "the fixture model found nothing in {} abstracts", refs.len());

    // Segmentation round trip on all 2404 abstracts: words are exact slices, sentences cover every word.
    for (name, text) in &abstracts {
        let doc = sru_ner::text::SegmentedDocument::segment(text);
        let covered: usize = doc.sentences.iter().map(|s| s.len()).sum();
        assert_eq!(covered, doc.words.len(), "{name}");
        for w in &doc.words {
            assert!(!text[w.clone()].trim().is_empty(), "{name}: empty word at {w:?}");
        }
    }
}

#[test]
fn a_saved_model_directory_loads_and_annotates_identically() {
    let dir = trained_model_dir();
    let text = "Patients received aspirin daily. Levels of cisplatin rose after the first week.";
    let first = ModelRuntime::start(ModelSource::Directory(dir.clone()), RuntimeOptions::default()).unwrap();
    let a = first.annotate(&[text]).unwrap();
    let resaved = tempfile::tempdir().unwrap();
    SruNerModel::load(&dir, Device::Cpu).unwrap().save(resaved.path()).unwrap();
    let second = ModelRuntime::start(ModelSource::Directory(resaved.path().into()), RuntimeOptions::default()).unwrap();
    let b = second.annotate(&[text]).unwrap();
    assert!(!a[0].is_empty());
    assert_same_entities(&a[0], &b[0], "reloaded");
    assert_eq!(first.model_id(), "sru-ner-untrained@0.1.0+untrained");
}

#[test]
fn model_directory_errors_name_the_problem() {
    let missing = tempfile::tempdir().unwrap();
    let error = SruNerModel::load(missing.path(), Device::Cpu).unwrap_err().to_string();
    assert!(error.contains("no manifest.json"), "{error}");
    let dir = copy_of_trained_model();
    std::fs::remove_file(dir.path().join("head.safetensors")).unwrap();
    let error = SruNerModel::load(dir.path(), Device::Cpu).unwrap_err().to_string();
    assert!(error.contains("head.safetensors"), "{error}");
    // A head with a missing tensor is refused, naming it.
    let dir = copy_of_trained_model();
    let tensors: Vec<(String, tch::Tensor)> = tch::Tensor::read_safetensors(dir.path().join("head.safetensors"))
        .unwrap()
        .into_iter()
        .filter(|(n, _)| n != "head.attention.d2")
        .collect();
    tch::Tensor::write_safetensors(&tensors, dir.path().join("head.safetensors")).unwrap();
    let error = SruNerModel::load(dir.path(), Device::Cpu).unwrap_err().to_string();
    assert!(error.contains("head.attention.d2"), "{error}");
}

/// A writable copy of the trained fixture model.
fn copy_of_trained_model() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for file in ["manifest.json", "head.safetensors"] {
        std::fs::copy(trained_model_dir().join(file), copy.path().join(file)).unwrap();
    }
    copy
}

#[test]
fn the_trained_fixture_tags_held_out_chemicals() {
    // Chemicals 8 and 9 never occurred in training; the templates did.
    let runtime = ModelRuntime::start(ModelSource::Directory(trained_model_dir()), RuntimeOptions::default()).unwrap();
    let mut texts = Vec::new();
    let mut gold = Vec::new();
    for t in 0..6 {
        let (words, spans) = common::fixture_sentence(t, 8, 9);
        gold.push(spans.iter().map(|&(s, e)| words[s..e].join(" ")).collect::<Vec<_>>());
        texts.push(words.join(" "));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let found = runtime.annotate(&refs).unwrap();
    let (mut hits, mut total) = (0, 0);
    for (entities, expected) in found.iter().zip(&gold) {
        total += expected.len();
        hits += expected.iter().filter(|g| entities.iter().any(|e| &&e.text == g && e.label == "Chemical")).count();
    }
    assert!(hits * 10 >= total * 8, "found {hits} of {total} held-out chemicals: {found:?}");
}

#[test]
fn many_callers_get_their_own_answers_in_order() {
    let runtime = Arc::new(ModelRuntime::start(ModelSource::Directory(trained_model_dir()), RuntimeOptions::default()).unwrap());
    let texts = [
        "Both heparin and warfarin were given to healthy volunteers.",
        "",
        "Treatment with aspirin reduced fever in mice. Caffeine inhibits the growth of tumour cells in vitro.",
        "Short one.",
    ];
    let alone: Vec<_> = texts.iter().map(|t| runtime.annotate(&[t]).unwrap().remove(0)).collect();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let runtime = Arc::clone(&runtime);
            std::thread::spawn(move || {
                let order: Vec<&str> = (0..texts.len()).map(|k| texts[(k + i) % texts.len()]).collect();
                (i, runtime.annotate(&order).unwrap())
            })
        })
        .collect();
    for handle in handles {
        let (i, results) = handle.join().unwrap();
        for (k, entities) in results.iter().enumerate() {
            assert_same_entities(entities, &alone[(k + i) % texts.len()], &format!("caller {i}, text {k}"));
        }
    }
    assert!(alone[1].is_empty());
}

#[test]
fn a_sentence_longer_than_the_encoder_is_split_and_still_mapped() {
    let runtime = ModelRuntime::start(ModelSource::Directory(trained_model_dir()), RuntimeOptions::default()).unwrap();
    // ~2,400 words without a sentence boundary: cut into chunks of at most 405 word pieces.
    let text = "patients received insulin and dopamine daily , ".repeat(300);
    let entities = runtime.annotate(&[&text]).unwrap().remove(0);
    let chars: Vec<char> = text.chars().collect();
    assert!(entities.iter().any(|e| e.start > 3000), "entities come from later chunks too");
    for e in &entities {
        assert_eq!(chars[e.start..e.end].iter().collect::<String>(), e.text);
    }
}

/// What CUDA does by default (`decode_token_budget`: several encoder batches padded into one decoding
/// loop) gives the spans of decoding each batch alone, as the CPU does; checked here on the CPU, fp32.
#[test]
fn decoding_batches_together_finds_what_decoding_each_alone_finds() {
    let abstracts: Vec<String> = match common::shared_data("pubmed_raw") {
        Some(pubmed) => common::pubmed_abstracts(&pubmed).into_iter().take(24).map(|(_, text)| text).collect(),
        None => return,
    };
    let texts: Vec<&str> = abstracts.iter().map(String::as_str).collect();
    let annotate = |decode_token_budget: usize| {
        let options = RuntimeOptions { token_budget: 600, decode_token_budget: Some(decode_token_budget), ..RuntimeOptions::default() };
        let runtime = ModelRuntime::start(ModelSource::Directory(common::default_model_dir()), options).unwrap();
        runtime.annotate(&texts).unwrap()
    };
    let (alone, together) = (annotate(0), annotate(1 << 30));
    assert!(alone.iter().map(Vec::len).sum::<usize>() > 50, "the default model finds entities in 24 abstracts");
    for (i, (a, t)) in alone.iter().zip(&together).enumerate() {
        assert_eq!(a.len(), t.len(), "abstract {i}: {a:?} vs {t:?}");
        for (x, y) in a.iter().zip(t) {
            assert_eq!((x.start, x.end, &x.label), (y.start, y.end, &y.label), "abstract {i}");
            assert!((x.score - y.score).abs() < 1e-5, "abstract {i}: scores {} vs {}", x.score, y.score);
        }
    }
}
