//! Helpers shared by the integration tests: where the encoder, the Python of `.venv` and `../shared` are.
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

/// `../shared/data/<sub>` if present; otherwise prints why the test is skipped and returns None. Under
/// CI (`CI` set and not `false`), where `../shared` is always beside the checkout, an absent folder
/// fails the test instead, so that a test cannot pass by skipping.
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    let path = repo().join("../shared/data").join(sub);
    if path.exists() {
        return Some(path);
    }
    let why = format!("{} is absent (the real corpora live in ../shared beside the checkout)", path.display());
    if std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false") {
        panic!("{why}; under CI the shared data must be there");
    }
    eprintln!("SKIPPED: {why}");
    None
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

/// Chemicals the fixture model learns to tag (as `Chemical`), in template sentences.
pub const FIXTURE_CHEMICALS: &[&str] =
    &["aspirin", "cisplatin", "dopamine", "insulin", "heparin", "caffeine", "nicotine", "warfarin", "ibuprofen", "morphine"];
const FIXTURE_TEMPLATES: &[&str] = &[
    "Treatment with X reduced fever in mice .",
    "The patients received X and Y daily .",
    "We measured the effect of X on blood pressure .",
    "Both X and Y were given to healthy volunteers .",
    "X inhibits the growth of tumour cells in vitro .",
    "Levels of X rose after the first week .",
];

/// A template sentence with its words and the word spans of the chemicals in it.
pub fn fixture_sentence(template: usize, x: usize, y: usize) -> (Vec<String>, Vec<(usize, usize)>) {
    let mut spans = Vec::new();
    let words: Vec<String> = FIXTURE_TEMPLATES[template % FIXTURE_TEMPLATES.len()]
        .split(' ')
        .enumerate()
        .map(|(i, w)| match w {
            "X" | "Y" => {
                spans.push((i, i + 1));
                FIXTURE_CHEMICALS[if w == "X" { x } else { y } % FIXTURE_CHEMICALS.len()].to_string()
            }
            w => w.to_string(),
        })
        .collect();
    (words, spans)
}

/// The variable naming the folder [`fixture_model_is_trained_in_a_process_of_its_own`] saves to.
const FIXTURE_DIR_VARIABLE: &str = "SRU_NER_TEST_FIXTURE_DIR";

/// A real model directory, trained here: the default encoder (frozen) and a head trained by teacher
/// forcing to tag the chemicals of [`FIXTURE_CHEMICALS`] in template sentences. Built once per test
/// binary (about 10 s on 2 cores).
///
/// It is trained in a child process (this test binary running only
/// [`fixture_model_is_trained_in_a_process_of_its_own`]): torch's random generator is global, and tests
/// running beside an in-process training drew from it between its seeding and its dropout masks, so
/// every run trained a different head (on a 108,000-character line, six runs found 94 to 459 entities).
pub fn trained_model_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        remove_fixtures_of_finished_runs();
        let dir = std::env::temp_dir().join(format!("{FIXTURE_PREFIX}{}", std::process::id()));
        let output = std::process::Command::new(std::env::current_exe().expect("the test binary's path"))
            .args(["--exact", "common::fixture_model_is_trained_in_a_process_of_its_own", "--ignored", "--nocapture"])
            .env(FIXTURE_DIR_VARIABLE, &dir)
            .output()
            .expect("running the test binary to train the fixture model");
        assert!(
            output.status.success() && dir.join("manifest.json").is_file(),
            "training the fixture model failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        dir
    })
    .clone()
}

/// The fixture's folder in the temporary directory: this prefix and the test process's id.
const FIXTURE_PREFIX: &str = "sru-ner-fixture-";

/// Removes the fixture folders of test processes that no longer run (on Linux, where `/proc` says), so
/// that test runs do not pile them up in the temporary directory.
fn remove_fixtures_of_finished_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(FIXTURE_PREFIX)).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| cfg!(target_os = "linux") && !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Trains the fixture model into the folder named by `SRU_NER_TEST_FIXTURE_DIR`, alone in its process
/// (see [`trained_model_dir`]); run without it, it trains into a temporary folder and loads the result.
#[test]
#[ignore = "run by trained_model_dir() in a process of its own"]
fn fixture_model_is_trained_in_a_process_of_its_own() {
    match std::env::var_os(FIXTURE_DIR_VARIABLE) {
        Some(dir) => train_fixture_model(Path::new(&dir)),
        None => {
            let dir = tempfile::tempdir().unwrap();
            train_fixture_model(dir.path());
            sru_ner::model::SruNerModel::load(dir.path(), tch::Device::Cpu).expect("the fixture model loads");
        }
    }
}

/// The training behind [`trained_model_dir`]: 150 teacher-forced steps of 16 template sentences.
fn train_fixture_model(dir: &Path) {
    use sru_ner::model::{EncoderReference, SruNerModel, DEFAULT_TYPES};
    use sru_ner::network::{GoldActions, ShiftTarget};
    use sru_ner::transition::{TransitionOracle, WordSpan};
    use tch::{nn::OptimizerConfig, Device};

    let types: Vec<String> = DEFAULT_TYPES.iter().map(|t| t.to_string()).collect();
    let mut model = SruNerModel::untrained(EncoderReference::Default, types, Device::Cpu, 11).expect("default encoder");
    let chemical = model.vocabulary().type_id("Chemical").unwrap();
    let oracle = TransitionOracle::new(model.vocabulary());
    let a = model.vocabulary().len();
    let mut optimizer = tch::nn::Adam::default().build(model.var_store(), 3e-3).unwrap();
    tch::manual_seed(5);
    for step in 0..150 {
        // 16 sentences; chemicals 0..8 only (8 and 9 are held out for the tests).
        let batch: Vec<_> = (0..16).map(|i| fixture_sentence(step + i, (step * 3 + i) % 8, (step + 5 * i) % 8)).collect();
        let pieces: Vec<Vec<Vec<u32>>> =
            batch.iter().map(|(w, _)| model.tokenizer().word_pieces(&w.iter().map(String::as_str).collect::<Vec<_>>()).unwrap()).collect();
        let refs: Vec<&[Vec<u32>]> = pieces.iter().map(Vec::as_slice).collect();
        let encoded = model.pooling().batch(&refs, Device::Cpu);
        let s = tch::no_grad(|| model.sentence_matrix(&encoded, false));
        let timesteps: Vec<_> = batch
            .iter()
            .map(|(w, spans)| {
                let spans: Vec<WordSpan> = spans.iter().map(|&(start, end)| WordSpan { start, end, label: chemical }).collect();
                oracle.timesteps(&spans, w.len()).unwrap()
            })
            .collect();
        let sequences: Vec<&[sru_ner::transition::Timestep]> = timesteps.iter().map(Vec::as_slice).collect();
        let gold = GoldActions::fully_annotated(&sequences, a, Device::Cpu);
        let out = model.parser().forward_teacher_forced(&s, &encoded.slot_mask, &encoded.n_words, &gold, ShiftTarget::Hard, true);
        optimizer.backward_step(&out.loss());
    }
    model.save(dir).expect("saving the fixture model");
}

/// The committed default model (`models/default`).
pub fn default_model_dir() -> PathBuf {
    repo().join("models/default")
}

/// Writes a Parquet table of the first `limit` `pubmed_raw` abstracts (columns pmid, muid, split, title,
/// abstract) with `scripts/abstracts_to_parquet.py`, as a user following the README would.
pub fn pubmed_parquet(path: &Path, limit: usize, row_group_size: usize) {
    let status = std::process::Command::new(python())
        .arg(repo().join("scripts/abstracts_to_parquet.py"))
        .args(["--limit", &limit.to_string(), "--row-group-size", &row_group_size.to_string()])
        .arg(path)
        .status()
        .expect("running scripts/abstracts_to_parquet.py");
    assert!(status.success(), "scripts/abstracts_to_parquet.py failed");
}

/// A port that was free a moment ago on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// Waits (at most 60 s) until something listens on loopback `port`; `what` names it in the failure.
pub fn wait_for_port(port: u16, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "{what} did not listen on port {port} within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
