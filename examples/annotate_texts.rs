//! Annotates texts with the library alone: load a model on its thread, hand it texts, read the nested
//! entities back with their character offsets.
//!
//! ```text
//! cargo run --release --example annotate_texts -- [MODEL_DIR] [TEXT...]
//! ```
//! MODEL_DIR defaults to the committed default model (`models/default`); without texts it annotates
//! two sentences of its own. A program that only embeds the model depends on `sru-ner` with
//! `default-features = false`, which builds no command line, DataFusion, Ballista or Kafka client.
use std::path::PathBuf;

use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model = args.next().map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/default"), PathBuf::from);
    let mut texts: Vec<String> = args.collect();
    if texts.is_empty() {
        texts = vec![
            "Aspirin reduced the risk of myocardial infarction in patients with type 2 diabetes.".into(),
            "Expression of the CXCR1 gene was induced by IL-8 in human neutrophils.".into(),
        ];
    }

    // One model on one thread; the runtime batches the sentences of every caller. `Precision` is
    // picked from the machine (bf16 where the CPU has AVX512-BF16) unless `options.precision` says.
    let options = RuntimeOptions { precision: None, ..RuntimeOptions::default() };
    let runtime = ModelRuntime::start(ModelSource::Directory(model), options)?;
    println!("model {} ({} precision), types {:?}", runtime.model_id(), runtime.precision(), runtime.manifest().types);

    let borrowed: Vec<&str> = texts.iter().map(String::as_str).collect();
    for (text, entities) in texts.iter().zip(runtime.annotate(&borrowed)?) {
        println!("\n{text}");
        for entity in entities {
            // Offsets are in characters of the text, end exclusive; nested entities are all listed.
            println!("  {:>3}..{:<3} {:<16} {:?} (score {:.2})", entity.start, entity.end, entity.label, entity.text, entity.score);
        }
    }
    Ok(())
}
