#!/usr/bin/env bash
# The GPU benchmark of issue 6: the throughput harness on CUDA with a BioLinkBERT-large-shaped encoder
# (random weights), fp32 and bf16, reporting sentences/s and the ratio to encoder-only.
# Run on a machine with an NVIDIA GPU, from the repository root, after scripts/setup.sh:
#   bash benches/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
encoder=target/random-biolinkbert-large
[ -f "$encoder/model.safetensors" ] || .venv/bin/python benches/make_random_encoder.py "$encoder" --shape large
for precision in bf16 fp32; do
  echo "== CUDA, BERT-large shape, encoder $precision"
  SRU_NER_BENCH_DEVICE=cuda SRU_NER_BENCH_ENCODER="$encoder" SRU_NER_BENCH_PRECISION=$precision \
    SRU_NER_BENCH_SENTENCES=${SRU_NER_BENCH_SENTENCES:-20000} SRU_NER_BENCH_ROUNDS=3 \
    SRU_NER_BENCH_TOKEN_BUDGET=${SRU_NER_BENCH_TOKEN_BUDGET:-65536} SRU_NER_BENCH_BATCH_SENTENCES=1024 \
    cargo bench --bench throughput
done
