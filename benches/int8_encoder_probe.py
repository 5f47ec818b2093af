"""Would a dynamic int8 encoder pay on a CPU without AVX512-BF16? (benches/README.md)

Loads the default model's encoder (models/default/encoder.safetensors, with the frozen word
embeddings of .venv/encoder) into HF `transformers`, encodes 64 real PubMed sentences padded to one
batch, and compares fp32 with int8 linears: ATen's `fbgemm_linear_int8_weight_fp32_activation` with
8-bit weights (ATen's `fbgemm_linear_quantize_weight`) and with 7-bit ones (sru-ner's
`--precision int8`), each also with the feed-forward block's second layer kept fp32, and
`quantize_dynamic` with per-tensor and per-channel weights. Prints the best-of-N time of each and how far its last hidden states are from
fp32 (relative error of the non-padding rows, and the lowest cosine of a token's vector).

    .venv/bin/python benches/int8_encoder_probe.py   # env: ROUNDS=7, THREADS=2
"""

import copy
import glob
import os
import time
import warnings

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertConfig, BertModel

warnings.filterwarnings("ignore")
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
ROUNDS = int(os.environ.get("ROUNDS", "7"))


def quantize_weight(weight, low, high):
    """What `fbgemm_linear_quantize_weight` returns, on the integer range [low, high]."""
    w_min, w_max = min(weight.min().item(), 0.0), max(weight.max().item(), 0.0)
    scale = (w_max - w_min) / (high - low)
    zero_point = max(low, min(high, round(low - w_min / scale)))
    q = (weight / scale).round().add(zero_point).clamp(low, high).to(torch.int8)
    col_offsets = (q.to(torch.int32).sum(1) - zero_point * weight.shape[1]).to(torch.int32)
    return q, col_offsets, scale, zero_point


class FbgemmLinear(torch.nn.Module):
    """`nn.Linear` with an int8 weight packed once and activations quantized per call (fbgemm): with
    `bits=8`, ATen's own `fbgemm_linear_quantize_weight`; with 7, the weights on [-64, 63], so that the
    AVX2 kernel's int16 sums of two uint8 × int8 products cannot overflow (what sru-ner does)."""

    def __init__(self, linear, bits):
        super().__init__()
        weight = linear.weight.detach()
        if bits == 8:
            self.q, self.col_offsets, self.scale, self.zero_point = torch.fbgemm_linear_quantize_weight(weight)
        else:
            self.q, self.col_offsets, self.scale, self.zero_point = quantize_weight(weight, -64, 63)
        self.packed = torch.fbgemm_pack_quantized_matrix(self.q)
        self.bias = linear.bias.detach()

    def forward(self, xs):
        rows = xs.reshape(-1, xs.shape[-1]).contiguous()
        ys = torch.fbgemm_linear_int8_weight_fp32_activation(
            rows, self.q, self.packed, self.col_offsets, self.scale, self.zero_point, self.bias
        )
        return ys.reshape(*xs.shape[:-1], -1)


def with_fbgemm_linears(module, bits, keep_ffn_output=False):
    """Every `nn.Linear` below `module` in int8; with `keep_ffn_output`, the feed-forward block's second
    layer (`output.dense`, 1,536 → 384, which reads the GELU's outputs) stays fp32."""
    for name, child in module.named_modules():
        for attribute, layer in list(child.named_children()):
            is_ffn_output = name.endswith(".output") and not name.endswith("attention.output")
            if isinstance(layer, torch.nn.Linear) and not (keep_ffn_output and is_ffn_output):
                setattr(child, attribute, FbgemmLinear(layer, bits))
    return module


def default_encoder():
    config = BertConfig.from_json_file(".venv/encoder/config.json")
    model = BertModel(config, add_pooling_layer=False).eval()
    weights = {k.removeprefix("bert."): v for k, v in load_file("models/default/encoder.safetensors").items()}
    weights["embeddings.word_embeddings.weight"] = load_file(".venv/encoder/model.safetensors")[
        "embeddings.word_embeddings.weight"
    ]
    model.load_state_dict(weights, strict=True)
    return model


def sample_batch():
    files = sorted(glob.glob("../shared/data/pubmed_raw/jnlpba_genia_abstracts/test/*"))[:40]
    sentences = [s for f in files for s in open(f).read().replace("\n", " ").split(". ") if len(s) > 20]
    tokenizer = AutoTokenizer.from_pretrained(".venv/encoder")
    return tokenizer(sentences[:64], padding=True, truncation=True, max_length=128, return_tensors="pt")


def best_time(model, batch):
    with torch.inference_mode():
        out = model(**batch).last_hidden_state
        best = float("inf")
        for _ in range(ROUNDS):
            start = time.perf_counter()
            model(**batch)
            best = min(best, time.perf_counter() - start)
    return best, out


def main():
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    fp32 = default_encoder()
    batch = sample_batch()
    rows = batch["attention_mask"].bool()
    print(f"batch {tuple(batch['input_ids'].shape)}, {int(rows.sum())} tokens, {torch.get_num_threads()} threads")
    variants = {
        "ATen fbgemm, 8-bit weights": with_fbgemm_linears(copy.deepcopy(fp32), 8),
        "ATen fbgemm, 8-bit weights, FFN output fp32": with_fbgemm_linears(copy.deepcopy(fp32), 8, keep_ffn_output=True),
        "ATen fbgemm, 7-bit weights (sru-ner's int8)": with_fbgemm_linears(copy.deepcopy(fp32), 7),
        "ATen fbgemm, 7-bit weights, FFN output fp32": with_fbgemm_linears(copy.deepcopy(fp32), 7, keep_ffn_output=True),
        "quantize_dynamic per-tensor": quantize_dynamic(fp32, {torch.nn.Linear}, dtype=torch.qint8),
        "quantize_dynamic per-channel": quantize_dynamic(
            fp32, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        ),
    }
    base, reference = best_time(fp32, batch)
    print(f"fp32: {base * 1e3:.0f} ms")
    for name, model in variants.items():
        took, out = best_time(model, batch)
        diff = (out - reference)[rows]
        cosine = torch.nn.functional.cosine_similarity(out[rows], reference[rows], dim=-1)
        print(
            f"{name}: {took * 1e3:.0f} ms ({base / took:.2f}x fp32), relative error "
            f"{diff.norm() / reference[rows].norm():.3f}, cosine min {cosine.min():.3f} mean {cosine.mean():.4f}"
        )


if __name__ == "__main__":
    main()
