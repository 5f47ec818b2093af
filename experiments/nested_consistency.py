"""How consistently GENIA annotates its nested (inner) mentions.

Takes every (surface text, type) that GENIA's training split annotates at least twice as an inner mention
(inside another gold mention), finds every place where that text lies inside a gold mention of the same
sentence, and counts how often it is annotated there. A consistent annotation would give ~100 %.

Usage: .venv/bin/python experiments/nested_consistency.py [STORE (default: store-genia)]
"""
import collections
import sys

import pyarrow.parquet as pq

TYPES = ["DNA", "RNA", "protein", "cell_line", "cell_type"]


def load(store, split):
    path = f"{store}/genia/{split}/part-00000.parquet"
    return pq.read_table(path, columns=["words", "spans"]).to_pylist()


def surface(words, a, b):
    return " ".join(w["text"] for w in words[a:b])


def spans_of(sentence):
    return {(s["start_word"], s["end_word"], s["label"]) for s in sentence["spans"]}


def inner_lexicon(sentences):
    """(text, type) -> times annotated as a mention inside another gold mention."""
    inner = collections.Counter()
    for sentence in sentences:
        spans = spans_of(sentence)
        for x, y, t in spans:
            if any(a <= x and y <= b and (a, b) != (x, y) for a, b, _ in spans):
                inner[(surface(sentence["words"], x, y), t)] += 1
    return inner


def measure(sentences, inner, name):
    counts = collections.Counter()
    missing = collections.Counter()
    for sentence in sentences:
        words, spans = sentence["words"], spans_of(sentence)
        for a, b, outer in spans:
            for x in range(a, b):
                for y in range(x + 1, b + 1):
                    if (x, y) == (a, b):
                        continue
                    for t in TYPES:
                        if inner[(surface(words, x, y), t)] < 2:
                            continue
                        where = "same start" if x == a else "same end" if y == b else "strictly inside"
                        kind = f"{where}, {'same' if t == outer else 'other'} type"
                        annotated = (x, y, t) in spans
                        counts[(kind, annotated)] += 1
                        if not annotated:
                            missing[(surface(words, x, y), t, outer)] += 1
    print(f"{name}: known inner mentions inside a gold mention, and how often they are annotated there")
    total_yes = total = 0
    for kind in sorted({k for k, _ in counts}):
        yes, no = counts[(kind, True)], counts[(kind, False)]
        total_yes, total = total_yes + yes, total + yes + no
        print(f"  {kind:28s} {yes:5d} of {yes + no:5d} = {100 * yes / max(1, yes + no):5.1f} %")
    print(f"  {'all':28s} {total_yes:5d} of {total:5d} = {100 * total_yes / max(1, total):5.1f} %")
    print("  most often left out (text, inner type, outer type):", missing.most_common(5))


def main():
    store = sys.argv[1] if len(sys.argv) > 1 else "store-genia"
    train = load(store, "train")
    inner = inner_lexicon(train)
    measure(train, inner, "train")
    measure(load(store, "test"), inner, "test")


if __name__ == "__main__":
    main()
