#!/usr/bin/env bash
# Imports whole test documents (title + abstract, PubTator format) from ../shared/data into a corpus
# store, split into sentences by sru-ner's own segmenter: evaluating on them measures what a user gets
# from `annotate` on an abstract, segmenter included (model card, document-level figures).
#   bc5cdr_documents        the BC5CDR (CDR) test set, 500 abstracts, Chemical and Disease
#   ncbi_disease_documents  the NCBI-disease test set, 100 abstracts, its 4 classes renamed to Disease
# Usage: experiments/import-documents.sh [STORE_DIR (default: store-documents)]  (from the repository root)
set -euo pipefail
store=${1:-store-documents}
data=${SRU_NER_DATA:-../shared/data}
sru=${SRU_NER_BIN:-target/release/sru-ner}
[ -d "$store" ] && { echo "$store exists; remove it to import again" >&2; exit 1; }
"$sru" import --format pubtator --output "$store" --corpus bc5cdr_documents --split test \
  --input "$data/bc5cdr/original_pubtator/CDR_TestSet.PubTator.txt"
"$sru" import --format pubtator --output "$store" --corpus ncbi_disease_documents --split test \
  --input "$data/ncbi_disease/original/NCBItestset_corpus.txt" \
  --rename SpecificDisease=Disease --rename DiseaseClass=Disease --rename Modifier=Disease --rename CompositeMention=Disease
