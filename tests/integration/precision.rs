//! The bf16 option (the encoder and the head's decoding products) and the int8 option (the encoder's
//! linear layers but the feed-forward blocks' second): the committed default model finds nearly the
//! entities in either that it finds in fp32 (their F1 cost on the dev sets is measured in
//! benches/history.md).
use crate::common;

use std::collections::BTreeSet;

use sru_ner::runtime::{ModelRuntime, ModelSource, Precision, RuntimeOptions};
use sru_ner::Annotator;

const SENTENCES: [&str; 8] = [
    "Aspirin reduced the risk of myocardial infarction in patients with diabetes.",
    "Interleukin-2 activates the NF-kappa B pathway in human T cells.",
    "Selegiline-induced postural hypotension in Parkinson's disease: a longitudinal study in mice.",
    "The p53 tumor suppressor gene is mutated in many human cancers.",
    "Cisplatin nephrotoxicity was reduced by amifostine in rats.",
    "Expression of the c-fos mRNA was induced in Jurkat cells by phorbol ester.",
    "Haloperidol-induced catalepsy was antagonized by scopolamine.",
    "BRCA1 mutations increase the risk of breast and ovarian cancer in women.",
];

fn entities(precision: Option<Precision>) -> BTreeSet<(usize, usize, usize, String)> {
    entities_of(&start(precision))
}

/// The (sentence, start, end, label) of every entity `runtime` finds in `SENTENCES`.
fn entities_of(runtime: &ModelRuntime) -> BTreeSet<(usize, usize, usize, String)> {
    let found = runtime.annotate(&SENTENCES).expect("annotate");
    found.iter().enumerate().flat_map(|(i, es)| es.iter().map(move |e| (i, e.start, e.end, e.label.clone()))).collect()
}

/// The share of entities two sets have in common: 2 |a ∩ b| / (|a| + |b|).
fn agreement<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

fn start(precision: Option<Precision>) -> ModelRuntime {
    let options = RuntimeOptions { precision, ..RuntimeOptions::default() };
    ModelRuntime::start(ModelSource::Directory(common::default_model_dir()), options).expect("default model")
}

#[test]
fn bf16_inference_finds_nearly_the_same_entities_as_fp32() {
    let fp32 = entities(Some(Precision::Fp32));
    let bf16 = entities(Some(Precision::Bf16));
    assert!(fp32.len() >= 12, "the default model finds the obvious entities: {fp32:?}");
    let agreement = agreement(&fp32, &bf16);
    assert!(agreement >= 0.85, "bf16 agrees with fp32 on only {agreement:.2} of entities: {fp32:?} vs {bf16:?}");
}

#[test]
fn int8_inference_finds_nearly_the_same_entities_as_fp32() {
    let fp32 = entities(Some(Precision::Fp32));
    let runtime = start(Some(Precision::Int8));
    assert_eq!(runtime.precision(), Precision::Int8);
    let int8 = entities_of(&runtime);
    assert!(fp32.len() >= 12, "the default model finds the obvious entities: {fp32:?}");
    let agreement = agreement(&fp32, &int8);
    assert!(agreement >= 0.85, "int8 agrees with fp32 on only {agreement:.2} of entities: {fp32:?} vs {int8:?}");
}

#[test]
fn auto_precision_serves_bf16_exactly_where_the_cpu_computes_it() {
    let auto = start(None);
    let expected = if Precision::cpu_computes_bf16() { Precision::Bf16 } else { Precision::Fp32 };
    assert_eq!(auto.precision(), expected);
    let other = if expected == Precision::Bf16 { Precision::Fp32 } else { Precision::Bf16 };
    assert_eq!(start(Some(other)).precision(), other, "an explicit choice is kept");
    assert_eq!(entities_of(&auto), entities(Some(expected)), "auto serves exactly what its pick serves");
}
