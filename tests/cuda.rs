//! CUDA correctness: where a CUDA device is present, the committed default model in
//! fp32 finds exactly the same spans on CUDA as on the CPU, with scores within 1e-3, including when the
//! runtime decodes several encoder batches in one loop (CUDA's default, `RuntimeOptions::
//! decode_token_budget`) while the CPU decodes each alone. Without CUDA the test says SKIPPED;
//! `SRU_NER_TEST_REQUIRE_CUDA=1` (set on a GPU machine) turns that into a failure. And `--precision
//! auto` on CUDA: bf16 exactly where NVML says every GPU has compute capability 8.0 or more, finding
//! nearly the spans of fp32 on the CPU.
//!
//! Its own test binary, apart from `tests/integration`: it links only the library (about 6 MB
//! stripped), so it can travel to a GPU machine, where it runs from the repository root
//! (benches/README.md says how).
use std::path::PathBuf;

use sru_ner::runtime::{ModelRuntime, ModelSource, Precision, RuntimeOptions};
use sru_ner::{Annotator, Entity};
use tch::Device;

const TEXTS: [&str; 6] = [
    "Selegiline-induced postural hypotension in Parkinson's disease: a longitudinal study in mice treated with cisplatin.",
    "Interleukin-2 gene expression in human T cells requires NF-kappa B and the IL-2 promoter.",
    "BRCA1 mutations increase the risk of breast and ovarian cancer in women. Tamoxifen lowered it.",
    "Expression of the c-fos mRNA was induced in Jurkat cells by phorbol ester.",
    "Naloxone reverses the antihypertensive effect of clonidine in rats with spontaneous hypertension.",
    "HIV-1 infection of CD4+ T lymphocytes depends on the chemokine receptor CCR5.",
];

/// The committed default model: `models/default` under the working directory (the repository root
/// where the binary was copied), else under this crate.
fn default_model_dir() -> PathBuf {
    let here = PathBuf::from("models/default");
    if here.join("manifest.json").exists() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/default")
    }
}

/// A small token budget, so that the texts make several encoder batches. `precision` None is `auto`.
fn entities_on(device: Device, precision: Option<Precision>) -> Vec<Vec<Entity>> {
    let options = RuntimeOptions { device, precision, token_budget: 96, ..RuntimeOptions::default() };
    let runtime = ModelRuntime::start(ModelSource::Directory(default_model_dir()), options).expect("default model");
    runtime.annotate(&TEXTS).expect("annotate")
}

#[test]
fn cuda_finds_the_same_spans_as_the_cpu() {
    if !tch::Cuda::is_available() {
        assert!(std::env::var("SRU_NER_TEST_REQUIRE_CUDA").is_err(), "SRU_NER_TEST_REQUIRE_CUDA is set but libtorch sees no CUDA device");
        eprintln!("SKIPPED: no CUDA device");
        return;
    }
    let (cpu, cuda) = (entities_on(Device::Cpu, Some(Precision::Fp32)), entities_on(Device::Cuda(0), Some(Precision::Fp32)));
    assert!(cpu.iter().map(Vec::len).sum::<usize>() >= 12, "the default model finds the obvious entities: {cpu:?}");
    for (i, (on_cpu, on_cuda)) in cpu.iter().zip(&cuda).enumerate() {
        let spans = |es: &[Entity]| es.iter().map(|e| (e.start, e.end, e.label.clone())).collect::<Vec<_>>();
        assert_eq!(spans(on_cpu), spans(on_cuda), "text {i}");
        for (a, b) in on_cpu.iter().zip(on_cuda) {
            assert!((a.score - b.score).abs() < 1e-3, "text {i}, {:?}: score {} on CPU, {} on CUDA", a.text, a.score, b.score);
        }
    }
    eprintln!("CUDA and CPU agree on {} entities of {} texts", cpu.iter().map(Vec::len).sum::<usize>(), TEXTS.len());
}

#[test]
fn auto_precision_serves_bf16_where_the_gpus_compute_it() {
    let picked = Precision::auto_for(Device::Cuda(0));
    assert_eq!(picked == Precision::Bf16, Precision::gpus_compute_bf16());
    if !tch::Cuda::is_available() {
        assert!(std::env::var("SRU_NER_TEST_REQUIRE_CUDA").is_err(), "SRU_NER_TEST_REQUIRE_CUDA is set but libtorch sees no CUDA device");
        eprintln!("SKIPPED: no CUDA device (auto on CUDA would pick {picked})");
        return;
    }
    eprintln!("auto on this GPU: {picked}");
    if picked == Precision::Fp32 {
        return;
    }
    // bf16 rounds the encoder, so a borderline span may flip; the spans must still agree at F1 ≥ 0.9.
    let spans = |texts: &[Vec<Entity>]| -> std::collections::HashSet<(usize, usize, usize, String)> {
        texts.iter().enumerate().flat_map(|(i, es)| es.iter().map(move |e| (i, e.start, e.end, e.label.clone()))).collect()
    };
    let fp32 = spans(&entities_on(Device::Cpu, Some(Precision::Fp32)));
    let auto = spans(&entities_on(Device::Cuda(0), None));
    let agreed = fp32.intersection(&auto).count();
    let f1 = 2.0 * agreed as f64 / (fp32.len() + auto.len()) as f64;
    assert!(f1 >= 0.9, "bf16 on CUDA against fp32 on the CPU: F1 {f1:.3} ({agreed} agreed of {} and {})", fp32.len(), auto.len());
    eprintln!("bf16 on CUDA against fp32 on the CPU: {agreed} of {} spans agree (F1 {f1:.3})", fp32.len());
}
