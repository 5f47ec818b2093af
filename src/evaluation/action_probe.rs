//! A teacher-forced probe of the head: on gold action sequences, how often a gold `TR`/`RE`
//! action is likely enough (p > 0.5) but loses the timestep's argmax to `SH`, so that greedy decoding
//! never takes it. That is the failure that a recall-only gap in partially annotated training predicts.

use std::collections::BTreeMap;

use serde::Serialize;
use tch::{Device, Kind};

use crate::corpus::CorpusSentence;
use crate::model::SruNerModel;
use crate::network::{GoldActions, ShiftTarget};
use crate::transition::{ActionVocabulary, SpanDecoder, Timestep};

/// Counts over the gold `TR`/`RE` actions of one type (or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GoldActionCounts {
    /// Gold `TR`/`RE` actions.
    pub gold: usize,
    /// Of those, how many the head gives p > 0.5.
    pub likely: usize,
    /// Of the likely ones, how many lose the timestep's argmax to `SH`.
    pub likely_but_shift_wins: usize,
}

impl GoldActionCounts {
    fn add(&mut self, likely: bool, shift_wins: bool) {
        self.gold += 1;
        self.likely += usize::from(likely);
        self.likely_but_shift_wins += usize::from(likely && shift_wins);
    }

    /// `likely_but_shift_wins / gold`.
    pub fn shift_wins_share(&self) -> f64 {
        if self.gold == 0 {
            0.0
        } else {
            self.likely_but_shift_wins as f64 / self.gold as f64
        }
    }
}

/// The probe's result for one corpus split.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActionProbe {
    /// Sentences probed (those within the encoder's length).
    pub sentences: usize,
    /// All gold `TR`/`RE` actions of the model's types.
    pub all: GoldActionCounts,
    /// By type name.
    pub per_type: BTreeMap<String, GoldActionCounts>,
}

/// Runs the head teacher-forced (no dropout, every type treated as annotated) on the gold action
/// sequences of `sentences`, 16 at a time, and counts each gold `TR`/`RE` action's fate. Sentences longer
/// than the encoder's limit are left out (counted in [`ActionProbe::sentences`] only when probed).
pub fn probe_gold_actions(model: &SruNerModel, sentences: &[CorpusSentence]) -> crate::Result<ActionProbe> {
    let _no_grad = tch::no_grad_guard();
    let vocabulary = model.vocabulary();
    let a = vocabulary.len();
    let mut prepared: Vec<(Vec<Vec<u32>>, Vec<Timestep>)> = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        prepared.extend(model.gold_input(sentence, i)?);
    }
    prepared.sort_by_key(|(pieces, _)| pieces.len());
    let mut probe = ActionProbe { sentences: prepared.len(), ..ActionProbe::default() };
    for batch in prepared.chunks(16) {
        let device = model.device();
        let pieces: Vec<&[Vec<u32>]> = batch.iter().map(|(p, _)| p.as_slice()).collect();
        let encoded = model.pooling().batch(&pieces, device);
        let s = model.sentence_matrix(&encoded, false);
        let sequences: Vec<&[Timestep]> = batch.iter().map(|(_, g)| g.as_slice()).collect();
        let gold = GoldActions::fully_annotated(&sequences, a, device);
        let output = model.parser().forward_teacher_forced(&s, &encoded.slot_mask, &encoded.n_words, &gold, ShiftTarget::Hard, false);
        let probabilities = output.logits.sigmoid().to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
        let (_, t, _) = probabilities.size3().expect("(B, T, A)");
        let flat: Vec<f32> = Vec::try_from(probabilities.view([-1])).unwrap_or_default();
        for (b, steps) in sequences.iter().enumerate() {
            // Without foreign types no shift is deferred, so timestep k of the pass is gold timestep k.
            for (k, actions) in steps.iter().enumerate().take(t as usize) {
                let row = &flat[(b * t as usize + k) * a..(b * t as usize + k + 1) * a];
                let best_other = row.iter().enumerate().filter(|&(i, _)| i != ActionVocabulary::SH).map(|(_, &p)| p).fold(0.0, f32::max);
                let shift_wins = row[ActionVocabulary::SH] >= best_other;
                for &action in actions.iter().filter(|&&x| x >= 2) {
                    let likely = row[action] > SpanDecoder::PAPER_ACTION_THRESHOLD;
                    probe.all.add(likely, shift_wins);
                    let type_name = &vocabulary.types()[(action - 2) / 2];
                    probe.per_type.entry(type_name.clone()).or_default().add(likely, shift_wins);
                }
            }
        }
    }
    Ok(probe)
}
