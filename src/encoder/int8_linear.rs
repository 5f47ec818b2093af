//! A linear layer with an int8 weight for the CPU, through ATen's fbgemm functions
//! (`fbgemm_pack_quantized_matrix`, `fbgemm_linear_int8_weight_fp32_activation`). tch 0.24 does not
//! expose them, so a small C++ file (`int8_linear.cpp`, compiled by `build.rs`) calls them on tch's
//! tensor handles.

use std::ffi::{c_char, c_void, CStr};

use tch::{nn, Kind, Tensor};

use crate::error::{Result, SruNerError};

/// The weights' integer range, as ATen's `fbgemm_linear_quantize_weight` has it. fbgemm's AVX2 kernel
/// adds pairs of uint8 × int8 products in int16, which a pair of large inputs and large weights (up to
/// 2 × 255 × 128) overflows: on random layers, whose weights fill the range, the output was 10–24 % off
/// fp32, and 1.1–1.2 % with 7-bit weights. Trained weights crowd near zero, and on the default model's
/// encoder 7 bits moved the last hidden states more than 8 (relative error 0.104 against 0.086 with the
/// feed-forward blocks' second layers in fp32; benches/history.md), so the weights keep 8 bits.
const WEIGHT_RANGE: (i64, i64) = (-128, 127);

/// `xs Wᵀ + b` with W in int8 (one scale and zero point for the whole matrix) and `xs`
/// quantized to uint8 at every call (one scale for the whole input, from its min and max); products
/// accumulate in int32 and the output is fp32. CPU only (fbgemm needs AVX2), and not differentiable:
/// for inference.
///
/// ```
/// use sru_ner::encoder::Int8Linear;
/// use tch::{nn, Device, Kind, Tensor};
/// let options = (Kind::Float, Device::Cpu);
/// // Normal weights, which crowd near zero as trained ones do (uniform ones fill the int8 range, and
/// // the kernel's int16 sums overflow: see `WEIGHT_RANGE` in the source).
/// let layer = nn::Linear { ws: Tensor::randn([32, 64], options) * 0.1, bs: Some(Tensor::randn([32], options)) };
/// let int8 = Int8Linear::quantize(&layer).unwrap();
/// let xs = Tensor::randn([5, 7, 64], (Kind::Float, Device::Cpu));
/// let exact = xs.apply(&layer);
/// let approx = int8.forward(&xs).unwrap();
/// assert_eq!(approx.size(), [5, 7, 32]);
/// let relative_error = (&approx - &exact).norm().double_value(&[]) / exact.norm().double_value(&[]);
/// assert!(relative_error < 0.05, "{relative_error}");
/// ```
#[derive(Debug)]
pub struct Int8Linear {
    quantized: Tensor,
    packed: Tensor,
    col_offsets: Tensor,
    scale: f64,
    zero_point: i64,
    bias: Tensor,
}

impl Int8Linear {
    /// Quantizes and packs `layer`'s fp32 weight (a bias of zeros where it has none).
    pub fn quantize(layer: &nn::Linear) -> Result<Self> {
        let weight = layer.ws.detach().to_kind(Kind::Float).contiguous();
        let (rows, width) =
            weight.size2().map_err(|source| SruNerError::Torch { context: "an int8 linear layer's weight".into(), source })?;
        let bias = match &layer.bs {
            Some(bias) => bias.detach().to_kind(Kind::Float).contiguous(),
            None => Tensor::zeros([rows], (Kind::Float, weight.device())),
        };
        // The affine grid over [min(W, 0), max(W, 0)], as fbgemm's ChooseQuantizationParams makes it.
        let (low, high) = WEIGHT_RANGE;
        let min = weight.min().double_value(&[]).min(0.0);
        let max = weight.max().double_value(&[]).max(0.0);
        let scale = ((max - min) / (high - low) as f64).max(f64::MIN_POSITIVE);
        let zero_point = ((low as f64 - min / scale).round() as i64).clamp(low, high);
        let quantized = (&weight / scale).round().g_add_scalar(zero_point).clamp(low, high).to_kind(Kind::Int8);
        // What the kernel subtracts for the weight's zero point: each row's sum, less zero_point × width.
        let col_offsets = (quantized.to_kind(Kind::Int).sum_dim_intlist(1, false, Kind::Int) - zero_point * width).to_kind(Kind::Int);
        let mut packed = std::ptr::null_mut::<c_void>();
        // SAFETY: the tensors are live; on success the shim stores one new tensor, owned by the
        // `Tensor` built from it.
        let packed = unsafe {
            check(
                ffi::sru_ner_int8_pack(handle(&quantized), handle(&col_offsets), scale, zero_point, &mut packed),
                "packing an int8 weight for fbgemm",
            )?;
            Tensor::from_ptr(packed as *mut _)
        };
        Ok(Self { quantized, packed, col_offsets, scale, zero_point, bias })
    }

    /// The layer applied to the last dimension of `xs` (fp32, any leading shape).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let size = xs.size();
        let rows = xs.to_kind(Kind::Float).reshape([-1, *size.last().unwrap_or(&0)]).contiguous();
        let mut output = std::ptr::null_mut::<c_void>();
        // SAFETY: every handle is a live tensor; on success the shim stores one new tensor, owned by
        // the `Tensor` built from it.
        let output = unsafe {
            check(
                ffi::sru_ner_int8_linear(
                    handle(&rows),
                    handle(&self.quantized),
                    handle(&self.packed),
                    handle(&self.col_offsets),
                    self.scale,
                    self.zero_point,
                    handle(&self.bias),
                    &mut output,
                ),
                "an int8 linear layer",
            )?;
            Tensor::from_ptr(output as *mut _)
        };
        let mut out_size = size;
        if let Some(last) = out_size.last_mut() {
            *last = self.bias.size()[0];
        }
        Ok(output.reshape(out_size))
    }
}

fn handle(tensor: &Tensor) -> *mut c_void {
    tensor.as_ptr() as *mut c_void
}

/// Turns the shim's error message (null on success) into an error, freeing it.
///
/// # Safety
/// `message` is null or a string the shim allocated and nobody freed.
unsafe fn check(message: *mut c_char, context: &str) -> Result<()> {
    if message.is_null() {
        return Ok(());
    }
    let text = CStr::from_ptr(message).to_string_lossy().into_owned();
    ffi::sru_ner_int8_free_message(message);
    Err(SruNerError::Torch { context: context.into(), source: tch::TchError::Torch(text) })
}

mod ffi {
    use std::ffi::{c_char, c_void};

    extern "C" {
        pub fn sru_ner_int8_pack(
            quantized: *mut c_void,
            col_offsets: *mut c_void,
            scale: f64,
            zero_point: i64,
            packed: *mut *mut c_void,
        ) -> *mut c_char;
        #[allow(clippy::too_many_arguments)]
        pub fn sru_ner_int8_linear(
            input: *mut c_void,
            quantized: *mut c_void,
            packed: *mut c_void,
            col_offsets: *mut c_void,
            scale: f64,
            zero_point: i64,
            bias: *mut c_void,
            output: *mut *mut c_void,
        ) -> *mut c_char;
        pub fn sru_ner_int8_free_message(message: *mut c_char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weight_that_is_not_a_matrix_is_an_error_not_a_crash() {
        // A weight is a matrix.
        let layer = nn::Linear { ws: Tensor::ones([4], (Kind::Float, tch::Device::Cpu)), bs: None };
        let error = Int8Linear::quantize(&layer).unwrap_err().to_string();
        assert!(error.contains("an int8 linear layer's weight"), "{error}");
    }

    #[test]
    fn a_bias_is_added_and_a_missing_one_is_zero() {
        let ws = Tensor::from_slice(&[1f32, 0., 0., 1.]).view([2, 2]);
        let xs = Tensor::from_slice(&[0.5f32, -0.25]).view([1, 2]);
        let with_bias = Int8Linear::quantize(&nn::Linear { ws: ws.copy(), bs: Some(Tensor::from_slice(&[10f32, 20.])) }).unwrap();
        let without = Int8Linear::quantize(&nn::Linear { ws, bs: None }).unwrap();
        let (a, b) = (with_bias.forward(&xs).unwrap(), without.forward(&xs).unwrap());
        let got: Vec<f32> = Vec::try_from((a - &b).view([-1])).unwrap();
        assert!((got[0] - 10.0).abs() < 1e-4 && (got[1] - 20.0).abs() < 1e-4, "{got:?}");
        let plain: Vec<f32> = Vec::try_from(b.view([-1])).unwrap();
        assert!((plain[0] - 0.5).abs() < 0.01 && (plain[1] + 0.25).abs() < 0.01, "{plain:?}");
    }
}
