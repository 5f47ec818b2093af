use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use tch::Device;

use super::batching::{plan_epoch, CorpusSampler, ExampleId, PlannedBatch, SentenceSampler};
use super::{AdamW, AdamWConfig, CorpusSpec, LinearWarmupDecay, TrainingConfig};
use crate::corpus::{CorpusSentence, CorpusStore};
use crate::error::{Result, SruNerError};
use crate::evaluation::{evaluate, Scoring};
use crate::model::SruNerModel;
use crate::network::{GoldActions, ShiftTarget, TeacherForcedOutput};
use crate::runtime::RuntimeOptions;
use crate::transition::{inner_actions, Timestep};

/// One line of `<output>/metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch, counted from 1.
    pub epoch: usize,
    /// Optimizer steps in the epoch.
    pub steps: usize,
    /// Mean training loss over the epoch's steps.
    pub train_loss: f64,
    /// Dev F1 per corpus (disjoint mode), then their mean weighted by gold mentions.
    pub dev_f1: Vec<(String, f64)>,
    /// The mention-weighted mean of `dev_f1`: what picks the best epoch.
    pub dev_f1_weighted: f64,
    /// Wall time of the epoch, dev evaluation included.
    pub seconds: f64,
    /// Whether this epoch was the best so far (and saved as the model directory).
    pub best: bool,
    /// Training sentences per second of the epoch's steps (dev evaluation left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_sentences_per_second: Option<f64>,
    /// Share of the steps' time per stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_shares: Option<StageShares>,
}

/// Share of a training epoch's step time per stage (they add up to 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageShares {
    /// Building the batch tensors.
    pub prepare: f64,
    /// The encoder's forward pass.
    pub encoder_forward: f64,
    /// The head's teacher-forced pass and the loss.
    pub head_forward: f64,
    /// Back-propagation through head and encoder.
    pub backward: f64,
    /// Gradient clipping and the AdamW update.
    pub optimizer: f64,
}

/// What the training job reports while it runs, for the caller to draw progress from.
#[derive(Debug)]
pub enum TrainingEvent<'a> {
    /// An epoch starts.
    EpochStarted {
        /// The epoch, counted from 1.
        epoch: usize,
        /// Epochs in the run's schedule.
        epochs: usize,
        /// Steps in this epoch.
        steps: usize,
    },
    /// A step of the epoch is done.
    Step {
        /// The epoch, counted from 1.
        epoch: usize,
        /// The step, counted from 1.
        step: usize,
        /// Steps in this epoch.
        steps: usize,
        /// The epoch's mean training loss so far.
        mean_loss: f64,
        /// Training sentences per second so far in this epoch.
        sentences_per_second: f64,
    },
    /// The epoch is done: dev scored, its metrics line appended, checkpoint (and best model) saved.
    EpochFinished(&'a EpochMetrics),
}

/// How one invocation of the training job runs.
#[derive(Debug, Clone, Copy)]
pub struct TrainRun {
    /// Where the model trains.
    pub device: Device,
    /// Continue from `<output>/checkpoint`: weights, optimizer moments and epoch count.
    pub resume: bool,
    /// Stop after this many epochs of this run (continue later with `resume`).
    pub stop_after_epochs: Option<usize>,
}

/// `<output>/checkpoint/trainer_state.json`: where to resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainerState {
    epochs_done: usize,
    best_f1: f64,
    epochs_without_improvement: usize,
}

/// A training sentence ready for batching.
struct Example {
    pieces: Vec<Vec<u32>>,
    gold: Vec<Timestep>,
    /// Per gold timestep, the actions that would nest a mention the corpus leaves unannotated inside a
    /// gold one (`unannotated_inside`; else empty).
    inner: Vec<Timestep>,
    corpus: usize,
}

impl Example {
    /// Whether the sentence holds a gold mention the run trains on: some timestep opens a span (`TR`
    /// and `RE` are the actions from 2 on).
    fn has_mention(&self) -> bool {
        self.gold.iter().flatten().any(|&action| action >= 2)
    }
}

struct TrainingCorpus {
    name: String,
    examples: Vec<Example>,
    dev: Vec<CorpusSentence>,
    /// 1.0 for the TR/RE actions of types this corpus does not annotate.
    foreign: Vec<f32>,
    /// How dev predictions are scored: on the outermost ones where the corpus leaves mentions
    /// unannotated inside its own, since a right nested prediction has no gold there.
    dev_scoring: Scoring,
}

/// Where the time of training steps went (summed over steps).
#[derive(Debug, Clone, Copy, Default)]
pub struct StepProfile {
    /// Sampling's result into tensors: padded word pieces, gold timesteps, foreign masks.
    pub prepare: Duration,
    /// Encoder forward and word pooling.
    pub encoder_forward: Duration,
    /// The head's teacher-forced steps and the loss.
    pub head_forward: Duration,
    /// Back-propagation through head and encoder.
    pub backward: Duration,
    /// Gradient clipping and the AdamW update.
    pub optimizer: Duration,
}

impl StepProfile {
    /// The time of all stages.
    pub fn total(&self) -> Duration {
        self.prepare + self.encoder_forward + self.head_forward + self.backward + self.optimizer
    }
}

impl std::ops::AddAssign for StepProfile {
    fn add_assign(&mut self, other: StepProfile) {
        self.prepare += other.prepare;
        self.encoder_forward += other.encoder_forward;
        self.head_forward += other.head_forward;
        self.backward += other.backward;
        self.optimizer += other.optimizer;
    }
}

/// What one training step did.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// The batch's loss (mean over its counted timesteps).
    pub loss: f64,
    /// Sentences in the batch.
    pub sentences: usize,
    /// Word pieces in the batch, `[CLS]` and `[SEP]` included, padding not.
    pub tokens: usize,
    /// Where its time went.
    pub profile: StepProfile,
}

/// A training run between steps: the model, the prepared corpora, the optimizer and where the run
/// stands. [`train`] drives it epoch by epoch; the training benchmark drives single steps.
pub struct TrainingJob {
    config: TrainingConfig,
    model: SruNerModel,
    corpora: Vec<TrainingCorpus>,
    /// Which corpus each drawn sentence comes from (`[[corpora]] weight`).
    corpus_sampler: CorpusSampler,
    /// How each corpus's sentences are drawn (`empty_sentence_weight`).
    samplers: Vec<SentenceSampler>,
    optimizer: AdamW,
    schedules: [LinearWarmupDecay; 2],
    steps_per_epoch: usize,
    state: TrainerState,
    device: Device,
}

impl TrainingJob {
    /// Loads the corpora of `config` from its store and builds the model (a fresh head, or with
    /// `resume` the model and optimizer of `<output>/checkpoint` when there is one).
    pub fn new(config: &TrainingConfig, device: Device, resume: bool) -> Result<Self> {
        let store = CorpusStore::new(&config.store);
        let mut loaded = Vec::new();
        for spec in &config.corpora {
            let mut train = store.read(&spec.name, &spec.train)?;
            let dev = store.read(&spec.name, &spec.dev)?;
            if train.is_empty() || dev.is_empty() {
                return Err(SruNerError::Config {
                    path: config.store.clone(),
                    reason: format!("corpus {} has no {} or no {} sentences in the store", spec.name, spec.train, spec.dev),
                });
            }
            train.truncate(config.max_train_sentences.unwrap_or(usize::MAX));
            let dev = evenly_spaced(dev, config.max_dev_sentences.unwrap_or(usize::MAX));
            loaded.push((spec.name.clone(), train, dev));
        }
        let types = if config.types.is_empty() {
            let mut types: Vec<String> = Vec::new();
            for t in loaded.iter().flat_map(|(_, train, _)| train.first().map(|s| s.types.clone()).unwrap_or_default()) {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            types
        } else {
            config.types.clone()
        };

        let checkpoint = config.output.join("checkpoint");
        let fresh = TrainerState { epochs_done: 0, best_f1: f64::NEG_INFINITY, epochs_without_improvement: 0 };
        let (mut model, state) = if resume && checkpoint.join("trainer_state.json").is_file() {
            let state: TrainerState = read_json(&checkpoint.join("trainer_state.json"))?;
            (SruNerModel::load(&checkpoint, device)?, state)
        } else if let Some(init) = &config.init_from {
            let trained = SruNerModel::load(init, device)?;
            let trained_types = trained.vocabulary().types();
            if trained_types == types.as_slice() {
                (trained, fresh)
            } else if types.starts_with(trained_types) {
                let model = fresh_model(config, &types, device)?;
                extend_weights(&trained, &model);
                (model, fresh)
            } else {
                return Err(SruNerError::Config {
                    path: init.clone(),
                    reason: format!("init_from's types {trained_types:?} are neither the config's {types:?} nor their first ones"),
                });
            }
        } else {
            (fresh_model(config, &types, device)?, fresh)
        };
        if model.vocabulary().types() != types.as_slice() {
            return Err(SruNerError::Config {
                path: checkpoint,
                reason: format!("the checkpoint's types {:?} differ from the config's {:?}", model.vocabulary().types(), types),
            });
        }
        if config.freeze_word_embeddings {
            model.freeze_word_embeddings();
        }
        model.set_encoder_compute_kind(config.encoder_precision.kind());
        let manifest = model.manifest_mut();
        manifest.name = config.name.clone();
        manifest.trained_on = config.corpora.iter().map(|c| format!("{}:{}", c.name, c.train)).collect();

        let corpora = prepare_corpora(&model, loaded, &config.corpora, &config.store)?;
        let epoch_sentences =
            config.epoch_sentences.unwrap_or_else(|| corpora.iter().map(|c| c.examples.len()).sum::<usize>() / corpora.len());
        let steps_per_epoch = epoch_sentences.div_ceil(config.batch_size).max(1);
        let total_steps = steps_per_epoch * config.epochs;
        let warmup = |epochs: f64| (epochs * steps_per_epoch as f64) as usize;
        let schedules = [
            LinearWarmupDecay { base: config.encoder_lr, warmup_steps: warmup(config.encoder_warmup_epochs), total_steps },
            LinearWarmupDecay { base: config.head_lr, warmup_steps: warmup(config.head_warmup_epochs), total_steps },
        ];
        let adam = AdamWConfig { beta1: 0.9, beta2: 0.98, eps: 1e-6, weight_decay: config.weight_decay };
        let mut optimizer = AdamW::new(model.var_store(), adam);
        let optimizer_path = checkpoint.join("optimizer.safetensors");
        if resume && state.epochs_done > 0 {
            if optimizer_path.is_file() {
                optimizer.load(&optimizer_path)?;
            } else {
                tracing::warn!("{}: no optimizer state (an older checkpoint): moments restart from zero", checkpoint.display());
            }
        }
        let samplers = corpora
            .iter()
            .map(|corpus| {
                let has_mention: Vec<bool> = corpus.examples.iter().map(Example::has_mention).collect();
                SentenceSampler::new(&has_mention, config.empty_sentence_weight)
            })
            .collect();
        let corpus_sampler = CorpusSampler::new(&config.corpora.iter().map(|c| c.weight).collect::<Vec<_>>());
        Ok(Self { config: config.clone(), model, corpora, corpus_sampler, samplers, optimizer, schedules, steps_per_epoch, state, device })
    }

    /// The batches of (0-based) epoch `epoch`. Sampling and dropout are seeded per epoch, so a resumed
    /// run samples and drops out exactly as an uninterrupted one: call this once at the start of each
    /// epoch, before its steps.
    pub fn plan_epoch(&self, epoch: usize) -> Vec<PlannedBatch> {
        let mut rng = StdRng::seed_from_u64(self.config.seed.wrapping_add(epoch as u64));
        tch::manual_seed(self.config.seed as i64 + epoch as i64);
        let timesteps = |(c, i): ExampleId| self.corpora[c].examples[i].gold.len();
        let c = &self.config;
        plan_epoch(
            &self.corpus_sampler,
            &self.samplers,
            timesteps,
            self.steps_per_epoch,
            c.batch_size,
            c.batching,
            c.sort_pool_batches,
            &mut rng,
        )
    }

    /// One optimizer step on `batch`, as step `global_step` of the run (for the learning rates).
    pub fn step(&mut self, global_step: usize, batch: &PlannedBatch) -> StepReport {
        self.optimizer.set_learning_rate(0, self.schedules[0].at(global_step));
        self.optimizer.set_learning_rate(1, self.schedules[1].at(global_step));
        let examples: Vec<&Example> = batch.iter().map(|&(c, i)| &self.corpora[c].examples[i]).collect();
        let tokens = examples.iter().map(|e| 2 + e.pieces.iter().map(Vec::len).sum::<usize>()).sum();
        let a = self.model.vocabulary().len();
        let (loss, mut profile) = accumulate_batch_gradients(&self.model, &self.corpora, examples, a, &self.config, &mut self.optimizer);
        let started = Instant::now();
        self.optimizer.clip_and_step(self.config.gradient_clip);
        // `+=`: the gradient rescaling after the micro-batches is optimizer time too.
        profile.optimizer += started.elapsed();
        StepReport { loss, sentences: batch.len(), tokens, profile }
    }

    /// Dev F1 per corpus (disjoint mode; outermost predictions for a corpus with `unannotated_inside`)
    /// and their mean weighted by gold mentions.
    pub fn evaluate_dev(&self) -> Result<(Vec<(String, f64)>, f64)> {
        let eval_options = RuntimeOptions { device: self.device, ..RuntimeOptions::default() };
        let mut dev_f1 = Vec::new();
        let (mut weighted, mut mentions) = (0.0, 0usize);
        for corpus in &self.corpora {
            let report = evaluate(&self.model, &corpus.dev, &corpus.dev_scoring, &eval_options)?;
            let gold = report.micro.tp + report.micro.fn_;
            weighted += report.micro.f1() * gold as f64;
            mentions += gold;
            dev_f1.push((corpus.name.clone(), report.micro.f1()));
        }
        Ok((dev_f1, if mentions == 0 { 0.0 } else { weighted / mentions as f64 }))
    }
}

/// Runs the training job of `config`; with `run.resume`, continues from `<output>/checkpoint` exactly
/// as if it had not stopped (fp32 weights and AdamW moments are in `optimizer.safetensors` there, and
/// sampling is seeded per epoch). Reports each epoch's start, each step and each finished epoch to
/// `on_event`. Returns the metrics of every epoch run now.
pub fn train(config: &TrainingConfig, run: &TrainRun, on_event: &mut dyn FnMut(TrainingEvent<'_>)) -> Result<Vec<EpochMetrics>> {
    let TrainRun { device, resume, stop_after_epochs } = *run;
    let mut job = TrainingJob::new(config, device, resume)?;
    std::fs::create_dir_all(&config.output).map_err(|source| SruNerError::Io { path: config.output.clone(), source })?;
    let checkpoint = config.output.join("checkpoint");
    let optimizer_path = checkpoint.join("optimizer.safetensors");
    let metrics_path = config.output.join("metrics.jsonl");
    if job.state.epochs_done == 0 && metrics_path.is_file() {
        // A run from scratch: the lines of an earlier run in this directory would read as this run's.
        std::fs::remove_file(&metrics_path).map_err(|source| SruNerError::Io { path: metrics_path.clone(), source })?;
    }
    let steps_per_epoch = job.steps_per_epoch;
    let mut history = Vec::new();

    let last_epoch = stop_after_epochs.map_or(config.epochs, |n| config.epochs.min(job.state.epochs_done + n));
    for epoch in job.state.epochs_done..last_epoch {
        if job.state.epochs_without_improvement >= config.patience {
            break;
        }
        let started = Instant::now();
        let batches = job.plan_epoch(epoch);
        on_event(TrainingEvent::EpochStarted { epoch: epoch + 1, epochs: config.epochs, steps: steps_per_epoch });
        let (mut loss_sum, mut profile, mut sentences) = (0.0, StepProfile::default(), 0);
        for (step, batch) in batches.iter().enumerate() {
            let report = job.step(epoch * steps_per_epoch + step, batch);
            loss_sum += report.loss;
            sentences += report.sentences;
            profile += report.profile;
            on_event(TrainingEvent::Step {
                epoch: epoch + 1,
                step: step + 1,
                steps: steps_per_epoch,
                mean_loss: loss_sum / (step + 1) as f64,
                sentences_per_second: sentences as f64 / started.elapsed().as_secs_f64(),
            });
        }
        let training_seconds = started.elapsed().as_secs_f64();

        let (dev_f1, f1) = job.evaluate_dev()?;
        let state = &mut job.state;
        let best = f1 > state.best_f1;
        if best {
            state.best_f1 = f1;
            state.epochs_without_improvement = 0;
            let model = &mut job.model;
            model.manifest_mut().trained = true;
            model.manifest_mut().description = format!(
                "epoch {} of {}, dev F1 {:.4} (disjoint, mention-weighted over {} corpora)",
                epoch + 1,
                config.epochs,
                f1,
                job.corpora.len()
            );
            model.save(&config.output)?;
        } else {
            state.epochs_without_improvement += 1;
        }
        state.epochs_done = epoch + 1;
        job.model.save(&checkpoint)?;
        job.optimizer.save(&optimizer_path)?;
        write_json(&checkpoint.join("trainer_state.json"), &job.state)?;
        let total = profile.total().as_secs_f64().max(1e-9);
        let share = |d: Duration| d.as_secs_f64() / total;
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            steps: steps_per_epoch,
            train_loss: loss_sum / steps_per_epoch as f64,
            dev_f1,
            dev_f1_weighted: f1,
            seconds: started.elapsed().as_secs_f64(),
            best,
            training_sentences_per_second: Some(sentences as f64 / training_seconds),
            stage_shares: Some(StageShares {
                prepare: share(profile.prepare),
                encoder_forward: share(profile.encoder_forward),
                head_forward: share(profile.head_forward),
                backward: share(profile.backward),
                optimizer: share(profile.optimizer),
            }),
        };
        append_json_line(&metrics_path, &metrics)?;
        on_event(TrainingEvent::EpochFinished(&metrics));
        history.push(metrics);
    }
    Ok(history)
}

/// A model with a fresh head for `types`, built as `config` says.
fn fresh_model(config: &TrainingConfig, types: &[String], device: Device) -> Result<SruNerModel> {
    SruNerModel::untrained_with(config.encoder.clone(), types.to_vec(), device, config.seed as i64, |head| {
        head.latents_per_action = config.latents_per_action;
        head.token_multiplier = config.token_multiplier;
        head.train_token_multiplier = config.train_token_multiplier;
        head.half_context = config.half_context;
        head.linear_init = config.linear_init;
        head.position_dropout = config.position_dropout;
    })
}

/// Copies `trained`'s weights into `model`, whose type set starts with `trained`'s and adds more: a
/// tensor of the same shape is copied whole; one with more rows (the head's action scores, action
/// embeddings and latents, which grow with the action set, new types' actions last) gets the trained
/// rows first and keeps its fresh ones for the new types.
fn extend_weights(trained: &SruNerModel, model: &SruNerModel) {
    let source = trained.var_store().variables();
    tch::no_grad(|| {
        for (name, mut target) in model.var_store().variables() {
            let Some(source) = source.get(&name) else { continue };
            let (from, to) = (source.size(), target.size());
            if from == to {
                target.copy_(source);
            } else if !from.is_empty() && from[1..] == to[1..] && from[0] < to[0] {
                target.narrow(0, 0, from[0]).copy_(source);
            } else {
                tracing::warn!("{name}: shape {from:?} does not extend to {to:?}; it starts fresh");
            }
        }
    });
}

/// At most `n` of `sentences`, evenly spaced over the split (all of them when there are no more than
/// `n`). A dev split is ordered by document, so its first sentences are a few documents: Linnaeus's
/// first 500 dev sentences hold 190 mentions, 118 of them "wheat" or "potato", and its dev F1 swung
/// between 0.19 and 0.64 from one epoch to the next with whether the model tagged those two words.
fn evenly_spaced<T>(sentences: Vec<T>, n: usize) -> Vec<T> {
    let len = sentences.len();
    if len <= n {
        return sentences;
    }
    let mut next = 0;
    let mut picked = Vec::with_capacity(n);
    for (i, sentence) in sentences.into_iter().enumerate() {
        if next < n && i == next * len / n {
            picked.push(sentence);
            next += 1;
        }
    }
    picked
}

/// Word pieces and gold timesteps of every training sentence; foreign-action masks per corpus; and for
/// a corpus with `unannotated_inside`, the actions per timestep that would nest a mention of an inner
/// type inside a gold mention of its outer type.
fn prepare_corpora(
    model: &SruNerModel,
    loaded: Vec<(String, Vec<CorpusSentence>, Vec<CorpusSentence>)>,
    specs: &[CorpusSpec],
    store: &Path,
) -> Result<Vec<TrainingCorpus>> {
    let vocabulary = model.vocabulary();
    let max = model.manifest().max_word_pieces;
    let mut corpora = Vec::new();
    for (index, (name, train, dev)) in loaded.into_iter().enumerate() {
        let mut unannotated_inside: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (outer, inner) in &specs[index].unannotated_inside {
            let ids = inner
                .iter()
                .map(|t| {
                    vocabulary.type_id(t).ok_or_else(|| SruNerError::Config {
                        path: store.to_path_buf(),
                        reason: format!(
                            "corpus {name}: unannotated_inside names {t}, which is not a type of the run ({:?})",
                            vocabulary.types()
                        ),
                    })
                })
                .collect::<Result<Vec<usize>>>()?;
            unannotated_inside.insert(outer.as_str(), ids);
        }
        let mut examples = Vec::with_capacity(train.len());
        let mut skipped = 0;
        for (i, sentence) in train.iter().enumerate() {
            match model.gold_input(sentence, i)? {
                Some((pieces, gold)) => {
                    let outer: Vec<_> = sentence
                        .spans
                        .iter()
                        .filter_map(|s| unannotated_inside.get(s.label.as_str()).map(|types| (s.start_word..s.end_word, types.clone())))
                        .collect();
                    let inner = if unannotated_inside.is_empty() { Vec::new() } else { inner_actions(&gold, &outer) };
                    examples.push(Example { pieces, gold, inner, corpus: index })
                }
                None => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::warn!("{name}: skipped {skipped} training sentences longer than {max} word pieces");
        }
        let declared = train.first().map(|s| s.types.clone()).unwrap_or_default();
        let mut foreign = vec![0f32; vocabulary.len()];
        for (t, type_name) in vocabulary.types().iter().enumerate() {
            if !declared.contains(type_name) {
                foreign[2 + 2 * t] = 1.0;
                foreign[3 + 2 * t] = 1.0;
            }
        }
        let dev_scoring = Scoring { outermost_only: !unannotated_inside.is_empty(), ..Scoring::default() };
        corpora.push(TrainingCorpus { name, examples, dev, foreign, dev_scoring });
    }
    Ok(corpora)
}

/// Zeroes the gradients, then back-propagates the teacher-forced loss of `batch` (mean over its counted
/// timesteps) in micro-batches of at most `micro_batch_cells` padded cells (sentences × memory slots × gold
/// timesteps), so that a batch of long sentences fits in memory; returns the batch's loss and the time
/// of each stage. The gradient equals one pass over the whole batch: each micro-batch's summed loss is
/// divided by an estimate of the batch's counted timesteps (its gold timesteps), and the gradients are
/// rescaled by the true count.
fn accumulate_batch_gradients(
    model: &SruNerModel,
    corpora: &[TrainingCorpus],
    mut batch: Vec<&Example>,
    a: usize,
    config: &TrainingConfig,
    optimizer: &mut AdamW,
) -> (f64, StepProfile) {
    let cells = config.micro_batch_cells;
    let mut profile = StepProfile::default();
    optimizer.zero_grad();
    let estimate: usize = batch.iter().map(|e| e.gold.len()).sum::<usize>().max(1);
    batch.sort_by_key(|e| std::cmp::Reverse((e.pieces.len() + 2) * e.gold.len()));
    let (mut loss_sum, mut counted) = (0.0, 0.0);
    let mut rest = batch.as_slice();
    while !rest.is_empty() {
        // Grow the micro-batch while its padded size (sentences × most slots × most steps) fits.
        let (mut take, mut slots, mut steps) = (1, rest[0].pieces.len() + 2, rest[0].gold.len());
        while take < rest.len() {
            let (s, t) = (slots.max(rest[take].pieces.len() + 2), steps.max(rest[take].gold.len()));
            if (take + 1) * s * t > cells {
                break;
            }
            (take, slots, steps) = (take + 1, s, t);
        }
        let (micro, tail) = rest.split_at(take);
        let output = teacher_forced(model, corpora, micro, a, config.shift_target, &mut profile);
        let started = Instant::now();
        let summed = output.summed_loss();
        loss_sum += summed.double_value(&[]);
        counted += output.counted_steps();
        profile.head_forward += started.elapsed();
        let started = Instant::now();
        (&summed / estimate as f64).backward();
        profile.backward += started.elapsed();
        rest = tail;
    }
    let counted = counted.max(1.0);
    if counted != estimate as f64 {
        let started = Instant::now();
        optimizer.scale_gradients(estimate as f64 / counted);
        profile.optimizer += started.elapsed();
    }
    (loss_sum / counted, profile)
}

/// The teacher-forced pass over one (micro-)batch.
fn teacher_forced(
    model: &SruNerModel,
    corpora: &[TrainingCorpus],
    batch: &[&Example],
    a: usize,
    shift_target: ShiftTarget,
    profile: &mut StepProfile,
) -> TeacherForcedOutput {
    let started = Instant::now();
    let device = model.device();
    let sentences: Vec<&[Vec<u32>]> = batch.iter().map(|e| e.pieces.as_slice()).collect();
    let encoded = model.pooling().batch(&sentences, device);
    let sequences: Vec<&[Timestep]> = batch.iter().map(|e| e.gold.as_slice()).collect();
    let foreign: Vec<f32> = batch.iter().flat_map(|e| corpora[e.corpus].foreign.iter().copied()).collect();
    let mut gold = GoldActions::with_foreign(&sequences, a, &foreign, device);
    if batch.iter().any(|e| !e.inner.is_empty()) {
        let none: Vec<Vec<Timestep>> = batch.iter().map(|e| vec![Vec::new(); e.gold.len()]).collect();
        let inner: Vec<&[Timestep]> =
            batch.iter().zip(&none).map(|(e, none)| if e.inner.is_empty() { none.as_slice() } else { e.inner.as_slice() }).collect();
        gold = gold.with_inner(&inner);
    }
    profile.prepare += started.elapsed();
    let started = Instant::now();
    let s = model.sentence_matrix(&encoded, true);
    profile.encoder_forward += started.elapsed();
    let started = Instant::now();
    let output = model.parser().forward_teacher_forced(&s, &encoded.slot_mask, &encoded.n_words, &gold, shift_target, true);
    profile.head_forward += started.elapsed();
    output
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = crate::error::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })?;
    std::fs::write(path, text).map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })
}

fn append_json_line<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    use std::io::Write;
    let line = serde_json::to_string(value).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })?;
    writeln!(file, "{line}").map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::evenly_spaced;

    #[test]
    fn dev_sample_spans_the_whole_split() {
        let picked = evenly_spaced((0..10).collect(), 4);
        assert_eq!(picked, vec![0, 2, 5, 7]);
        assert_eq!(evenly_spaced((0..3).collect::<Vec<_>>(), 5), vec![0, 1, 2]);
        let picked = evenly_spaced((0..4078).collect::<Vec<_>>(), 500);
        assert_eq!(picked.len(), 500);
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
        assert!(*picked.last().unwrap() > 4000, "{:?}", picked.last());
    }
}
