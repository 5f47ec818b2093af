"""Reads an sru-ner Parquet output with pyarrow, as a Python user would, and checks its contract:
the entities column is list<struct<start: int32, end: int32, label: string, text: string, score: float>>
and text[start:end] == entity.text (Python str indices are the same character offsets).

    python check_entities_parquet.py OUTPUT_FOLDER TEXT_COLUMN
Prints a JSON summary; exits 1 with a message on the first violation."""
import json
import sys

import pyarrow as pa
import pyarrow.dataset as ds


def main() -> int:
    folder, text_column = sys.argv[1], sys.argv[2]
    table = ds.dataset(folder, format="parquet").to_table()
    expected = pa.list_(
        pa.field(
            "item",
            pa.struct(
                [
                    pa.field("start", pa.int32(), nullable=False),
                    pa.field("end", pa.int32(), nullable=False),
                    pa.field("label", pa.string(), nullable=False),
                    pa.field("text", pa.string(), nullable=False),
                    pa.field("score", pa.float32(), nullable=False),
                ]
            ),
            nullable=False,
        )
    )
    actual = table.schema.field("entities").type
    if actual != expected:
        print(f"entities column is {actual}, expected {expected}", file=sys.stderr)
        return 1
    n_entities = 0
    for row, (text, entities) in enumerate(zip(table.column(text_column).to_pylist(), table.column("entities").to_pylist())):
        if text is None:
            if entities is not None:
                print(f"row {row}: null text but entities {entities}", file=sys.stderr)
                return 1
            continue
        for e in entities:
            if text[e["start"] : e["end"]] != e["text"] or not (0 < e["score"] <= 1):
                print(f"row {row}: entity {e} does not match text[{e['start']}:{e['end']}] = {text[e['start']:e['end']]!r}", file=sys.stderr)
                return 1
            n_entities += 1
    print(json.dumps({"rows": table.num_rows, "entities": n_entities, "columns": table.column_names}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
