"""Writes the N training sentences of a store corpus that hold the most nested mentions (a gold span
inside another gold span) as a new corpus of the same store, with the same sentences as `train` and `dev`.
The capacity check on real data: a model trained on them until it fits must find their nested
mentions (nested F1 on these sentences > 90).

Usage: .venv/bin/python experiments/nested_sample.py STORE CORPUS NEW_CORPUS N
"""
import glob
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def nested_count(spans):
    inside = 0
    for i, a in enumerate(spans):
        for j, b in enumerate(spans):
            if i != j and b["start_word"] <= a["start_word"] and a["end_word"] <= b["end_word"] and (
                (b["start_word"], b["end_word"]) != (a["start_word"], a["end_word"])
            ):
                inside += 1
                break
    return inside


def main():
    store, corpus, new_corpus, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    parts = sorted(glob.glob(os.path.join(store, corpus, "train", "*.parquet")))
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    counts = [nested_count(spans) for spans in table.column("spans").to_pylist()]
    # Most nested mentions first; ties in store order.
    chosen = sorted(sorted(range(len(counts)), key=lambda i: -counts[i])[:n])
    sample = table.take(chosen)
    sample = sample.set_column(sample.schema.get_field_index("corpus"), sample.schema.field("corpus"),
                               pa.array([new_corpus] * len(chosen), type=pa.string()))
    for split in ("train", "dev"):
        out = os.path.join(store, new_corpus, split)
        os.makedirs(out, exist_ok=True)
        column = pa.array([split] * len(chosen), type=pa.string())
        part = sample.set_column(sample.schema.get_field_index("split"), sample.schema.field("split"), column)
        pq.write_table(part, os.path.join(out, "part-00000.parquet"))
    total = sum(counts[i] for i in chosen)
    print(f"{new_corpus}: {len(chosen)} sentences of {corpus} train with {total} nested mentions "
          f"(at least {min(counts[i] for i in chosen)} each)")


if __name__ == "__main__":
    main()
