//! The model runtime: one model on one thread (libtorch state is not `Sync`), fed by any number of
//! callers through a channel; it batches the sentences of all pending requests by a token budget, sorted
//! by length, and implements [`Annotator`].

mod batch_planner;
mod document_preparation;
mod stage_timings;

pub use batch_planner::{plan_batches, plan_decode_groups};
pub use document_preparation::{PreparedDocument, SentenceChunk};
pub use stage_timings::{Stage, StageTimings};

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use sru_ner_schemas::{AnnotateError, Annotator, Entity};
use tch::Device;

use crate::encoder::{SubwordTokenizer, WordPoolingBatch};
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

/// How the runtime runs.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// CPU or a CUDA device.
    pub device: Device,
    /// Most tokens (sentences × longest sentence, in word pieces) in one encoder batch.
    pub token_budget: usize,
    /// Most sentences in one batch.
    pub max_batch_sentences: usize,
    /// libtorch intra-op threads (None: libtorch's default, one per core).
    pub threads: Option<i32>,
    /// The encoder's precision. `None` picks by machine ([`Precision::auto_for`]);
    /// [`ModelRuntime::precision`] says what was picked.
    pub precision: Option<Precision>,
    /// The precision of the head's decoding products and memory. `None` picks by device from the
    /// encoder's ([`Precision::decoding_on`]: the same on CUDA, fp32 on CPU).
    pub decoding_precision: Option<Precision>,
    /// Documents per model job within one `annotate` call: with a limit, the next slice is tokenized (on
    /// every core) while the model thread works on the previous one. `None`, the default, hands the whole
    /// call over at once, on every device: slices pay on neither. On 2 CPU cores the tokenizer threads
    /// take cores from the encoder (slices of 256 were 12 % slower end to end); on an H200 the model
    /// thread plans each slice's batches apart, so a call of 20,000 sentences made about twice as many
    /// small encoder batches, and slices of 256 ran 5,557 sentences/s against 7,985 for the whole call
    /// (benches/history.md).
    pub documents_per_job: Option<usize>,
    /// Most tokens (sentences × longest sentence, in word pieces) decoded in one loop: consecutive
    /// encoder batches, of similar lengths as they are sorted, are padded to one and decoded together
    /// ([`plan_decode_groups`]). `None` picks by device: on CUDA 4 × `token_budget`, because there a
    /// decoding step costs about the same whatever its rows (on an H200, BERT-large width, 20,000
    /// sentences: 2.26 s of decoding steps with each batch alone against 0.92 s at 4 ×; in another run,
    /// 0.65 s at 2 ×, 0.51 s at 4 × and at 8 ×; benches/history.md); on CPU 0, each batch
    /// alone, because there a step costs by its rows and their padding.
    pub decode_token_budget: Option<usize>,
}

/// Precision of inference (`--precision` of the commands that serve a model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// fp32, as trained.
    #[default]
    Fp32,
    /// bfloat16 weights and activations in the encoder (faster on GPUs; slower on the CPU, see
    /// [`Precision::auto_for`]), and on CUDA bfloat16 products and memory in the head's decoding too
    /// ([`Precision::decoding_on`]); its F1 cost on the dev sets is in benches/history.md.
    Bf16,
    /// int8 products in the encoder's linear layers but each feed-forward block's second (fbgemm, on
    /// CPUs with AVX2), everything else fp32. On a CPU without AVX512-BF16, `annotate` ran 1.19–1.30×
    /// as fast as in fp32; the default model's dev F1 fell by 0.07 over the five corpora and by 0.62 on
    /// NCBI-disease (benches/history.md), so auto never picks it. CPU only. Like bf16, a text's scores
    /// can move slightly with the other texts of its batch (one input scale per product).
    Int8,
}

impl Precision {
    /// What `--precision auto` serves on `device`: bf16 on a CPU with AVX512-BF16 and on CUDA when
    /// every GPU has compute capability 8.0 or more (Ampere and newer, whose tensor cores compute bf16:
    /// on an H200 the bf16 encoder was 8.8× as fast as fp32), fp32 elsewhere. On an AVX512-BF16 CPU
    /// (AMD Zen 4) the bulk job over whole abstracts ran 1.66× as fast in bf16. A CPU without it (AMD
    /// Zen 3) has no oneDNN bf16 kernels: libtorch then multiplies bf16 matrices in its own loops, and
    /// `sru-ner annotate` took 4.5× as long as in fp32 (benches/history.md). Older GPUs emulate bf16.
    ///
    /// ```
    /// use sru_ner::runtime::Precision;
    /// let picked = Precision::auto_for(tch::Device::Cpu);
    /// assert_eq!(picked == Precision::Bf16, Precision::cpu_computes_bf16());
    /// ```
    pub fn auto_for(device: Device) -> Self {
        match device {
            Device::Cpu if Self::cpu_computes_bf16() => Self::Bf16,
            Device::Cuda(_) if Self::gpus_compute_bf16() => Self::Bf16,
            _ => Self::Fp32,
        }
    }

    /// Whether this CPU has AVX512-BF16, the instructions oneDNN's bf16 matrix products run on. Without
    /// them libtorch falls back to its own bf16 products (`at::native::cpublas::gemm`), several times
    /// slower than fp32.
    pub fn cpu_computes_bf16() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512bf16")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// The precision the head decodes in when the encoder runs in `self` on `device`: the same on
    /// CUDA, where bf16 products run on tensor cores and halve the memory's traffic; fp32 on the CPU,
    /// where the step's products are small (rows × 384 by 384 × 768) and bf16 decoding was slower (the
    /// dev sets took 34 % longer, with the same spans, on a 2-core CPU without AVX512; not measured on
    /// an AVX512-BF16 CPU; benches/history.md).
    ///
    /// ```
    /// use sru_ner::runtime::Precision;
    /// assert_eq!(Precision::Bf16.decoding_on(tch::Device::Cpu), Precision::Fp32);
    /// assert_eq!(Precision::Bf16.decoding_on(tch::Device::Cuda(0)), Precision::Bf16);
    /// assert_eq!(Precision::Fp32.decoding_on(tch::Device::Cuda(0)), Precision::Fp32);
    /// ```
    pub fn decoding_on(self, device: Device) -> Self {
        if device.is_cuda() {
            self
        } else {
            Self::Fp32
        }
    }

    /// Whether NVML finds at least one GPU and each has compute capability 8.0 or more. Every GPU,
    /// not only the one used, because NVML's numbering need not be CUDA's (`CUDA_VISIBLE_DEVICES`,
    /// `CUDA_DEVICE_ORDER`). False where NVML cannot be loaded or asked; asked once per process.
    pub fn gpus_compute_bf16() -> bool {
        static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *ANSWER.get_or_init(|| {
            let capabilities = gpu_compute_capabilities().unwrap_or_default();
            !capabilities.is_empty() && capabilities.iter().all(|&(major, _)| major >= 8)
        })
    }

    /// Serves `model` in this precision: casts its encoder, and sets its decoding kind to
    /// `decoding`, or by device when `None` ([`Precision::decoding_on`]). What the runtime and
    /// `sru-ner eval` do with a loaded model.
    ///
    /// Fails for int8 off the CPU, or where fbgemm does not run (a CPU without AVX2).
    pub fn apply_to(self, model: &mut SruNerModel, decoding: Option<Precision>) -> crate::Result<()> {
        model.cast_encoder(self.kind());
        model.set_int8_encoder(self == Self::Int8)?;
        model.set_decoding_kind(decoding.unwrap_or_else(|| self.decoding_on(model.device())).kind());
        Ok(())
    }

    /// The tensor kind of its activations (see `SruNerModel::cast_encoder` and `set_decoding_kind`):
    /// int8 products take and give fp32.
    pub fn kind(self) -> tch::Kind {
        match self {
            Self::Fp32 | Self::Int8 => tch::Kind::Float,
            Self::Bf16 => tch::Kind::BFloat16,
        }
    }
}

/// The (major, minor) compute capability of each GPU NVML sees.
fn gpu_compute_capabilities() -> std::result::Result<Vec<(i32, i32)>, nvml_wrapper::error::NvmlError> {
    let nvml = nvml_wrapper::Nvml::init()?;
    (0..nvml.device_count()?)
        .map(|index| {
            let capability = nvml.device_by_index(index)?.cuda_compute_capability()?;
            Ok((capability.major, capability.minor))
        })
        .collect()
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
            Self::Int8 => "int8",
        })
    }
}

/// fp32 by default, as trained (the command line's default is `auto`: `precision: None`).
impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
            token_budget: 8192,
            max_batch_sentences: 256,
            threads: None,
            precision: Some(Precision::Fp32),
            decoding_precision: None,
            documents_per_job: None,
            decode_token_budget: None,
        }
    }
}

/// Resolves `auto`, `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(Device::cuda_if_available()),
        "cuda" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        _ => match name.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if (n as i64) < tch::Cuda::device_count() => Ok(Device::Cuda(n)),
            _ => Err(SruNerError::DeviceUnavailable(name.to_string())),
        },
    }
}

struct Job {
    sentences: Vec<Vec<Vec<u32>>>,
    reply: Sender<JobResult>,
}

/// The spans of a job's sentences, in order.
type JobResult = std::result::Result<Vec<Vec<DecodedSpan>>, AnnotateError>;

/// A running model; cheap to share (`Arc`) between threads. Dropping it stops the model thread.
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
            .map_err(|source| SruNerError::Io { path: PathBuf::from("<model thread>"), source })?;
        let (tokenizer, manifest) = ready_rx
            .recv()
            .map_err(|_| SruNerError::ModelDirectory { path: PathBuf::new(), reason: "the model thread died while loading".into() })??;
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

/// Spans for every sentence, in input order, batching by length.
pub fn annotate_sentences(
    model: &SruNerModel,
    sentences: &[&[Vec<u32>]],
    options: &RuntimeOptions,
    timings: &StageTimings,
) -> Vec<Vec<DecodedSpan>> {
    let lengths: Vec<usize> = sentences.iter().map(|s| s.iter().map(Vec::len).sum::<usize>() + 2).collect();
    let mut results: Vec<Vec<DecodedSpan>> = vec![Vec::new(); sentences.len()];
    let pooling = model.pooling();
    let batches = plan_batches(&lengths, options.token_budget, options.max_batch_sentences);
    let decode_budget = options.decode_token_budget.unwrap_or(if model.device().is_cuda() { 4 * options.token_budget } else { 0 });
    for group in plan_decode_groups(&batches, &lengths, decode_budget) {
        let start = Instant::now();
        let group_batches: Vec<WordPoolingBatch> = batches[group.clone()]
            .iter()
            .map(|indices| pooling.batch(&indices.iter().map(|&i| sentences[i]).collect::<Vec<_>>(), model.device()))
            .collect();
        timings.add(Stage::BatchBuild, start.elapsed());
        let (spans, profile) = model.decode_batches(&group_batches);
        timings.add(Stage::Encode, profile.encode);
        timings.add(Stage::DecodeSteps, profile.decode_steps);
        timings.add(Stage::SpanDecode, profile.span_decode);
        for (&i, s) in batches[group].iter().flatten().zip(spans) {
            results[i] = s;
        }
    }
    results
}
