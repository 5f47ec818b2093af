/// Linear warm-up to the base rate, then linear decay to zero at the last step (model.md §3).
#[derive(Debug, Clone, Copy)]
pub struct LinearWarmupDecay {
    /// Peak learning rate.
    pub base: f64,
    /// Steps of warm-up.
    pub warmup_steps: usize,
    /// Steps in the whole run.
    pub total_steps: usize,
}

impl LinearWarmupDecay {
    /// The rate for (0-based) step `step`.
    pub fn at(&self, step: usize) -> f64 {
        let step = step as f64 + 1.0;
        let warmup = self.warmup_steps as f64;
        let total = self.total_steps.max(1) as f64;
        if step <= warmup {
            self.base * step / warmup.max(1.0)
        } else {
            self.base * ((total - step) / (total - warmup).max(1.0)).max(0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_zero() {
        let s = LinearWarmupDecay { base: 1.0, warmup_steps: 10, total_steps: 110 };
        assert!((s.at(4) - 0.5).abs() < 1e-12);
        assert!((s.at(9) - 1.0).abs() < 1e-12);
        assert!((s.at(59) - 0.5).abs() < 1e-12);
        assert_eq!(s.at(109), 0.0);
    }
}
