//! The training loop: [`TrainingJob`] holds a run between steps (model, prepared corpora, optimizer,
//! schedules, where the run stands), and [`train`] drives it epoch by epoch, scoring dev, keeping the
//! best model and writing a checkpoint after each epoch.
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use tch::Device;

use super::batching::{plan_epoch, CorpusSampler, ExampleId, PlannedBatch, SentenceSampler};
use super::checkpoint::{append_json_line, Checkpoint, TrainerState};
use super::gradients::accumulate_batch_gradients;
use super::training_corpora::{evenly_spaced, prepare_corpora, Example, TrainingCorpus};
use super::training_events::{EpochMetrics, StageShares, StepProfile, StepReport, TrainingEvent};
use super::warm_start::{extend_weights, fresh_model};
use super::{AdamW, AdamWConfig, LinearWarmupDecay, TrainingConfig};
use crate::corpus::CorpusStore;
use crate::error::{Result, SruNerError};
use crate::evaluation::evaluate;
use crate::model::SruNerModel;
use crate::runtime::RuntimeOptions;

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

        let checkpoint = Checkpoint::of(&config.output);
        let fresh = TrainerState { epochs_done: 0, best_f1: f64::NEG_INFINITY, epochs_without_improvement: 0 };
        let resumed = if resume { checkpoint.load(device)? } else { None };
        let (mut model, state) = if let Some(resumed) = resumed {
            resumed
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
                path: checkpoint.dir.clone(),
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
        if resume && state.epochs_done > 0 {
            checkpoint.load_optimizer(&mut optimizer)?;
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
    let checkpoint = Checkpoint::of(&config.output);
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
        checkpoint.save(&mut job.model, &job.optimizer, &job.state)?;
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
