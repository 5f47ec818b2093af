"""Prints the model card's test tables (markdown) from the JSON reports that `experiments/run.sh`
writes, so the card, the README and the reports cannot drift apart.

Usage: python3 experiments/model_card_tables.py [MODEL_NAME (default: default)]
(reads experiments/results/<MODEL_NAME>.<corpus>.<mode>.json; run from the repository root).
"""
import json
import os
import sys

CORPORA = [("bc2gm", "BC2GM"), ("bc5cdr", "BC5CDR"), ("jnlpba", "JNLPBA"), ("linnaeus", "Linnaeus"),
           ("ncbi_disease", "NCBI-disease")]
DOCUMENTS = [("bc5cdr_documents", "BC5CDR (CDR test set, 500 abstracts)"),
             ("ncbi_disease_documents", "NCBI-disease (test set, 100 abstracts)")]


def load(model, corpus, mode):
    path = f"experiments/results/{model}.{corpus}.{mode}.json"
    return json.load(open(path)) if os.path.exists(path) else None


def pct(x):
    return f"{100 * x:.1f}"


def per_type(report):
    return ", ".join(f"{t} {pct(s['f1'])}" for t, s in sorted(report["per_type"].items()))


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "default"
    print("| corpus | sentences | P | R | F1 | per type (F1) | merged-mode F1 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    foreign = []
    for corpus, name in CORPORA:
        d, m = load(model, corpus, "disjoint"), load(model, corpus, "merged")
        if d is None:
            continue
        micro = d["micro"]
        merged = pct(m["micro"]["f1"]) if m else "-"
        print(f"| {name} | {d['sentences']:,} | {pct(micro['precision'])} | {pct(micro['recall'])} | "
              f"**{pct(micro['f1'])}** | {per_type(d)} | {merged} |")
        if m:
            own = set(d["per_type"])
            extra = sorted(((s["fp"], t) for t, s in m["per_type"].items() if t not in own), reverse=True)
            foreign.append((name, ", ".join(f"{t} {fp:,}" for fp, t in extra if fp)))
    genes = load(model, "bc2gm", "disjoint-genes")
    if genes:
        g = genes["micro"]
        print(f"\nBC2GM with DNA and RNA predictions scored as genes (`--count-as`): P {pct(g['precision'])}, "
              f"R {pct(g['recall'])}, F1 {pct(g['f1'])}")
    print("\n| corpus | predictions of types the corpus does not annotate (merged mode counts them as false positives) |")
    print("| --- | --- |")
    for name, text in foreign:
        print(f"| {name} | {text} |")
    print("\n| test documents | sentences (our segmenter) | P | R | F1 | per type (F1) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for corpus, name in DOCUMENTS:
        d = load(model, corpus, "disjoint")
        if d:
            micro = d["micro"]
            print(f"| {name} | {d['sentences']:,} | {pct(micro['precision'])} | {pct(micro['recall'])} | "
                  f"**{pct(micro['f1'])}** | {per_type(d)} |")


if __name__ == "__main__":
    main()
