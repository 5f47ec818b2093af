// int8 linear layers for the CPU encoder through ATen's fbgemm functions, which tch does not expose
// (see int8_linear.rs, which quantizes the weights). Tensors cross as tch's handles (`at::Tensor *`);
// a new tensor is returned as `new at::Tensor`, which tch owns and frees. A C++ exception becomes a
// heap-allocated message the caller frees with `sru_ner_int8_free_message`; null means success.
#include <ATen/core/Tensor.h>
#include <ATen/ops/fbgemm_linear_int8_weight_fp32_activation.h>
#include <ATen/ops/fbgemm_pack_quantized_matrix.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

namespace {
char *message_of(const std::exception &error) {
  return strdup(error.what());
}

// Drops libtorch's warnings: the two functions warn once per process that they are deprecated.
class Silent : public c10::WarningHandler {
 public:
  void process(const c10::Warning &) override {}
};
}  // namespace

extern "C" {

// Packs `quantized` (out × in, int8) for fbgemm. The first call also spends the functions' one-time
// deprecation warnings, silenced, on a product over one row of zeros.
char *sru_ner_int8_pack(const at::Tensor *quantized, const at::Tensor *col_offsets, double scale, int64_t zero_point,
                        at::Tensor **packed) {
  try {
    Silent silent;
    c10::WarningUtils::WarningHandlerGuard guard(&silent);
    auto pack = at::fbgemm_pack_quantized_matrix(*quantized);
    static std::once_flag warned;
    std::call_once(warned, [&] {
      auto options = at::TensorOptions().dtype(at::kFloat);
      auto row = at::zeros({1, quantized->size(1)}, options);
      auto bias = at::zeros({quantized->size(0)}, options);
      at::fbgemm_linear_int8_weight_fp32_activation(row, *quantized, pack, *col_offsets, scale, zero_point, bias);
    });
    *packed = new at::Tensor(pack);
    return nullptr;
  } catch (const std::exception &error) {
    return message_of(error);
  }
}

// `input` (rows × in, fp32) times the packed weight, plus `bias`: the input is quantized to uint8 with
// one scale for the whole tensor, products accumulate in int32, the result is fp32.
char *sru_ner_int8_linear(const at::Tensor *input, const at::Tensor *quantized, const at::Tensor *packed,
                          const at::Tensor *col_offsets, double scale, int64_t zero_point, const at::Tensor *bias,
                          at::Tensor **output) {
  try {
    *output = new at::Tensor(at::fbgemm_linear_int8_weight_fp32_activation(
        input->contiguous(), *quantized, *packed, *col_offsets, scale, zero_point, *bias));
    return nullptr;
  } catch (const std::exception &error) {
    return message_of(error);
  }
}

void sru_ner_int8_free_message(char *message) {
  free(message);
}

}  // extern "C"
