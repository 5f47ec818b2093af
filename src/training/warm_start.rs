//! The model a run starts from: a fresh head over the configured encoder, or a trained model
//! (`init_from`) whose weights are copied into a model with more types.
use tch::Device;

use super::TrainingConfig;
use crate::error::Result;
use crate::model::SruNerModel;

/// A model with a fresh head for `types`, built as `config` says.
pub(super) fn fresh_model(config: &TrainingConfig, types: &[String], device: Device) -> Result<SruNerModel> {
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
pub(super) fn extend_weights(trained: &SruNerModel, model: &SruNerModel) {
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
