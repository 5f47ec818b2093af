//! Helpers shared by the integration tests: where the encoder, the Python of `.venv` and `../shared` are.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The default encoder folder (made by `scripts/setup.sh`).
pub fn encoder_dir() -> PathBuf {
    sru_ner::encoder::default_encoder_dir()
}

/// The Python interpreter of `.venv`.
pub fn python() -> PathBuf {
    repo().join(".venv/bin/python")
}

/// `../shared/data/<sub>` if present; otherwise prints why the test is skipped and returns None.
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    let path = repo().join("../shared/data").join(sub);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} is absent (the real corpora live in ../shared beside the checkout)", path.display());
        None
    }
}

/// Every abstract of `../shared/data/pubmed_raw` (title line + abstract line per file), sorted by file name.
pub fn pubmed_abstracts(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = ["train", "test"]
        .iter()
        .flat_map(|split| std::fs::read_dir(dir.join("jnlpba_genia_abstracts").join(split)).expect("pubmed_raw split"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).expect("abstract")))
        .collect()
}
