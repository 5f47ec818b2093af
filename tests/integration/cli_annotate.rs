//! `sru-ner annotate` as a user runs it: input order, empty lines, and bad input (whitespace, control
//! characters, invalid UTF-8, a 1 MB line) giving a defined result or an error naming the line.
use crate::common;

use std::io::Write;
use std::process::{Command, Output};

fn sru_ner(args: &[&str]) -> Output {
    let model = common::trained_model_dir();
    Command::new(env!("CARGO_BIN_EXE_sru-ner")).arg("annotate").arg("--model").arg(&model).args(args).output().expect("running sru-ner")
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn text_arguments_give_one_object_each_in_order() {
    let output = sru_ner(&["--text", "Patients received aspirin daily.", "--text", "", "--text", "Levels of insulin rose."]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["line"], i);
    }
    assert_eq!(lines[0]["entities"][0]["text"], "aspirin");
    assert_eq!(lines[0]["entities"][0]["label"], "Chemical");
    assert_eq!(lines[0]["entities"][0]["start"], 18);
    assert_eq!(lines[0]["entities"][0]["end"], 25);
    assert_eq!(lines[1]["entities"].as_array().unwrap().len(), 0);
    assert_eq!(lines[2]["entities"][0]["text"], "insulin");
    // The fixture's manifest says `trained: false`, so every line carries the warning.
    assert!(lines[0]["warning"].as_str().unwrap().contains("untrained"));
}

#[test]
fn a_file_with_bad_lines_reports_them_by_number_and_annotates_the_rest() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"Patients received aspirin daily.\n").unwrap(); // 0
    file.write_all(b"\n").unwrap(); // 1: empty
    file.write_all(b"   \t  \n").unwrap(); // 2: whitespace
    file.write_all(b"bad \xff\xfe bytes\n").unwrap(); // 3: invalid UTF-8
    file.write_all(b"ctrl\x07\x00chars with heparin inside.\r\n").unwrap(); // 4: control characters, CRLF
    file.write_all(&vec![b'a'; 1_000_001]).unwrap(); // 5: a 1 MB line
    file.write_all(b"\nTreatment with caffeine reduced fever in mice.").unwrap(); // 6: no final newline
    let output = sru_ner(&["--input", file.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "bad lines make the exit status 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3: invalid UTF-8 at byte 4"), "{stderr}");
    assert!(stderr.contains("line 5: the line has 1000001 characters"), "{stderr}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 7, "one object per input line");
    assert_eq!(lines[0]["entities"][0]["text"], "aspirin");
    assert_eq!(lines[1]["entities"].as_array().unwrap().len(), 0);
    assert_eq!(lines[2]["entities"].as_array().unwrap().len(), 0);
    assert!(lines[3]["error"].as_str().unwrap().contains("invalid UTF-8"));
    let line4 = "ctrl\x07\x00chars with heparin inside.";
    for e in lines[4]["entities"].as_array().unwrap() {
        let (s, t) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
        assert_eq!(line4.chars().skip(s).take(t - s).collect::<String>(), e["text"].as_str().unwrap());
    }
    assert!(lines[5]["error"].as_str().unwrap().contains("--max-chars"));
    assert_eq!(lines[6]["entities"][0]["text"], "caffeine");
}

#[test]
fn a_long_line_is_annotated_when_allowed() {
    let text = "Patients received aspirin daily and ".repeat(3_000); // ~108,000 characters, one sentence
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let output = sru_ner(&["--input", file.path().to_str().unwrap(), "--max-chars", "200000"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = json_lines(&output);
    // The fixture head, trained on short sentences, finds a few percent of the 3,000 "aspirin" in one
    // sentence of 18,000 words; what this checks is that the encoder's windows cover all of it.
    let (chars, mut found_in_tenth) = (text.chars().count(), [0; 10]);
    for e in lines[0]["entities"].as_array().unwrap() {
        let start = e["start"].as_u64().unwrap() as usize;
        found_in_tenth[(10 * start / chars).min(9)] += 1;
    }
    assert!(found_in_tenth.iter().all(|&n| n > 0), "entities in each tenth of the line: {found_in_tenth:?}");
}

#[test]
fn nothing_to_do_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_sru-ner")).arg("annotate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("give --text or --input"));
    let output = sru_ner(&["--input", "/nonexistent/file.txt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/file.txt"));
}

#[test]
fn without_a_model_the_committed_default_is_used_or_the_untrained_head_is_labelled() {
    let output = Command::new(env!("CARGO_BIN_EXE_sru-ner")).args(["annotate", "--text", "IL-2 binds CD28."]).output().unwrap();
    assert!(output.status.success());
    let lines = json_lines(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if common::repo().join("models/default/manifest.json").is_file() {
        assert!(lines[0].get("warning").is_none(), "the committed default is trained: {}", lines[0]);
        assert!(!stderr.contains("untrained"), "{stderr}");
    } else {
        assert!(stderr.contains("untrained head"));
        assert!(lines[0]["warning"].as_str().unwrap().contains("untrained"));
    }
    let picked = if sru_ner::runtime::Precision::cpu_computes_bf16() { "bf16" } else { "fp32" };
    assert!(stderr.contains(&format!("encoder precision {picked} (auto: ")), "the default precision says what it picked: {stderr}");
}

#[test]
fn models_describes_a_model_directory_from_its_manifest() {
    let model = common::trained_model_dir();
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(model.join("manifest.json")).unwrap()).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_sru-ner")).arg("models").args(args).output().unwrap();

    let output = run(&[model.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(manifest["name"].as_str().unwrap()), "{text}");
    let types: Vec<&str> = manifest["types"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(text.contains(&types.join(", ")), "{text}");
    assert!(text.contains("head.safetensors"), "{text}");

    let output = run(&["--json", model.to_str().unwrap()]);
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["manifest"], manifest, "the manifest as stored");
    assert!(lines[0]["files"].as_array().unwrap().iter().any(|f| f[0] == "manifest.json" && f[1].as_u64().unwrap() > 0));

    let output = run(&["/nonexistent/model"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/model") && stderr.contains("manifest.json"), "{stderr}");
}
