//! The training job end to end on a small slice of BC5CDR, as CI can afford: import, train, determinism,
//! resume, and eval's JSON contract. It runs the default (fast) training path: length-sorted batches,
//! position dropout by table rows, and a bf16 encoder on fp32 master weights.
use crate::common;

use std::path::Path;
use std::process::{Command, Output};

fn sru_ner(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_sru-ner")).args(args).output().unwrap();
    assert!(output.status.success(), "sru-ner {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn slice_store(data: &Path, store: &Path) {
    let input = data.join("bc5cdr/train.tsv");
    let input = input.to_str().unwrap();
    let store = store.to_str().unwrap();
    let base = ["import", "--format", "iob", "--corpus", "bc5cdr", "--input", input, "--output", store];
    sru_ner(&[&base[..], &["--split", "train", "--sentences", "0..48"]].concat());
    sru_ner(&[&base[..], &["--split", "dev", "--sentences", "48..64"]].concat());
}

fn config(dir: &Path, store: &Path, epochs: usize) -> std::path::PathBuf {
    let path = dir.join(format!("train-{epochs}.toml"));
    let text = format!(
        "name = \"slice\"\nstore = {store:?}\noutput = {output:?}\nepochs = {epochs}\nepoch_sentences = 24\nbatch_size = 8\n\
         head_lr = 3e-3\nencoder_lr = 1e-4\nencoder_precision = \"bf16\"\nsort_pool_batches = 2\n[[corpora]]\nname = \"bc5cdr\"\n",
        store = store.to_str().unwrap(),
        output = dir.join("model").to_str().unwrap(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn metrics(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("model/metrics.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn train_resume_and_evaluate_a_slice() {
    let Some(data) = common::shared_data("bc5cdr") else { return };
    let data = data.parent().unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("store");
    slice_store(data, &store);

    // Two fresh runs of a two-epoch config, each stopped after its first epoch, with the same seed give
    // the same loss and dev F1.
    let (a, b, c) = (root.path().join("a"), root.path().join("b"), root.path().join("c"));
    for dir in [&a, &b] {
        std::fs::create_dir_all(dir).unwrap();
        let config = config(dir, &store, 2);
        sru_ner(&["train", "--device", "cpu", "--stop-after-epochs", "1", "--config", config.to_str().unwrap()]);
    }
    let (ma, mb) = (metrics(&a), metrics(&b));
    assert_eq!(ma.len(), 1);
    assert_eq!(ma[0]["train_loss"], mb[0]["train_loss"], "same seed, same loss");
    assert_eq!(ma[0]["dev_f1_weighted"], mb[0]["dev_f1_weighted"]);
    let plot = std::fs::read(a.join("model/training.png")).expect("the epoch's training.png");
    assert!(plot.starts_with(b"\x89PNG") && plot.len() > 5_000, "a PNG plot of loss and dev F1");

    // Resuming a runs its second epoch exactly as the uninterrupted run c does: same losses, same dev
    // F1, the same weights and moments (both are restored; sampling and dropout are seeded per epoch).
    sru_ner(&["train", "--device", "cpu", "--resume", "--config", config(&a, &store, 2).to_str().unwrap()]);
    std::fs::create_dir_all(&c).unwrap();
    sru_ner(&["train", "--device", "cpu", "--config", config(&c, &store, 2).to_str().unwrap()]);
    let (resumed, straight) = (metrics(&a), metrics(&c));
    assert_eq!(resumed.len(), 2);
    assert_eq!(resumed[1]["epoch"], 2);
    for epoch in 0..2 {
        assert_eq!(resumed[epoch]["train_loss"], straight[epoch]["train_loss"], "epoch {}: {resumed:?} vs {straight:?}", epoch + 1);
        assert_eq!(resumed[epoch]["dev_f1_weighted"], straight[epoch]["dev_f1_weighted"]);
    }
    assert!(resumed[1]["train_loss"].as_f64().unwrap() < resumed[0]["train_loss"].as_f64().unwrap(), "{resumed:?}");
    let state = |dir: &Path| std::fs::read(dir.join("model/checkpoint/optimizer.safetensors")).unwrap();
    assert!(state(&a) == state(&c), "the resumed run's weights and moments differ from the uninterrupted run's");

    // A run from scratch into c, which holds the two epochs above, starts a new metrics.jsonl.
    sru_ner(&["train", "--device", "cpu", "--stop-after-epochs", "1", "--config", config(&c, &store, 2).to_str().unwrap()]);
    let fresh = metrics(&c);
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    assert_eq!(fresh[0]["train_loss"], straight[0]["train_loss"]);

    // The model directory: trained, small (word embeddings are not stored), loadable by eval.
    let model = a.join("model");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(model.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["trained"], true);
    assert_eq!(manifest["trained_on"][0], "bc5cdr:train");
    let encoder_bytes = std::fs::metadata(model.join("encoder.safetensors")).unwrap().len();
    assert!(encoder_bytes < 25_000_000, "{encoder_bytes} bytes");
    let (model_arg, store_arg) = (model.to_str().unwrap(), store.to_str().unwrap());
    let eval = ["eval", "--device", "cpu", "--model", model_arg, "--store", store_arg, "--corpus", "bc5cdr", "--split", "dev", "--json"];
    let output = sru_ner(&eval);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["precision", "recall", "f1"] {
        let v = report["micro"][key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key} = {v}");
    }
    assert_eq!(report["sentences"], 16);
    let gold = report["micro"]["tp"].as_u64().unwrap() + report["micro"]["fn"].as_u64().unwrap();
    assert!(gold > 0);
    assert!(report["per_type"].is_object() && report["nested"].is_object());

    // The teacher-forced probe sees every gold mention's TR and RE once, and its counts nest.
    let output = sru_ner(&[&eval[..], &["--probe"]].concat());
    let probe: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(probe["sentences"], 16);
    assert_eq!(probe["all"]["gold"].as_u64().unwrap(), 2 * gold, "{probe}");
    let (likely, lost) = (probe["all"]["likely"].as_u64().unwrap(), probe["all"]["likely_but_shift_wins"].as_u64().unwrap());
    assert!(lost <= likely && likely <= 2 * gold, "{probe}");
    let per_type_gold: u64 = probe["per_type"].as_object().unwrap().values().map(|c| c["gold"].as_u64().unwrap()).sum();
    assert_eq!(per_type_gold, 2 * gold);

    // The action-threshold diagnostic: the report says which threshold decoded it, the gold counts do
    // not move, and a threshold that is not a probability is refused by name.
    assert_eq!(report["action_threshold"], 0.5);
    let output = sru_ner(&[&eval[..], &["--action-threshold", "0.25"]].concat());
    let lower: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(lower["action_threshold"], 0.25);
    assert_eq!(lower["micro"]["tp"].as_u64().unwrap() + lower["micro"]["fn"].as_u64().unwrap(), gold);
    let refused = Command::new(env!("CARGO_BIN_EXE_sru-ner")).args([&eval[..], &["--action-threshold", "1.5"]].concat()).output().unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--action-threshold") && message.contains("between 0 and 1"), "{message}");

    // The cross-corpus scorer matches at least what strict matching does, and says how it scored.
    let output = sru_ner(&[&eval[..], &["--char-tolerance", "1", "--outermost-only"]].concat());
    let tolerant: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(tolerant["span_match"], serde_json::json!({"characters": 1}), "{tolerant}");
    assert_eq!(tolerant["outermost_only"], true);
    assert!(tolerant["micro"]["tp"].as_u64() >= report["micro"]["tp"].as_u64(), "{tolerant} against {report}");
    assert_eq!(tolerant["micro"]["tp"].as_u64().unwrap() + tolerant["micro"]["fn"].as_u64().unwrap(), gold);
    assert_eq!(tolerant["strict"]["micro"], report["micro"], "the same predictions, scored strictly");

    // A run that starts from a's trained weights (init_from), with chemicals inside diseases marked as
    // unannotated, begins where a ended: its first epoch's loss is below a fresh run's.
    let d = root.path().join("d");
    std::fs::create_dir_all(&d).unwrap();
    let fresh_config = std::fs::read_to_string(config(&d, &store, 1)).unwrap();
    let warm = fresh_config.replace("[[corpora]]\nname = \"bc5cdr\"\n", "")
        + &format!("init_from = {:?}\n[[corpora]]\nname = \"bc5cdr\"\nunannotated_inside = {{ Disease = [\"Chemical\"] }}\n", model_arg);
    let warm_path = d.join("warm.toml");
    std::fs::write(&warm_path, warm).unwrap();
    sru_ner(&["train", "--device", "cpu", "--config", warm_path.to_str().unwrap()]);
    let warm = metrics(&d);
    assert_eq!(warm.len(), 1);
    assert!(warm[0]["train_loss"].as_f64().unwrap() < straight[0]["train_loss"].as_f64().unwrap(), "{warm:?} against {straight:?}");
}

#[test]
fn eval_reports_types_the_model_does_not_know() {
    let Some(conll) = common::shared_data("conll2003") else { return };
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("store");
    let input = conll.join("eng.testb");
    sru_ner(&[
        "import",
        "--format",
        "conll",
        "--corpus",
        "conll",
        "--split",
        "test",
        "--sentences",
        "0..20",
        "--input",
        input.to_str().unwrap(),
        "--output",
        store.to_str().unwrap(),
    ]);
    let model = common::trained_model_dir();
    let output = sru_ner(&[
        "eval",
        "--device",
        "cpu",
        "--model",
        model.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--corpus",
        "conll",
        "--split",
        "test",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let unknown: Vec<&str> = report["unknown_types"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(unknown, ["LOC", "MISC", "ORG", "PER"]);
    assert_eq!(report["micro"]["fn"], 0, "unknown types are not scored as misses");
}
