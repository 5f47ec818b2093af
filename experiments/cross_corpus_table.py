"""Prints, as markdown, the test F1 of models side by side from the reports of experiments/cross-corpus.sh:
strict (all predictions), within one character (HunFlair2's cross-corpus scorer) and, for BC2GM and
JNLPBA, strict on the outermost predictions; per corpus, then per type within one character.

Usage: python3 experiments/cross_corpus_table.py NAME [NAME ...]   (run from the repository root)
"""
import json
import os
import sys

CORPORA = [("bc2gm", "BC2GM"), ("bc5cdr", "BC5CDR"), ("jnlpba", "JNLPBA"), ("linnaeus", "Linnaeus"),
           ("ncbi_disease", "NCBI-disease"), ("bionlp09", "BioNLP09"), ("bionlp11epi", "BioNLP11EPI"),
           ("bionlp11id", "BioNLP11ID"), ("bionlp13ge", "BioNLP13GE"), ("bionlp13pc", "BioNLP13PC"),
           ("ex_ptm", "Ex-PTM")]


def load(name, corpus, kind):
    path = f"experiments/results/{name}.{corpus}.{kind}.json"
    return json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) > 0 else None


def pct(scores):
    return f"{100 * scores['f1']:.1f}"


def main():
    names = sys.argv[1:]
    head = " | ".join(f"{n}: strict / ±1 char / outermost" for n in names)
    print(f"| corpus | {head} |")
    print("| --- |" + " --- |" * len(names))
    for corpus, label in CORPORA:
        cells = []
        for name in names:
            tolerant, outer = load(name, corpus, "tolerant"), load(name, corpus, "outermost")
            if tolerant is None:
                strict = load(name, corpus, "disjoint")  # an older report: strict scoring only
                cells.append(f"{pct(strict['micro'])} / – " if strict else "–")
                continue
            cell = f"{pct(tolerant['strict']['micro'])} / {pct(tolerant['micro'])}"
            cells.append(cell + (f" / {pct(outer['micro'])}" if outer else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print("| corpus | " + " | ".join(f"{n}: per type, ±1 char" for n in names) + " |")
    print("| --- |" + " --- |" * len(names))
    for corpus, label in CORPORA:
        cells = []
        for name in names:
            tolerant = load(name, corpus, "tolerant")
            per = tolerant and ", ".join(f"{t} {pct(s)}" for t, s in sorted(tolerant["per_type"].items()))
            cells.append(per or "–")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
