#!/usr/bin/env bash
# Scores a model on one split of every corpus of the store with the cross-corpus scorer of HunFlair2
# (type match, each end within one character: --char-tolerance 1) and, from the same predictions,
# strictly. JNLPBA and BC2GM mark one mention where the model may nest a shorter gene name inside it,
# so they are also scored on the model's outermost predictions (--outermost-only, strict matching).
# Reports: experiments/results/NAME.CORPUS[.SPLIT].tolerant.json and, for JNLPBA and BC2GM,
# .outermost.json, each written once; then a table of F1 per corpus.
# Usage: experiments/cross-corpus.sh MODEL_DIR NAME [SPLIT (default: test)]  (run from the repository root)
# GENE_FROM=TYPE scores the model's TYPE predictions as the six BioNLP corpora's Gene (for a model
# without a Gene type: GENE_FROM=Gene_or_protein).
set -euo pipefail
model=$1
name=$2
split=${3:-test}
sru=${SRU_NER_BIN:-target/release/sru-ner}
results=experiments/results
corpora=(bc2gm bc5cdr jnlpba linnaeus ncbi_disease bionlp09 bionlp11epi bionlp11id bionlp13ge bionlp13pc ex_ptm)
tag=$name
[ "$split" = test ] || tag="$name.$split"
report() { # CORPUS KIND [EVAL OPTIONS]
  local out="$results/$tag.$1.$2.json"
  [ -s "$out" ] || "$sru" eval --model "$model" --store store --corpus "$1" --split "$split" --precision fp32 --json "${@:3}" > "$out"
}
new=(bionlp09 bionlp11epi bionlp11id bionlp13ge bionlp13pc ex_ptm)
for c in "${corpora[@]}"; do
  count=()
  if [ -n "${GENE_FROM:-}" ] && [[ " ${new[*]} " == *" $c "* ]]; then count=(--count-as "$GENE_FROM=Gene"); fi
  report "$c" tolerant --char-tolerance 1 "${count[@]}"
done
for c in jnlpba bc2gm; do
  report "$c" outermost --outermost-only
done
python3 - "$results" "$tag" "${corpora[@]}" <<'PY'
import json, sys
results, tag, corpora = sys.argv[1], sys.argv[2], sys.argv[3:]
f1 = lambda s: f'{100 * s["f1"]:5.1f}'
print(f"{tag}: F1 strict / within 1 character (per type, within 1 character) / outermost predictions, strict")
for c in corpora:
    r = json.load(open(f"{results}/{tag}.{c}.tolerant.json"))
    per = ", ".join(f'{t} {f1(s).strip()}' for t, s in r["per_type"].items())
    outer = ""
    try:
        outer = f' / outermost {f1(json.load(open(f"{results}/{tag}.{c}.outermost.json"))["micro"])}'
    except FileNotFoundError:
        pass
    print(f'  {c:13s} {f1(r["strict"]["micro"])} / {f1(r["micro"])}  ({per}){outer}')
PY
