#!/usr/bin/env python3
"""Drops from training splits the sentences whose text also appears in a test split that is reported.

Text is compared with all whitespace removed and lower-cased, so that two tokenisations of one sentence
("2,250" and "2 , 250") match. A training sentence is dropped when its text equals a test sentence's, or
when more than half of its 60-character windows occur in the test splits (the same text cut into
sentences differently). Writes the kept sentences as IOB2 TSV under OUT/<corpus>/train.tsv and prints a
JSON report of what was dropped, per corpus and per test split that matched.

Usage: experiments/decontaminate.py DATA OUT CORPUS... > report.json   (DATA: the shared data folder)
"""
import json
import sys
from pathlib import Path

WINDOW = 60

# Every test split whose figures are reported: the five corpora of the default model, GENIA (nested,
# reported in experiments/README.md; BioNLP09 and JNLPBA come from GENIA abstracts) and the new corpora.
TEST_SPLITS = {
    "bc2gm": "bc2gm/test.tsv",
    "bc5cdr": "bc5cdr/test.tsv",
    "jnlpba": "jnlpba/original/test/Genia4EReval1.iob2",
    "linnaeus": "linnaeus/test.tsv",
    "ncbi_disease": "ncbi_disease/test.tsv",
    "genia": "genia/lu_roth_format/test.data",
    "bionlp09": "bionlp09/test.tsv",
    "bionlp11epi": "bionlp11epi/test.tsv",
    "bionlp11id": "bionlp11id/test.tsv",
    "bionlp13ge": "bionlp13ge/test.tsv",
    "bionlp13pc": "bionlp13pc/test.tsv",
    "ex_ptm": "ex_ptm/test.tsv",
}


def iob_sentences(path):
    """Sentences of a TOKEN<TAB>TAG file as lists of lines (blank line between sentences)."""
    sentence = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if sentence:
                yield sentence
            sentence = []
        elif not line.startswith("-DOCSTART-"):
            sentence.append(line)
    if sentence:
        yield sentence


def lu_roth_sentences(path):
    """The token lines of a Lu & Roth file (4 lines a sentence: tokens, tags, spans, blank)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    for i in range(0, len(lines) - 1, 4):
        if lines[i].strip():
            yield lines[i].split(" ")


def normalise(tokens):
    return "".join(tokens).replace(" ", "").lower()


def test_texts(data):
    texts = {}
    for name, rel in TEST_SPLITS.items():
        path = data / rel
        if rel.endswith(".data"):
            texts[name] = [normalise(t) for t in lu_roth_sentences(path)]
        else:
            texts[name] = [normalise(line.split("\t")[0] for line in s) for s in iob_sentences(path)]
    return texts


def main():
    data, out, corpora = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    tests = test_texts(data)
    exact = {}
    windows = {}
    for name, texts in tests.items():
        for text in texts:
            exact.setdefault(text, set()).add(name)
            for i in range(0, max(0, len(text) - WINDOW) + 1):
                windows.setdefault(hash(text[i : i + WINDOW]), set()).add(name)
    report = {"window_chars": WINDOW, "corpora": {}}
    for corpus in corpora:
        kept, dropped, by_split = [], 0, {}
        for sentence in iob_sentences(data / corpus / "train.tsv"):
            text = normalise(line.split("\t")[0] for line in sentence)
            hits = set(exact.get(text, ()))
            if not hits and len(text) >= WINDOW:
                starts = range(0, len(text) - WINDOW + 1)
                found = [windows.get(hash(text[i : i + WINDOW]), ()) for i in starts]
                if sum(1 for f in found if f) * 2 > len(found):
                    hits = set().union(*found)
            if hits and text:
                dropped += 1
                for h in hits:
                    by_split[h] = by_split.get(h, 0) + 1
            else:
                kept.append(sentence)
        target = out / corpus
        target.mkdir(parents=True, exist_ok=True)
        with open(target / "train.tsv", "w", encoding="utf-8") as f:
            for sentence in kept:
                f.write("\n".join(sentence) + "\n\n")
        report["corpora"][corpus] = {"kept": len(kept), "dropped": dropped, "matched_test_splits": dict(sorted(by_split.items()))}
        print(f"{corpus}: kept {len(kept)}, dropped {dropped} {by_split}", file=sys.stderr)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
