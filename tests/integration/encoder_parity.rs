//! The tch BERT encoder matches Hugging Face `transformers` on the same folder (last hidden states within
//! 1e-4), and so does the tokenisation; weights load with or without the `bert.` prefix; pickled weights
//! are refused.
use crate::common;

use std::process::Command;

use sru_ner::encoder::{load_hf_weights, BertConfig, BertEncoder, EncoderFiles, SubwordTokenizer, WordPooling};
use sru_ner::text::SegmentedDocument;
use sru_ner::SruNerError;
use tch::{nn, Device, Kind, Tensor};

const SENTENCES: &[&str] = &[
    "IL-2 gene expression and NF-kappa B activation through CD28 requires reactive oxygen production by 5-lipoxygenase.",
    "Selegiline-induced postural hypotension in Parkinson's disease (p < 0.05) was given i.v. daily.",
    "TNF-α binds IL-2Rα 🧬.",
    "Short.",
];

fn encoder(dir: &std::path::Path) -> (nn::VarStore, BertEncoder) {
    let files = EncoderFiles::locate(dir).expect("encoder folder");
    let config = BertConfig::from_file(&files.config).expect("config");
    let vs = nn::VarStore::new(Device::Cpu);
    let encoder = BertEncoder::new(&vs.root() / "bert", &config);
    load_hf_weights(&vs, &files.weights, "bert.").expect("weights");
    (vs, encoder)
}

#[test]
fn last_hidden_states_match_transformers() {
    let dir = common::encoder_dir();
    let files = EncoderFiles::locate(&dir).expect("default encoder (run scripts/setup.sh)");
    let tokenizer = SubwordTokenizer::from_file(&files.tokenizer).unwrap();
    let words: Vec<Vec<&str>> =
        SENTENCES.iter().map(|s| SegmentedDocument::segment(s).words.into_iter().map(|r| &s[r]).collect()).collect();
    let pieces: Vec<Vec<Vec<u32>>> = words.iter().map(|w| tokenizer.word_pieces(w).unwrap()).collect();
    let refs: Vec<&[Vec<u32>]> = pieces.iter().map(Vec::as_slice).collect();
    let pooling = WordPooling { cls: tokenizer.cls(), sep: tokenizer.sep(), pad: tokenizer.pad() };
    let batch = pooling.batch(&refs, Device::Cpu);

    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs.safetensors");
    let mut named: Vec<(String, Tensor)> =
        vec![("input_ids".into(), batch.input_ids.shallow_clone()), ("attention_mask".into(), batch.attention_mask.shallow_clone())];
    for (i, w) in words.iter().enumerate() {
        named.push((format!("words_{i}"), Tensor::from_slice(w.join("\0").as_bytes()).to_kind(Kind::Int64)));
    }
    Tensor::write_safetensors(&named, &inputs).unwrap();
    let output = tmp.path().join("reference.safetensors");
    let status = Command::new(common::python())
        .arg(common::repo().join("tests/reference/bert_hidden_states.py"))
        .args([&dir, &inputs, &output])
        .env("HF_HUB_OFFLINE", "1")
        .status()
        .expect("running the reference script with .venv/bin/python");
    assert!(status.success(), "reference script failed");
    let reference: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(&output).unwrap().into_iter().collect();

    // Tokenisation: our pieces with CLS/SEP equal HF's is_split_into_words ids.
    for (i, p) in pieces.iter().enumerate() {
        let mut ours = vec![i64::from(tokenizer.cls())];
        ours.extend(p.iter().flatten().map(|&id| i64::from(id)));
        ours.push(i64::from(tokenizer.sep()));
        let theirs: Vec<i64> = Vec::try_from(&reference[&format!("hf_ids_{i}")]).unwrap();
        assert_eq!(ours, theirs, "tokenisation of sentence {i}");
    }

    let (_vs, bert) = encoder(&dir);
    let ours = tch::no_grad(|| bert.forward_t(&batch.input_ids, &batch.attention_mask, false));
    let theirs = &reference["last_hidden_state"];
    assert_eq!(ours.size(), theirs.size());
    // Compare real tokens only: padding positions are not defined the same way.
    let mask = batch.attention_mask.unsqueeze(-1).to_kind(Kind::Float);
    let max_diff = ((&ours - theirs).abs() * mask).max().double_value(&[]);
    eprintln!("encoder parity: max |ours - transformers| = {max_diff:e}");
    assert!(max_diff < 1e-4, "max |ours - transformers| = {max_diff}");
    assert!(ours.abs().max().double_value(&[]) > 0.1, "hidden states are not trivially zero");
}

fn copy_encoder_with(dir: &std::path::Path, rename: impl Fn(&str) -> String) -> tempfile::TempDir {
    let files = EncoderFiles::locate(dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(&files.config, tmp.path().join("config.json")).unwrap();
    std::fs::copy(&files.tokenizer, tmp.path().join("tokenizer.json")).unwrap();
    let tensors: Vec<(String, Tensor)> =
        Tensor::read_safetensors(&files.weights).unwrap().into_iter().map(|(n, t)| (rename(&n), t)).collect();
    Tensor::write_safetensors(&tensors, tmp.path().join("model.safetensors")).unwrap();
    tmp
}

#[test]
fn weights_load_with_or_without_the_bert_prefix() {
    let dir = common::encoder_dir();
    let prefixed = copy_encoder_with(&dir, |n| format!("bert.{n}"));
    let ids = Tensor::from_slice(&[101i64, 7632, 2003, 102]).view([1, 4]);
    let mask = ids.ones_like();
    let (_a, plain) = encoder(&dir);
    let (_b, with_prefix) = encoder(prefixed.path());
    let diff = tch::no_grad(|| (plain.forward_t(&ids, &mask, false) - with_prefix.forward_t(&ids, &mask, false)).abs().max());
    assert_eq!(diff.double_value(&[]), 0.0);
}

#[test]
fn missing_tensors_are_named() {
    let dir = common::encoder_dir();
    let broken = copy_encoder_with(&dir, |n| n.replace("encoder.layer.3.output.dense.weight", "renamed.tensor"));
    let files = EncoderFiles::locate(broken.path()).unwrap();
    let config = BertConfig::from_file(&files.config).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let _encoder = BertEncoder::new(&vs.root() / "bert", &config);
    let error = load_hf_weights(&vs, &files.weights, "bert.").unwrap_err().to_string();
    assert!(error.contains("bert.encoder.layer.3.output.dense.weight"), "{error}");
}

#[test]
fn pickled_weights_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pytorch_model.bin"), b"not read").unwrap();
    std::fs::write(tmp.path().join("config.json"), b"{}").unwrap();
    let error = EncoderFiles::locate(tmp.path()).unwrap_err();
    assert!(matches!(error, SruNerError::PickledWeights { .. }), "{error}");
    assert!(error.to_string().contains("safetensors"));
}

/// Mixed-precision training: on fp32 weights, `forward_in(.., BFloat16, ..)` computes in bf16
/// (bf16 output close to the fp32 forward), and the weights receive fp32 gradients close to fp32's.
#[test]
fn bf16_compute_on_fp32_weights_gives_fp32_gradients_close_to_fp32() {
    let dir = common::encoder_dir();
    let (vs, bert) = encoder(&dir);
    let ids = Tensor::from_slice(&[101i64, 7632, 2003, 1037, 3231, 6251, 102, 101, 2023, 2003, 102, 0, 0, 0]).view([2, 7]);
    let mask = ids.ne(0).to_kind(Kind::Int64);
    let gradient = |kind: Kind| -> (Tensor, Tensor) {
        for mut variable in vs.trainable_variables() {
            variable.zero_grad();
        }
        let out = bert.forward_in(&ids, &mask, kind, false);
        assert_eq!(out.kind(), kind);
        out.to_kind(Kind::Float).pow_tensor_scalar(2).mean(Kind::Float).backward();
        let weight = &vs.variables()["bert.encoder.layer.2.intermediate.dense.weight"];
        assert_eq!(weight.kind(), Kind::Float, "the master weights stay fp32");
        (out.to_kind(Kind::Float).detach(), weight.grad().copy())
    };
    let (out32, grad32) = gradient(Kind::Float);
    let (out16, grad16) = gradient(Kind::BFloat16);
    assert_eq!(grad16.kind(), Kind::Float, "fp32 gradients");
    let output_error = (&out16 - &out32).abs().max().double_value(&[]) / out32.abs().max().double_value(&[]);
    assert!(output_error < 0.05, "bf16 output differs by {output_error} (relative to the largest value)");
    let cosine =
        (&grad16 * &grad32).sum(Kind::Double).double_value(&[]) / (grad16.norm().double_value(&[]) * grad32.norm().double_value(&[]));
    assert!(cosine > 0.98, "bf16 and fp32 gradients point {cosine} apart (cosine)");
}
