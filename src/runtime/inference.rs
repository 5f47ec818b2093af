//! Batched inference on a loaded model, on the calling thread: sentences of word pieces in, spans out.
//! The model thread serves it to callers ([`super::ModelRuntime`]); evaluation calls it directly.
use std::time::Instant;

use super::batch_planner::{plan_batches, plan_decode_groups};
use super::runtime_options::RuntimeOptions;
use super::stage_timings::{Stage, StageTimings};
use crate::encoder::WordPoolingBatch;
use crate::model::SruNerModel;
use crate::transition::DecodedSpan;

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
