#!/usr/bin/env bash
# Imports the paper's multi-task corpora (BC4CHEMD is not available here) from ../shared/data into a
# corpus store, renaming their types to the 8 shared types of the default model.
# Usage: experiments/import-biomed.sh [STORE_DIR (default: store)]  (run from the repository root)
set -euo pipefail
store=${1:-store}
data=${SRU_NER_DATA:-../shared/data}
sru=${SRU_NER_BIN:-target/release/sru-ner}
import() { "$sru" import --output "$store" "$@"; }

for split in train:train devel:dev test:test; do
  file=${split%%:*}; name=${split##*:}
  import --format iob --corpus bc2gm --split "$name" --input "$data/bc2gm/$file.tsv" --rename GENE=Gene_or_protein
  import --format iob --corpus bc5cdr --split "$name" --input "$data/bc5cdr/$file.tsv"
  import --format iob --corpus linnaeus --split "$name" --input "$data/linnaeus/$file.tsv"
  import --format iob --corpus ncbi_disease --split "$name" --input "$data/ncbi_disease/$file.tsv"
done
# JNLPBA has no official dev set: its last 1,739 training sentences (from sentence 16,807, 0-based; the
# MTL-Bioinformatics devel.tsv, see PROVENANCE.txt) become dev, the rest train.
jnlpba=(--rename protein=Gene_or_protein --rename cell_line=Cell_Line --rename cell_type=Cell_Type)
import --format iob --corpus jnlpba --split train --input "$data/jnlpba/original/train/Genia4ERtask1.iob2" --sentences 0..16807 "${jnlpba[@]}"
import --format iob --corpus jnlpba --split dev --input "$data/jnlpba/original/train/Genia4ERtask1.iob2" --sentences 16807..18546 "${jnlpba[@]}"
import --format iob --corpus jnlpba --split test --input "$data/jnlpba/original/test/Genia4EReval1.iob2" "${jnlpba[@]}"
