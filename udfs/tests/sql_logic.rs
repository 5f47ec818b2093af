//! The SQL behaviour of `sru_ner(text)` (`tests/sql/*.slt`), on a stand-in annotator that tags a fixed
//! word list: no model, no libtorch. The root crate runs the same runner on the real model.
#[path = "support/slt_runner.rs"]
mod slt_runner;

use std::path::Path;
use std::sync::Arc;

use sru_ner_schemas::test_util::LexiconAnnotator;

#[test]
fn sru_ner_in_sql() {
    let lexicon = LexiconAnnotator::new(&[
        ("Aspirin", "Chemical"),
        ("myocardial infarction", "Disease"),
        ("infarction", "Disease"),
        ("diabetes", "Disease"),
        ("Interleukin-2", "Gene_or_protein"),
        ("T cells", "Cell_Type"),
        ("naïve", "Cell_Type"),
    ])
    .failing_on("FAIL");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/sru_ner.slt");
    slt_runner::run_slt(&path, Arc::new(lexicon), Vec::new());
}
