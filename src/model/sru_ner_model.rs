use std::path::Path;
use std::time::{Duration, Instant};

use tch::{nn, Device, Kind, Tensor};

use super::{EncoderReference, ModelManifest};
use crate::corpus::CorpusSentence;
use crate::encoder::{load_hf_weights, BertConfig, BertEncoder, EncoderFiles, SubwordTokenizer, WordPooling, WordPoolingBatch};
use crate::error::{Result, SruNerError, TorchContext};
use crate::network::{HeadConfig, SruParser};
use crate::transition::{ActionVocabulary, DecodedSpan, SpanDecoder, Timestep, TransitionOracle, WordSpan};

/// Sentences longer than this many word pieces are split (model.md §3), or fewer if the encoder's
/// position table is shorter.
pub const MAX_WORD_PIECES: usize = 405;

/// A sentence ready for teacher forcing: the word pieces of each word, and the gold timesteps.
pub type GoldInput = (Vec<Vec<u32>>, Vec<Timestep>);

/// Where the time of one [`SruNerModel::decode_batches`] went.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchProfile {
    /// Encoder forward and word pooling.
    pub encode: Duration,
    /// The head's greedy decoding steps.
    pub decode_steps: Duration,
    /// Device → host copy and the span decoder.
    pub span_decode: Duration,
}

/// Encoder + SRU-NER head + type set, on one device.
pub struct SruNerModel {
    vs: nn::VarStore,
    encoder: BertEncoder,
    parser: SruParser,
    vocabulary: ActionVocabulary,
    tokenizer: SubwordTokenizer,
    manifest: ModelManifest,
    /// The base encoder's weights, to tell which encoder tensors training changed.
    base_encoder: std::path::PathBuf,
    /// The kind the encoder computes in (its activations), whatever the kind of its weights.
    encoder_compute: Kind,
    /// The kind of the head's products and memory at inference ([`SruNerModel::set_decoding_kind`]).
    decoding_compute: Kind,
    /// The span decoder's threshold for the TR/RE actions of a timestep (0.5, the paper's rule).
    action_threshold: f32,
}

impl std::fmt::Debug for SruNerModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SruNerModel").field("manifest", &self.manifest).finish_non_exhaustive()
    }
}

impl SruNerModel {
    /// A model with a freshly initialised head (seeded) on a pre-trained encoder: the starting point of
    /// training, and the stand-in default until a trained one exists.
    pub fn untrained(encoder: EncoderReference, types: Vec<String>, device: Device, seed: i64) -> Result<Self> {
        Self::untrained_with(encoder, types, device, seed, |_| {})
    }

    /// [`SruNerModel::untrained`] with the head's hyper-parameters adjusted by `configure`.
    pub fn untrained_with(
        encoder: EncoderReference,
        types: Vec<String>,
        device: Device,
        seed: i64,
        configure: impl FnOnce(&mut HeadConfig),
    ) -> Result<Self> {
        let files = EncoderFiles::locate(&encoder.resolve(None))?;
        let config = BertConfig::from_file(&files.config)?;
        let mut head = HeadConfig::new(config.hidden_size, types.len());
        configure(&mut head);
        let manifest = ModelManifest {
            format_version: 1,
            name: "sru-ner-untrained".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            trained: false,
            head,
            types,
            encoder,
            max_word_pieces: MAX_WORD_PIECES.min(config.max_position_embeddings as usize - 2),
            encoder_weights: None,
            trained_on: Vec::new(),
            description: format!("untrained head (seed {seed}) on the base encoder"),
        };
        Self::build(manifest, &files, device, seed)
    }

    /// Loads a model directory (see [`ModelManifest`]).
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let manifest = ModelManifest::read(dir)?;
        let files = EncoderFiles::locate(&manifest.encoder.resolve(Some(dir)))?;
        let encoder_weights = manifest.encoder_weights.as_ref().map(|f| dir.join(f));
        let model = Self::build(manifest, &files, device, 0)?;
        if let Some(path) = encoder_weights {
            model.copy_tensors(&path, "bert.", false)?;
        }
        model.copy_tensors(&dir.join("head.safetensors"), "head.", true)?;
        Ok(model)
    }

    fn build(manifest: ModelManifest, files: &EncoderFiles, device: Device, seed: i64) -> Result<Self> {
        let config = BertConfig::from_file(&files.config)?;
        if manifest.head.hidden_size != config.hidden_size {
            return Err(SruNerError::ModelDirectory {
                path: files.dir.clone(),
                reason: format!("head width {} does not match encoder width {}", manifest.head.hidden_size, config.hidden_size),
            });
        }
        let vocabulary = ActionVocabulary::new(manifest.types.clone());
        let vs = nn::VarStore::new(device);
        // Optimizer groups: 0 = encoder, 1 = head (model.md §3 trains them at different rates).
        let encoder = BertEncoder::new(&vs.root().set_group(0) / "bert", &config);
        tch::manual_seed(seed);
        let parser = SruParser::new(&vs.root().set_group(1) / "head", &manifest.head);
        load_hf_weights(&vs, &files.weights, "bert.")?;
        let tokenizer = SubwordTokenizer::from_file(&files.tokenizer)?;
        Ok(Self {
            vs,
            encoder,
            parser,
            vocabulary,
            tokenizer,
            manifest,
            base_encoder: files.weights.clone(),
            encoder_compute: Kind::Float,
            decoding_compute: Kind::Float,
            action_threshold: SpanDecoder::PAPER_ACTION_THRESHOLD,
        })
    }

    /// Copies the tensors of a safetensors file into the variables of the same name; with `require_all`,
    /// every variable under `prefix` must be in the file.
    fn copy_tensors(&self, path: &Path, prefix: &str, require_all: bool) -> Result<()> {
        let tensors = Tensor::read_safetensors(path).context(format!("reading {}", path.display()))?;
        let mut variables = self.vs.variables();
        variables.retain(|name, _| name.starts_with(prefix));
        let weights_error = |reason: String| SruNerError::Weights { path: path.to_path_buf(), reason };
        let mut found = 0;
        for (name, tensor) in &tensors {
            let Some(variable) = variables.get_mut(name) else {
                return Err(weights_error(format!("unexpected tensor {name}")));
            };
            if variable.size() != tensor.size() {
                return Err(weights_error(format!("{name} has shape {:?}, expected {:?}", tensor.size(), variable.size())));
            }
            tch::no_grad(|| variable.copy_(&tensor.to_kind(variable.kind()).to_device(variable.device())));
            found += 1;
        }
        if require_all && found != variables.len() {
            let mut missing: Vec<_> = variables.keys().filter(|k| !tensors.iter().any(|(n, _)| n == *k)).cloned().collect();
            missing.sort();
            return Err(weights_error(format!("missing tensors: {}", missing.join(", "))));
        }
        Ok(())
    }

    /// Saves the model directory: `manifest.json`, `head.safetensors`, and `encoder.safetensors` with the
    /// encoder tensors that differ from the base encoder (none for an untouched encoder). Tensors are
    /// stored in fp16 and read back into the model's precision.
    pub fn save(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| SruNerError::Io { path: dir.to_path_buf(), source })?;
        let variables = self.vs.variables();
        let half = |name: &String, t: &Tensor| (name.clone(), t.to_kind(Kind::Half).to_device(Device::Cpu));
        let mut head: Vec<(String, Tensor)> =
            variables.iter().filter(|(name, _)| name.starts_with("head.")).map(|(n, t)| half(n, t)).collect();
        head.sort_by(|a, b| a.0.cmp(&b.0));
        let path = dir.join("head.safetensors");
        Tensor::write_safetensors(&head, &path).context(format!("writing {}", path.display()))?;

        let base = Tensor::read_safetensors(&self.base_encoder).context(format!("reading {}", self.base_encoder.display()))?;
        let mut changed: Vec<(String, Tensor)> = Vec::new();
        for (name, base_tensor) in &base {
            let key = format!("bert.{}", name.strip_prefix("bert.").unwrap_or(name));
            if let Some(variable) = variables.get(&key) {
                let same = tch::no_grad(|| variable.to_device(Device::Cpu).to_kind(Kind::Float).equal(&base_tensor.to_kind(Kind::Float)));
                if !same {
                    changed.push(half(&key, variable));
                }
            }
        }
        let encoder_file = "encoder.safetensors";
        let encoder_path = dir.join(encoder_file);
        if changed.is_empty() {
            self.manifest.encoder_weights = None;
            if encoder_path.exists() {
                std::fs::remove_file(&encoder_path).map_err(|source| SruNerError::Io { path: encoder_path.clone(), source })?;
            }
        } else {
            changed.sort_by(|a, b| a.0.cmp(&b.0));
            Tensor::write_safetensors(&changed, &encoder_path).context(format!("writing {}", encoder_path.display()))?;
            self.manifest.encoder_weights = Some(encoder_file.into());
        }
        self.manifest.write(dir)
    }

    /// Keeps the word-embedding table fixed during training (it is then never saved: it equals the base).
    pub fn freeze_word_embeddings(&mut self) {
        if let Some(table) = self.vs.variables().get("bert.embeddings.word_embeddings.weight") {
            let _ = table.set_requires_grad(false);
        }
    }

    /// The manifest, to record provenance while training.
    pub fn manifest_mut(&mut self) -> &mut ModelManifest {
        &mut self.manifest
    }

    /// The manifest (name, types, provenance).
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// The action vocabulary of the model's type set.
    pub fn vocabulary(&self) -> &ActionVocabulary {
        &self.vocabulary
    }

    /// The encoder's sub-word tokenizer.
    pub fn tokenizer(&self) -> &SubwordTokenizer {
        &self.tokenizer
    }

    /// The device the model lives on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The variables, for training.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// The head, for training.
    pub fn parser(&self) -> &SruParser {
        &self.parser
    }

    /// A store sentence as the head's teacher-forced input (see [`GoldInput`]): word pieces per word, and the gold
    /// timesteps of its spans of the model's types (spans of other types are left out). `None` when the
    /// sentence has more than `max_word_pieces` pieces. `index` names the sentence in an oracle error.
    pub fn gold_input(&self, sentence: &CorpusSentence, index: usize) -> Result<Option<GoldInput>> {
        let words = sentence.word_texts();
        let pieces = self.tokenizer.word_pieces(&words.iter().map(String::as_str).collect::<Vec<_>>())?;
        if pieces.iter().map(Vec::len).sum::<usize>() > self.manifest.max_word_pieces {
            return Ok(None);
        }
        let vocabulary = &self.vocabulary;
        let spans: Vec<WordSpan> = sentence
            .spans
            .iter()
            .filter_map(|s| vocabulary.type_id(&s.label).map(|label| WordSpan { start: s.start_word, end: s.end_word, label }))
            .collect();
        let gold = TransitionOracle::new(vocabulary)
            .timesteps(&spans, words.len())
            .map_err(|source| SruNerError::Oracle { sentence: index, source })?;
        Ok(Some((pieces, gold)))
    }

    /// How sub-word batches are built for this encoder.
    pub fn pooling(&self) -> WordPooling {
        WordPooling { cls: self.tokenizer.cls(), sep: self.tokenizer.sep(), pad: self.tokenizer.pad() }
    }

    /// The encoder's last hidden states for a batch (B, T, d).
    pub fn encode(&self, batch: &WordPoolingBatch, train: bool) -> Tensor {
        self.encoder.forward_in(&batch.input_ids, &batch.attention_mask, self.encoder_compute, train)
    }

    /// The sentence matrices S (B, Q, d), in fp32: encoder output max-pooled into CLS, word and SEP slots.
    pub fn sentence_matrix(&self, batch: &WordPoolingBatch, train: bool) -> Tensor {
        self.sentence_matrix_in(batch, train, Kind::Float)
    }

    /// S in `kind`. A bf16 encoder pools in bf16 and converts once: the max of bf16 values converted is
    /// the converted max (the conversion is exact and monotone), and a word has one value to convert
    /// where it had one per word piece.
    fn sentence_matrix_in(&self, batch: &WordPoolingBatch, train: bool, kind: Kind) -> Tensor {
        batch.pool(&self.encode(batch, train)).to_kind(kind)
    }

    /// Casts the encoder's weights to `kind` (`Kind::BFloat16` for faster inference on GPUs;
    /// `Kind::Float` to go back). For inference only: the cast rounds the weights, so its F1 cost must
    /// be measured (benches/history.md gives it for the default model).
    pub fn cast_encoder(&mut self, kind: Kind) {
        self.encoder_compute = kind;
        tch::no_grad(|| {
            for (name, mut variable) in self.vs.variables() {
                if name.starts_with("bert.") && variable.is_floating_point() && variable.kind() != kind {
                    variable.set_data(&variable.to_kind(kind));
                }
            }
        });
    }

    /// Serves the encoder with int8 products in its linear layers but each feed-forward block's second
    /// ([`BertEncoder::set_int8`]), or without (`false`). For inference on the CPU only, like
    /// [`SruNerModel::cast_encoder`]; its F1 cost and speed are in benches/history.md.
    pub fn set_int8_encoder(&mut self, int8: bool) -> Result<()> {
        if int8 && self.device() != Device::Cpu {
            return Err(SruNerError::PrecisionUnavailable {
                precision: "int8".into(),
                device: format!("{:?}", self.device()),
                reason: "its products (fbgemm) run on the CPU only".into(),
            });
        }
        self.encoder.set_int8(int8)
    }

    /// Runs the head's decoding products and its memory C in `kind` (fp32 unless set). The head's
    /// weights stay fp32 and are converted once per batch; its logits are fp32 at every step, so the
    /// action probabilities, the decisions and the write-back weights ω are fp32 arithmetic. For
    /// inference only, like [`SruNerModel::cast_encoder`]; [`crate::runtime::Precision::decoding_on`]
    /// says where bf16 pays.
    pub fn set_decoding_kind(&mut self, kind: Kind) {
        self.decoding_compute = kind;
    }

    /// Runs the encoder's activations in `kind` while its weights stay as they are: for training in
    /// mixed precision (`Kind::BFloat16` compute on fp32 master weights, which get fp32 gradients).
    /// [`SruNerModel::cast_encoder`] casts the weights as well, for inference.
    pub fn set_encoder_compute_kind(&mut self, kind: Kind) {
        self.encoder_compute = kind;
    }

    /// Decodes with this threshold for the `TR`/`RE` actions of a timestep instead of the paper's 0.5
    /// ([`SpanDecoder::with_action_threshold`]): a diagnostic of `sru-ner eval`, whose effect on the
    /// GENIA dev set is in experiments/README.md.
    pub fn set_action_threshold(&mut self, threshold: f32) {
        self.action_threshold = threshold;
    }

    /// The threshold the span decoder takes `TR`/`RE` actions above (0.5 unless set).
    pub fn action_threshold(&self) -> f32 {
        self.action_threshold
    }

    /// Waits for queued device work, so that wall-clock stage times are real on CUDA.
    fn synchronize(&self) {
        if let Device::Cuda(index) = self.device() {
            tch::Cuda::synchronize(index as i64);
        }
    }

    /// Greedy decoding of a batch into spans, one list per sentence (inference mode, no gradients),
    /// with the time each stage took.
    pub fn decode_batch(&self, batch: &WordPoolingBatch) -> (Vec<Vec<DecodedSpan>>, BatchProfile) {
        self.decode_batches(std::slice::from_ref(batch))
    }

    /// Greedy decoding of several encoder batches in one decoding loop: their sentence matrices are
    /// padded to the longest and stacked, so the loop runs once for all of their rows. On CUDA a
    /// step costs by its kernel launches, not its rows, so decoding 4 batches together takes about
    /// the time of one; on CPU a step costs by its rows and padding, and the runtime decodes each batch
    /// alone. Spans come back in the order of the batches' sentences.
    pub fn decode_batches(&self, batches: &[WordPoolingBatch]) -> (Vec<Vec<DecodedSpan>>, BatchProfile) {
        if batches.is_empty() {
            return (Vec::new(), BatchProfile::default());
        }
        let _no_grad = tch::no_grad_guard();
        let start = Instant::now();
        let sentences: Vec<Tensor> = batches.iter().map(|batch| self.sentence_matrix_in(batch, false, self.decoding_compute)).collect();
        let (sentence, slot_mask) = if let [batch] = batches {
            (sentences[0].shallow_clone(), batch.slot_mask.shallow_clone())
        } else {
            // Padded to the group's most slots; padding slots are masked, so no sentence's result changes.
            let slots = sentences.iter().map(|s| s.size()[1]).max().unwrap_or(0);
            let padded: Vec<Tensor> = sentences.iter().map(|s| s.constant_pad_nd([0, 0, 0, slots - s.size()[1]])).collect();
            let masks: Vec<Tensor> = batches.iter().map(|b| b.slot_mask.constant_pad_nd([0, slots - b.slot_mask.size()[1]])).collect();
            (Tensor::cat(&padded, 0), Tensor::cat(&masks, 0))
        };
        let n_words: Vec<usize> = batches.iter().flat_map(|b| b.n_words.iter().copied()).collect();
        self.synchronize();
        let encode = start.elapsed();
        let check_every = if self.device().is_cuda() { 8 } else { 1 };
        let decoding = self.parser.decode_greedy(&sentence, &slot_mask, &n_words, check_every);
        self.synchronize();
        let decode_steps = start.elapsed() - encode;
        let probabilities = decoding.probabilities.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
        let (_, t, a) = probabilities.size3().expect("probabilities are (B, T, A)");
        let flat: Vec<f32> = Vec::try_from(probabilities.flatten(0, -1)).unwrap_or_default();
        let decoder = SpanDecoder::new(&self.vocabulary).with_action_threshold(self.action_threshold);
        let (t, a) = (t as usize, a as usize);
        let spans = n_words
            .iter()
            .zip(&decoding.steps)
            .enumerate()
            .map(|(b, (&n, &cap))| {
                let rows = &flat[b * t * a..(b * t + t.min(cap)) * a];
                decoder.decode(rows.chunks(a), n)
            })
            .collect();
        let span_decode = start.elapsed() - encode - decode_steps;
        (spans, BatchProfile { encode, decode_steps, span_decode })
    }
}
