//! How a runtime runs: device, batch budgets, threads and precision; and the device names the commands
//! accept.
use tch::Device;

use super::precision::Precision;
use crate::error::{Result, SruNerError};

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
    /// [`ModelRuntime::precision`](super::ModelRuntime::precision) says what was picked.
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
    /// ([`plan_decode_groups`](super::plan_decode_groups)). `None` picks by device: on CUDA 4 × `token_budget`, because there a
    /// decoding step costs about the same whatever its rows (on an H200, BERT-large width, 20,000
    /// sentences: 2.26 s of decoding steps with each batch alone against 0.92 s at 4 ×; in another run,
    /// 0.65 s at 2 ×, 0.51 s at 4 × and at 8 ×; benches/history.md); on CPU 0, each batch
    /// alone, because there a step costs by its rows and their padding.
    pub decode_token_budget: Option<usize>,
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
