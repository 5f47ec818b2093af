#!/usr/bin/env bash
# The GPU benchmark and CUDA check, for a GPU machine that has torch 2.11 (CUDA 13)
# and transformers in its Python but no Rust toolchain and no internet. Two steps:
#
#   bash benches/gpu.sh prepare   # here: builds gpu-run/ (stripped bench and test binaries, a sample
#                                 # of 20,000 PubMed sentences, the default encoder's base), 26 MB packed
#   bash benches/gpu.sh run       # there, from the repository root, with gpu-run/ carried along
#                                 # (about 6 minutes of an H200)
#
# `run` checks CUDA against the CPU (tests/cuda.rs), makes a BioLinkBERT-large-shaped encoder with
# random weights (benches/make_random_encoder.py), and runs the throughput harness on CUDA with the
# GPU batch settings (token budget 65,536, 1,024 sentences a batch, 3 rounds): bf16 (the encoder
# and, on CUDA, the head's decoding products), the same with fp32 decoding, the
# trained default model, then fp32 without and with TF32 products. A `gpu-run/throughput-before`
# binary, if present, is run first, as the baseline of the same run. Logs go to $OUT (or
# gpu-run/out).
set -uo pipefail
cd "$(dirname "$0")/.."
step=${1:-}

if [ "$step" = prepare ]; then
  set -e
  mkdir -p gpu-run/encoder
  for target in "bench throughput" "test cuda"; do
    name=${target#* }
    binary=$(cargo build --release --message-format=json --$target 2>/dev/null | .venv/bin/python -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$name")
    cp "$binary" "gpu-run/$name" && strip "gpu-run/$name"
  done
  SRU_NER_BENCH_SENTENCES=20000 SRU_NER_BENCH_WRITE_SAMPLE=gpu-run/sentences.txt gpu-run/throughput
  base=$(readlink -f .venv/encoder)
  cp "$base"/{config.json,tokenizer.json,vocab.txt,tokenizer_config.json,special_tokens_map.json} gpu-run/encoder/
  # The base encoder in fp16, with the tensors that models/default/encoder.safetensors replaces zeroed
  # (they compress to nothing): only the frozen word embeddings come from the base.
  .venv/bin/python - "$base/model.safetensors" models/default/encoder.safetensors gpu-run/encoder/model.safetensors <<'EOF'
import sys
import torch
from safetensors.torch import load_file, save_file
base, replaced = load_file(sys.argv[1]), {k.removeprefix("bert.") for k in load_file(sys.argv[2])}
save_file({k: (torch.zeros_like(v) if k in replaced else v).half().contiguous() if v.is_floating_point() else v
           for k, v in base.items()}, sys.argv[3])
EOF
  # Under the 64 MiB that travels to the GPU machine: the binaries and the sample compressed.
  xz -f -T0 gpu-run/throughput gpu-run/cuda gpu-run/sentences.txt gpu-run/encoder/model.safetensors
  [ ! -f gpu-run/throughput-before ] || xz -f -T0 gpu-run/throughput-before
  du -sb gpu-run
  exit 0
fi

[ "$step" = run ] || { echo "usage: bash benches/gpu.sh prepare|run" >&2; exit 2; }
out=${OUT:-gpu-run/out}
mkdir -p "$out"
exec > >(tee "$out/gpu.log") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
nproc
python=$(command -v python3 || command -v python)
torch_lib=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')/lib
"$python" - gpu-run/*.xz gpu-run/encoder/*.xz <<'UNPACK'
import lzma, os, shutil, sys
for packed in sys.argv[1:]:
    with lzma.open(packed) as source, open(packed[:-3], "wb") as target:
        shutil.copyfileobj(source, target)
    if "." not in os.path.basename(packed[:-3]):
        os.chmod(packed[:-3], 0o755)
UNPACK
"$python" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'
export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The default model reads its base encoder from here (the .venv of this machine has none).
export SRU_NER_DEFAULT_ENCODER=$PWD/gpu-run/encoder

echo "== CUDA against CPU (tests/cuda.rs)"
SRU_NER_TEST_REQUIRE_CUDA=1 timeout 120 gpu-run/cuda --nocapture

encoder=/tmp/random-biolinkbert-large
"$python" benches/make_random_encoder.py "$encoder" --shape large --tokenizer-from gpu-run/encoder

bench() { # label, binary, then VAR=value settings
  local label=$1 binary=$2
  shift 2
  echo "== $label"
  env SRU_NER_BENCH_DEVICE=cuda SRU_NER_BENCH_ENCODER="$encoder" SRU_NER_BENCH_PRECISION=bf16 \
    SRU_NER_BENCH_SENTENCES_FILE=gpu-run/sentences.txt SRU_NER_BENCH_SENTENCES=20000 SRU_NER_BENCH_ROUNDS=3 \
    SRU_NER_BENCH_TOKEN_BUDGET=65536 SRU_NER_BENCH_BATCH_SENTENCES=1024 SRU_NER_BENCH_PYTHON=0 "$@" \
    timeout "${SRU_NER_BENCH_TIMEOUT:-100}" "gpu-run/$binary"
}
[ ! -x gpu-run/throughput-before ] || bench "baseline binary, bf16" throughput-before
# On CUDA, bf16 runs the head's decoding products and memory in bf16 too. The rows
# for 2, 4 and 8 batches decoded together and for slices of 256 documents are in benches/README.md;
# SRU_NER_BENCH_DECODE_TOKENS and SRU_NER_BENCH_DOCUMENTS_PER_JOB rerun them.
bench "bf16, defaults" throughput
bench "bf16 encoder, fp32 decoding" throughput SRU_NER_BENCH_DECODING_PRECISION=fp32
echo "== the default model (trained MiniLM head), bf16, the same batch settings"
env SRU_NER_BENCH_DEVICE=cuda SRU_NER_BENCH_PRECISION=bf16 SRU_NER_BENCH_SENTENCES_FILE=gpu-run/sentences.txt \
  SRU_NER_BENCH_SENTENCES=20000 SRU_NER_BENCH_ROUNDS=3 SRU_NER_BENCH_PYTHON=0 SRU_NER_BENCH_MODEL="$PWD/models/default" \
  SRU_NER_BENCH_TOKEN_BUDGET=65536 SRU_NER_BENCH_BATCH_SENTENCES=1024 timeout 100 gpu-run/throughput
SRU_NER_BENCH_TIMEOUT=240 bench "fp32, defaults" throughput SRU_NER_BENCH_PRECISION=fp32
# libtorch lets cuBLAS run fp32 products in TF32 when this is set: is fp32 decoding arithmetic-bound?
SRU_NER_BENCH_TIMEOUT=240 bench "fp32, TF32 products" throughput SRU_NER_BENCH_PRECISION=fp32 TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1
[ ! -x gpu-run/throughput-before ] || SRU_NER_BENCH_TIMEOUT=240 bench "baseline binary, fp32" throughput-before SRU_NER_BENCH_PRECISION=fp32
echo "== done"
