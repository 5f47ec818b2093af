//! The precision inference runs in, and how `auto` picks it from the machine (AVX512-BF16 on the CPU,
//! the GPUs' compute capability through NVML).
use tch::Device;

use crate::model::SruNerModel;

/// Precision of inference (`--precision` of the commands that serve a model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// fp32, as trained.
    #[default]
    Fp32,
    /// bfloat16 weights and activations in the encoder (faster on GPUs; slower on the CPU, see
    /// [`Precision::auto_for`]), and on CUDA bfloat16 products and memory in the head's decoding too
    /// ([`Precision::decoding_on`]); its F1 cost on the dev sets is in benches/history.md.
    Bf16,
    /// int8 products in the encoder's linear layers but each feed-forward block's second (fbgemm, on
    /// CPUs with AVX2), everything else fp32. On a CPU without AVX512-BF16, `annotate` ran 1.19–1.30×
    /// as fast as in fp32; the default model's dev F1 fell by 0.07 over the five corpora and by 0.62 on
    /// NCBI-disease (benches/history.md), so auto never picks it. CPU only. Like bf16, a text's scores
    /// can move slightly with the other texts of its batch (one input scale per product).
    Int8,
}

impl Precision {
    /// What `--precision auto` serves on `device`: bf16 on a CPU with AVX512-BF16 and on CUDA when
    /// every GPU has compute capability 8.0 or more (Ampere and newer, whose tensor cores compute bf16:
    /// on an H200 the bf16 encoder was 8.8× as fast as fp32), fp32 elsewhere. On an AVX512-BF16 CPU
    /// (AMD Zen 4) the bulk job over whole abstracts ran 1.66× as fast in bf16. A CPU without it (AMD
    /// Zen 3) has no oneDNN bf16 kernels: libtorch then multiplies bf16 matrices in its own loops, and
    /// `sru-ner annotate` took 4.5× as long as in fp32 (benches/history.md). Older GPUs emulate bf16.
    ///
    /// ```
    /// use sru_ner::runtime::Precision;
    /// let picked = Precision::auto_for(tch::Device::Cpu);
    /// assert_eq!(picked == Precision::Bf16, Precision::cpu_computes_bf16());
    /// ```
    pub fn auto_for(device: Device) -> Self {
        match device {
            Device::Cpu if Self::cpu_computes_bf16() => Self::Bf16,
            Device::Cuda(_) if Self::gpus_compute_bf16() => Self::Bf16,
            _ => Self::Fp32,
        }
    }

    /// Whether this CPU has AVX512-BF16, the instructions oneDNN's bf16 matrix products run on. Without
    /// them libtorch falls back to its own bf16 products (`at::native::cpublas::gemm`), several times
    /// slower than fp32.
    pub fn cpu_computes_bf16() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512bf16")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// The precision the head decodes in when the encoder runs in `self` on `device`: the same on
    /// CUDA, where bf16 products run on tensor cores and halve the memory's traffic; fp32 on the CPU,
    /// where the step's products are small (rows × 384 by 384 × 768) and bf16 decoding was slower (the
    /// dev sets took 34 % longer, with the same spans, on a 2-core CPU without AVX512; not measured on
    /// an AVX512-BF16 CPU; benches/history.md).
    ///
    /// ```
    /// use sru_ner::runtime::Precision;
    /// assert_eq!(Precision::Bf16.decoding_on(tch::Device::Cpu), Precision::Fp32);
    /// assert_eq!(Precision::Bf16.decoding_on(tch::Device::Cuda(0)), Precision::Bf16);
    /// assert_eq!(Precision::Fp32.decoding_on(tch::Device::Cuda(0)), Precision::Fp32);
    /// ```
    pub fn decoding_on(self, device: Device) -> Self {
        if device.is_cuda() {
            self
        } else {
            Self::Fp32
        }
    }

    /// Whether NVML finds at least one GPU and each has compute capability 8.0 or more. Every GPU,
    /// not only the one used, because NVML's numbering need not be CUDA's (`CUDA_VISIBLE_DEVICES`,
    /// `CUDA_DEVICE_ORDER`). False where NVML cannot be loaded or asked; asked once per process.
    pub fn gpus_compute_bf16() -> bool {
        static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *ANSWER.get_or_init(|| {
            let capabilities = gpu_compute_capabilities().unwrap_or_default();
            !capabilities.is_empty() && capabilities.iter().all(|&(major, _)| major >= 8)
        })
    }

    /// Serves `model` in this precision: casts its encoder, and sets its decoding kind to
    /// `decoding`, or by device when `None` ([`Precision::decoding_on`]). What the runtime and
    /// `sru-ner eval` do with a loaded model.
    ///
    /// Fails for int8 off the CPU, or where fbgemm does not run (a CPU without AVX2).
    pub fn apply_to(self, model: &mut SruNerModel, decoding: Option<Precision>) -> crate::Result<()> {
        model.cast_encoder(self.kind());
        model.set_int8_encoder(self == Self::Int8)?;
        model.set_decoding_kind(decoding.unwrap_or_else(|| self.decoding_on(model.device())).kind());
        Ok(())
    }

    /// The tensor kind of its activations (see `SruNerModel::cast_encoder` and `set_decoding_kind`):
    /// int8 products take and give fp32.
    pub fn kind(self) -> tch::Kind {
        match self {
            Self::Fp32 | Self::Int8 => tch::Kind::Float,
            Self::Bf16 => tch::Kind::BFloat16,
        }
    }
}

/// The (major, minor) compute capability of each GPU NVML sees.
fn gpu_compute_capabilities() -> std::result::Result<Vec<(i32, i32)>, nvml_wrapper::error::NvmlError> {
    let nvml = nvml_wrapper::Nvml::init()?;
    (0..nvml.device_count()?)
        .map(|index| {
            let capability = nvml.device_by_index(index)?.cuda_compute_capability()?;
            Ok((capability.major, capability.minor))
        })
        .collect()
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
            Self::Int8 => "int8",
        })
    }
}
