//! One step's gradients: the teacher-forced pass and its loss over a batch, split into micro-batches
//! that fit in memory.
use std::time::Instant;

use super::training_corpora::{Example, TrainingCorpus};
use super::training_events::StepProfile;
use super::{AdamW, TrainingConfig};
use crate::model::SruNerModel;
use crate::network::{GoldActions, ShiftTarget, TeacherForcedOutput};
use crate::transition::Timestep;

/// Zeroes the gradients, then back-propagates the teacher-forced loss of `batch` (mean over its counted
/// timesteps) in micro-batches of at most `micro_batch_cells` padded cells (sentences × memory slots × gold
/// timesteps), so that a batch of long sentences fits in memory; returns the batch's loss and the time
/// of each stage. The gradient equals one pass over the whole batch: each micro-batch's summed loss is
/// divided by an estimate of the batch's counted timesteps (its gold timesteps), and the gradients are
/// rescaled by the true count.
pub(super) fn accumulate_batch_gradients(
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
