"""Where a corpus's gold mentions go: run `sru-ner annotate` on a split's sentences and sort each gold
mention into found, found with another type, a boundary error, or nothing predicted there.

Usage: .venv/bin/python experiments/misses_by_kind.py STORE CORPUS SPLIT [MODEL_DIR]
(run from the repository root after `cargo build --release`; dev splits only for decisions).
"""
import collections
import json
import subprocess
import sys
import tempfile

import pyarrow.parquet as pq


def main():
    store, corpus, split = sys.argv[1:4]
    model = sys.argv[4] if len(sys.argv) > 4 else None
    rows = pq.read_table(f"{store}/{corpus}/{split}/part-00000.parquet", columns=["text", "spans"]).to_pylist()
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as lines:
        lines.write("\n".join(r["text"].replace("\n", " ") for r in rows) + "\n")
        lines.flush()
        command = ["target/release/sru-ner", "annotate", "--input", lines.name] + (["--model", model] if model else [])
        out = subprocess.run(command, capture_output=True, text=True, check=True)
    predictions = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(predictions) == len(rows), (len(predictions), len(rows))
    kinds, examples = collections.Counter(), collections.defaultdict(list)
    for row, predicted in zip(rows, predictions):
        labels = collections.defaultdict(set)
        for e in predicted["entities"]:
            labels[(e["start"], e["end"])].add(e["label"])
        for span in row["spans"]:
            start, end, gold = span["start"], span["end"], span["label"]
            same = labels.get((start, end), set())
            if gold in same:
                kind = "found"
            elif same:
                kind = "same span, other type: " + ", ".join(sorted(same))
            else:
                overlapping = {l for (s, e), ls in labels.items() if s < end and start < e for l in ls}
                kind = ("boundary error (same type overlaps)" if gold in overlapping
                        else "other type overlaps" if overlapping else "nothing predicted there")
            kinds[kind] += 1
            examples[kind].append(row["text"][start:end])
    total = sum(kinds.values())
    print(f"{corpus}/{split}: {total} gold mentions")
    for kind, n in kinds.most_common():
        sample = "" if kind == "found" else f"  e.g. {examples[kind][:5]}"
        print(f"  {n:6d} {100 * n / total:5.1f} %  {kind}{sample}")


if __name__ == "__main__":
    main()
