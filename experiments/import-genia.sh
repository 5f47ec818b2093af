#!/usr/bin/env bash
# Imports the GENIA nested benchmark from the term corpus XML into a corpus store, with the standard
# sentence-range splits (Shibuya & Hovy / biaffine / W2NER; model.md §5):
# train [0, 15022), dev [15022, 16691), test [16691, 18546).
# Usage: experiments/import-genia.sh [STORE_DIR (default: store-genia)]  (run from the repository root)
set -euo pipefail
store=${1:-store-genia}
data=${SRU_NER_DATA:-../shared/data}
sru=${SRU_NER_BIN:-target/release/sru-ner}
xml="$data/genia/original/GENIA_term_3.02/GENIAcorpus3.02.xml"
for split in train:0..15022 dev:15022..16691 test:16691..18546; do
  "$sru" import --format genia-xml --corpus genia --split "${split%%:*}" --sentences "${split##*:}" \
    --input "$xml" --output "$store" --types DNA,RNA,protein,cell_line,cell_type
done
