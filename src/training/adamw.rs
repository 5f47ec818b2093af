//! AdamW (Loshchilov & Hutter 2019) over a model's trainable variables, with one learning rate per
//! variable group (model.md §3: encoder and head), and a state that can be saved and loaded so that a
//! resumed training run continues exactly where it stopped.
//!
//! It mirrors `torch.optim.AdamW` step for step (decoupled weight decay, bias-corrected moments).
//! libtorch's own optimizer, which tch wraps, does not expose its moments, so it cannot be resumed.

use std::collections::HashMap;
use std::path::Path;

use tch::{nn::VarStore, Kind, Tensor};

use crate::error::{Result, SruNerError, TorchContext};

/// AdamW's constants; the learning rates are set per step with [`AdamW::set_learning_rate`].
#[derive(Debug, Clone, Copy)]
pub struct AdamWConfig {
    /// Decay of the first moment (0.9).
    pub beta1: f64,
    /// Decay of the second moment (0.98).
    pub beta2: f64,
    /// Added to the second moment's root (1e-6).
    pub eps: f64,
    /// Decoupled weight decay, times the learning rate (1e-3).
    pub weight_decay: f64,
}

/// One trainable variable with its two moment estimates.
struct Parameter {
    name: String,
    value: Tensor,
    group: usize,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

/// The optimizer: the model's trainable variables (frozen ones left out), their moments, the step count.
pub struct AdamW {
    config: AdamWConfig,
    parameters: Vec<Parameter>,
    learning_rates: Vec<f64>,
    step: i64,
}

impl AdamW {
    /// Tracks every variable of `vs` that requires a gradient, in its variable-store group.
    pub fn new(vs: &VarStore, config: AdamWConfig) -> Self {
        let variables = vs.variables_.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let names: HashMap<usize, &String> =
            variables.named_variables.iter().map(|(name, tensor)| (tensor.data_ptr() as usize, name)).collect();
        let mut parameters: Vec<Parameter> = variables
            .trainable_variables
            .iter()
            .filter(|var| var.tensor.requires_grad())
            .map(|var| Parameter {
                name: names.get(&(var.tensor.data_ptr() as usize)).map_or_else(String::new, |n| n.to_string()),
                value: var.tensor.shallow_clone(),
                group: var.group,
                exp_avg: var.tensor.zeros_like().detach(),
                exp_avg_sq: var.tensor.zeros_like().detach(),
            })
            .collect();
        parameters.sort_by(|a, b| a.name.cmp(&b.name));
        let groups = parameters.iter().map(|p| p.group + 1).max().unwrap_or(0);
        AdamW { config, parameters, learning_rates: vec![0.0; groups], step: 0 }
    }

    /// Sets the learning rate of variable group `group` for the next steps.
    pub fn set_learning_rate(&mut self, group: usize, learning_rate: f64) {
        if group >= self.learning_rates.len() {
            self.learning_rates.resize(group + 1, 0.0);
        }
        self.learning_rates[group] = learning_rate;
    }

    /// Steps taken so far (also after [`AdamW::load`]).
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Clears the gradients of the tracked variables (before the first backward pass of a step).
    pub fn zero_grad(&mut self) {
        for parameter in &mut self.parameters {
            parameter.value.zero_grad();
        }
    }

    /// Multiplies the accumulated gradients by `factor`.
    pub fn scale_gradients(&mut self, factor: f64) {
        tch::no_grad(|| {
            for parameter in &self.parameters {
                let mut grad = parameter.value.grad();
                if grad.defined() {
                    let _ = grad.f_mul_scalar_(factor);
                }
            }
        });
    }

    /// Scales the accumulated gradients so that their joint L2 norm is at most `max_norm`
    /// (`torch.nn.utils.clip_grad_norm_`), then takes one AdamW step.
    pub fn clip_and_step(&mut self, max_norm: f64) {
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.parameters.iter().map(|p| p.value.grad()).collect();
            let norms: Vec<Tensor> = grads.iter().filter(|g| g.defined()).map(|g| g.norm()).collect();
            if norms.is_empty() {
                return;
            }
            let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
            let clip = max_norm / (total + 1e-6);
            self.step += 1;
            let AdamWConfig { beta1, beta2, eps, weight_decay } = self.config;
            let bias_correction1 = 1.0 - beta1.powi(self.step as i32);
            let bias_correction2_sqrt = (1.0 - beta2.powi(self.step as i32)).sqrt();
            for (parameter, grad) in self.parameters.iter_mut().zip(grads) {
                if !grad.defined() {
                    continue;
                }
                let grad = if clip < 1.0 { grad * clip } else { grad };
                let lr = self.learning_rates.get(parameter.group).copied().unwrap_or(0.0);
                // θ ← θ·(1 − lr·λ); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²
                let _ = parameter.value.f_mul_scalar_(1.0 - lr * weight_decay);
                let _ = parameter.exp_avg.f_lerp_(&grad, 1.0 - beta1);
                let _ = parameter.exp_avg_sq.f_mul_scalar_(beta2);
                let _ = parameter.exp_avg_sq.f_add_(&(&grad * &grad * (1.0 - beta2)));
                // θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
                let denominator = parameter.exp_avg_sq.sqrt() / bias_correction2_sqrt + eps;
                let update = &parameter.exp_avg / denominator * (lr / bias_correction1);
                let _ = parameter.value.f_sub_(&update);
            }
        });
    }

    /// Writes the fp32 values of the tracked variables, their moments and the step count to one
    /// safetensors file, enough for [`AdamW::load`] to continue bit for bit.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, Tensor)> = vec![("step".into(), Tensor::from_slice(&[self.step]))];
        for p in &self.parameters {
            tensors.push((format!("value.{}", p.name), p.value.detach().to_kind(Kind::Float).to_device(tch::Device::Cpu)));
            tensors.push((format!("exp_avg.{}", p.name), p.exp_avg.to_device(tch::Device::Cpu)));
            tensors.push((format!("exp_avg_sq.{}", p.name), p.exp_avg_sq.to_device(tch::Device::Cpu)));
        }
        Tensor::write_safetensors(&tensors, path).context(format!("writing {}", path.display()))
    }

    /// Restores what [`AdamW::save`] wrote: the variables' exact values, the moments and the step count.
    /// Every tracked variable must be in the file with its shape.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let stored: HashMap<String, Tensor> =
            Tensor::read_safetensors(path).context(format!("reading {}", path.display()))?.into_iter().collect();
        let invalid = |reason: String| SruNerError::Weights { path: path.to_path_buf(), reason };
        let step = stored.get("step").ok_or_else(|| invalid("no step count".into()))?;
        self.step = step.int64_value(&[0]);
        for p in &mut self.parameters {
            for (prefix, target) in [("value", &mut p.value), ("exp_avg", &mut p.exp_avg), ("exp_avg_sq", &mut p.exp_avg_sq)] {
                let key = format!("{prefix}.{}", p.name);
                let tensor = stored.get(&key).ok_or_else(|| invalid(format!("missing {key}")))?;
                if tensor.size() != target.size() {
                    return Err(invalid(format!("{key} has shape {:?}, expected {:?}", tensor.size(), target.size())));
                }
                tch::no_grad(|| target.copy_(&tensor.to_kind(target.kind()).to_device(target.device())));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, OptimizerConfig};
    use tch::Device;

    const CONFIG: AdamWConfig = AdamWConfig { beta1: 0.9, beta2: 0.98, eps: 1e-6, weight_decay: 1e-2 };

    /// Two variables and a loss whose gradient changes with them (so moments matter). The initial
    /// values come from a formula, not libtorch's global generator, which other tests in the same
    /// binary draw from on other threads.
    fn store() -> (nn::VarStore, Tensor, Tensor) {
        let vs = nn::VarStore::new(Device::Cpu);
        let initial = |shape: &[i64], phase: f64| {
            let count: i64 = shape.iter().product();
            (Tensor::arange(count, (Kind::Float, Device::Cpu)) * 1.7 + phase).sin().view(shape)
        };
        let w = vs.root().var_copy("w", &initial(&[4, 3], 0.3));
        let b = vs.root().var_copy("b", &initial(&[3], 1.1));
        (vs, w, b)
    }

    fn loss(w: &Tensor, b: &Tensor, step: i64) -> Tensor {
        let x = Tensor::arange(8, (Kind::Float, Device::Cpu)).view([2, 4]) / (step + 1) as f64;
        (x.matmul(w) + b).tanh().pow_tensor_scalar(2).sum(Kind::Float) * 3.0
    }

    #[test]
    fn matches_libtorch_adamw_with_clipping() {
        let (vs_ours, w1, b1) = store();
        let (vs_torch, w2, b2) = store();
        let mut ours = AdamW::new(&vs_ours, CONFIG);
        let torch_config = nn::AdamW { beta1: 0.9, beta2: 0.98, wd: 1e-2, eps: 1e-6, amsgrad: false };
        let mut torch = torch_config.build(&vs_torch, 0.05).unwrap();
        for step in 0..6 {
            ours.set_learning_rate(0, 0.05);
            ours.zero_grad();
            loss(&w1, &b1, step).backward();
            ours.clip_and_step(0.5);
            torch.backward_step_clip_norm(&loss(&w2, &b2, step), 0.5);
        }
        for (a, b) in [(&w1, &w2), (&b1, &b2)] {
            let diff = (a - b).abs().max().double_value(&[]);
            assert!(diff < 1e-6, "differs from libtorch's AdamW by {diff}");
        }
        assert!((&w1 - &store().1).abs().max().double_value(&[]) > 1e-2, "the weights moved");
    }

    #[test]
    fn saved_state_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("optimizer.safetensors");
        let run = |steps: std::ops::Range<i64>, optimizer: &mut AdamW, w: &Tensor, b: &Tensor| {
            for step in steps {
                optimizer.set_learning_rate(0, 0.05);
                optimizer.zero_grad();
                loss(w, b, step).backward();
                optimizer.clip_and_step(0.5);
            }
        };
        let (vs, w, b) = store();
        let mut straight = AdamW::new(&vs, CONFIG);
        run(0..5, &mut straight, &w, &b);

        let (vs_first, w_first, b_first) = store();
        let mut first = AdamW::new(&vs_first, CONFIG);
        run(0..2, &mut first, &w_first, &b_first);
        first.save(&path).unwrap();
        // A fresh store (initial weights) and optimizer, restored from the file.
        let (vs_resumed, w_resumed, b_resumed) = store();
        let mut resumed = AdamW::new(&vs_resumed, CONFIG);
        resumed.load(&path).unwrap();
        assert_eq!(resumed.steps(), 2);
        run(2..5, &mut resumed, &w_resumed, &b_resumed);
        assert!(w_resumed.equal(&w) && b_resumed.equal(&b), "a resumed run must equal the uninterrupted one bit for bit");
    }
}
