//! The serving thread: one model on one thread (libtorch state is not `Sync`), fed by any number of
//! callers through a channel. [`ModelRuntime`] owns the thread, tokenizes on the caller's side and
//! implements [`Annotator`].
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use sru_ner_schemas::{AnnotateError, Annotator, Entity};

use super::document_preparation::PreparedDocument;
use super::inference::annotate_sentences;
use super::precision::Precision;
use super::runtime_options::RuntimeOptions;
use super::stage_timings::{Stage, StageTimings};
use crate::encoder::SubwordTokenizer;
use crate::error::{Result, SruNerError};
use crate::model::{EncoderReference, ModelManifest, SruNerModel, DEFAULT_TYPES};
use crate::transition::DecodedSpan;

/// Which model the runtime serves.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// A model directory.
    Directory(PathBuf),
    /// An untrained head (seed 0) over the default encoder and the 8 default types: only for trying the
    /// plumbing; its entities are not meaningful.
    UntrainedDefault,
}

struct Job {
    sentences: Vec<Vec<Vec<u32>>>,
    reply: Sender<JobResult>,
}

/// The spans of a job's sentences, in order.
type JobResult = std::result::Result<Vec<Vec<DecodedSpan>>, AnnotateError>;

/// A running model; cheap to share (`Arc`) between threads. Dropping it stops the model thread.
///
/// ```
/// use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
/// use sru_ner::Annotator;
///
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default");
/// let runtime = ModelRuntime::start(ModelSource::Directory(dir), RuntimeOptions::default())?;
/// let text = "Aspirin reduced the risk of myocardial infarction.";
/// let entities = runtime.annotate(&[text])?.remove(0);
/// let labelled: Vec<(&str, &str)> = entities.iter().map(|e| (e.text.as_str(), e.label.as_str())).collect();
/// assert!(labelled.contains(&("Aspirin", "Chemical")), "{labelled:?}");
/// assert!(labelled.contains(&("myocardial infarction", "Disease")), "{labelled:?}");
/// // Offsets count characters of the text, end exclusive.
/// let disease = entities.iter().find(|e| e.label == "Disease").unwrap();
/// assert_eq!(text.chars().skip(disease.start).take(disease.end - disease.start).collect::<String>(), disease.text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ModelRuntime {
    jobs: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    tokenizer: SubwordTokenizer,
    manifest: ModelManifest,
    model_id: String,
    timings: Arc<StageTimings>,
    documents_per_job: usize,
    precision: Precision,
}

impl ModelRuntime {
    /// Loads the model on its own thread and starts serving.
    pub fn start(source: ModelSource, options: RuntimeOptions) -> Result<Self> {
        let (ready_tx, ready_rx) = bounded::<Result<(SubwordTokenizer, ModelManifest)>>(1);
        let (jobs_tx, jobs_rx) = unbounded::<Job>();
        let precision = options.precision.unwrap_or_else(|| Precision::auto_for(options.device));
        let documents_per_job = options.documents_per_job.unwrap_or(usize::MAX).max(1);
        let timings = Arc::new(StageTimings::default());
        let thread_timings = Arc::clone(&timings);
        let thread = std::thread::Builder::new()
            .name("sru-ner-model".into())
            .spawn(move || {
                flush_denormals_to_zero();
                if let Some(n) = options.threads {
                    tch::set_num_threads(n);
                }
                let model = match source {
                    ModelSource::Directory(dir) => SruNerModel::load(&dir, options.device),
                    ModelSource::UntrainedDefault => SruNerModel::untrained(
                        EncoderReference::Default,
                        DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(),
                        options.device,
                        0,
                    ),
                };
                let model = model.and_then(|mut model| precision.apply_to(&mut model, options.decoding_precision).map(|()| model));
                match model {
                    Ok(model) => {
                        let _ = ready_tx.send(Ok((model.tokenizer().clone(), model.manifest().clone())));
                        serve(&model, &jobs_rx, &options, &thread_timings);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|source| SruNerError::ThreadSpawn { thread: "model", source })?;
        let (tokenizer, manifest) = ready_rx.recv().map_err(|_| SruNerError::ModelThreadEnded)??;
        Ok(Self {
            jobs: Mutex::new(Some(jobs_tx)),
            thread: Mutex::new(Some(thread)),
            tokenizer,
            model_id: manifest.model_id(),
            manifest,
            timings,
            documents_per_job,
            precision,
        })
    }

    /// The served model's manifest.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// The precision served, as asked or as picked by [`Precision::auto_for`].
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Time spent so far in each stage.
    pub fn timings(&self) -> &StageTimings {
        &self.timings
    }

    /// Splits documents into sentence chunks with word pieces, in parallel on rayon's pool (every core
    /// unless the caller installs a smaller pool).
    pub fn prepare(&self, texts: &[&str]) -> std::result::Result<Vec<PreparedDocument>, AnnotateError> {
        let start = Instant::now();
        let prepared = PreparedDocument::prepare_all(texts, &self.tokenizer, self.manifest.max_word_pieces)
            .map_err(|e| AnnotateError::Model(e.to_string()));
        self.timings.add(Stage::Tokenize, start.elapsed());
        prepared
    }

    /// Hands `sentences` to the model thread; the receiver gets their spans.
    fn submit(&self, sentences: Vec<Vec<Vec<u32>>>) -> std::result::Result<Receiver<JobResult>, AnnotateError> {
        let (reply, answer) = bounded(1);
        let sender = self.jobs.lock().ok().and_then(|j| j.clone());
        let sender = sender.ok_or_else(|| AnnotateError::RuntimeStopped("shut down".into()))?;
        sender.send(Job { sentences, reply }).map_err(|_| AnnotateError::RuntimeStopped("model thread ended".into()))?;
        Ok(answer)
    }

    /// Stops accepting work and waits for the model thread to finish what it has.
    pub fn shutdown(&self) {
        self.jobs.lock().map(|mut j| j.take()).ok();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

impl Drop for ModelRuntime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Annotator for ModelRuntime {
    fn annotate(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<Entity>>, AnnotateError> {
        // Slice by slice: tokenize, hand the pieces to the model thread, and go on to the next slice
        // while the model works; then collect the answers in order.
        let mut submitted = Vec::new();
        for slice in texts.chunks(self.documents_per_job) {
            let mut documents = self.prepare(slice)?;
            // The pieces move to the model thread; mapping back needs only each chunk's first word.
            let sentences: Vec<Vec<Vec<u32>>> =
                documents.iter_mut().flat_map(|d| d.chunks.iter_mut().map(|c| std::mem::take(&mut c.pieces))).collect();
            let answer = if sentences.is_empty() { None } else { Some(self.submit(sentences)?) };
            submitted.push((slice, documents, answer));
        }
        let mut entities = Vec::with_capacity(texts.len());
        for (slice, documents, answer) in submitted {
            let spans = match answer {
                None => Vec::new(),
                Some(answer) => answer.recv().map_err(|_| AnnotateError::RuntimeStopped("model thread ended".into()))??,
            };
            let start = Instant::now();
            let mut spans = spans.into_iter();
            for (text, document) in slice.iter().zip(&documents) {
                let per_chunk: Vec<Vec<DecodedSpan>> = spans.by_ref().take(document.chunks.len()).collect();
                entities.push(document.entities(text, &per_chunk, self.manifest.types.as_slice()));
            }
            self.timings.add(Stage::MapOffsets, start.elapsed());
        }
        Ok(entities)
    }

    fn model_id(&self) -> &str {
        &self.model_id
    }
}

/// Sets flush-to-zero and denormals-are-zero on this thread (what `torch.set_flush_denormal(True)` does),
/// before libtorch starts its worker threads from it, which inherit the setting. A fine-tuned model's
/// sharp attention produces subnormal floats that are many times slower on x86 CPUs; values below
/// 1.2e-38 become 0, which changes no result that matters.
fn flush_denormals_to_zero() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    // SAFETY: only the FTZ (bit 15) and DAZ (bit 6) flags of this thread's MXCSR register change.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

/// The model thread: take every pending job, batch their sentences together, answer each job.
fn serve(model: &SruNerModel, jobs: &Receiver<Job>, options: &RuntimeOptions, timings: &StageTimings) {
    while let Ok(first) = jobs.recv() {
        let mut pending = vec![first];
        let mut n_sentences = pending[0].sentences.len();
        while n_sentences < 4 * options.max_batch_sentences {
            match jobs.try_recv() {
                Ok(job) => {
                    n_sentences += job.sentences.len();
                    pending.push(job);
                }
                Err(_) => break,
            }
        }
        let all: Vec<&[Vec<u32>]> = pending.iter().flat_map(|j| j.sentences.iter().map(Vec::as_slice)).collect();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| annotate_sentences(model, &all, options, timings))).map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            AnnotateError::Model(message)
        });
        match result {
            Ok(mut spans) => {
                for job in pending.into_iter().rev() {
                    let mine = spans.split_off(spans.len() - job.sentences.len());
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(error) => {
                for job in pending {
                    let _ = job.reply.send(Err(AnnotateError::Model(error.to_string())));
                }
            }
        }
    }
}
