#!/usr/bin/env bash
# Imports the five BioNLP shared-task corpora and Ex-PTM from ../shared/data into a corpus store, their
# types renamed onto the default model's: Protein and Gene_or_gene_product -> Gene (the specific gene
# and gene-product names these corpora mark, "CXCR1" in "CXCR1 gene"; GENE_TYPE names another type),
# Simple_chemical and Chemical -> Chemical, Organism -> Species. BioNLP13PC's Complex and
# Cellular_component and BioNLP11ID's Regulon-operon keep their names: no type of the model matches
# them, so they teach nothing (a training config marks what lies inside them as unannotated).
# Their training splits first go through experiments/decontaminate.py, which drops every sentence whose
# text is in a reported test split (GENIA's included: BioNLP09 comes from GENIA abstracts); its report
# goes to experiments/results/decontamination.json.
# Usage: experiments/import-bionlp.sh [STORE_DIR (default: store)] [GENE_TYPE (default: Gene)]
# (run from the repository root)
set -euo pipefail
store=${1:-store}
gene=${2:-Gene}
data=${SRU_NER_DATA:-../shared/data}
sru=${SRU_NER_BIN:-target/release/sru-ner}
clean=$(mktemp -d)
trap 'rm -rf "$clean"' EXIT
corpora=(bionlp09 bionlp11epi bionlp11id bionlp13ge bionlp13pc ex_ptm)
python3 experiments/decontaminate.py "$data" "$clean" "${corpora[@]}" > experiments/results/decontamination.json

rename=(--rename "Protein=$gene" --rename "Gene_or_gene_product=$gene"
  --rename Simple_chemical=Chemical --rename Organism=Species)
for corpus in "${corpora[@]}"; do
  "$sru" import --output "$store" --format iob --corpus "$corpus" --split train --input "$clean/$corpus/train.tsv" "${rename[@]}"
  "$sru" import --output "$store" --format iob --corpus "$corpus" --split dev --input "$data/$corpus/devel.tsv" "${rename[@]}"
  "$sru" import --output "$store" --format iob --corpus "$corpus" --split test --input "$data/$corpus/test.tsv" "${rename[@]}"
done
