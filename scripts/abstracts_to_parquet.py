#!/usr/bin/env python3
"""Make a Parquet table of PubMed abstracts from ../shared/data/pubmed_raw (one .txt file per abstract:
title line, abstract line) for the SQL and bulk examples, tests and benchmarks.

Columns: pmid (int64, null when the MUID has no PMID), muid (utf8), split (train/test), title, abstract.

    .venv/bin/python scripts/abstracts_to_parquet.py pubmed.parquet
    .venv/bin/python scripts/abstracts_to_parquet.py --limit 1000 --row-group-size 250 small.parquet
    .venv/bin/python scripts/abstracts_to_parquet.py --rows 100000 big.parquet   # abstracts repeated
"""
import argparse
import pathlib
import sys

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_SOURCE = pathlib.Path(__file__).resolve().parent.parent.parent / "shared/data/pubmed_raw/jnlpba_genia_abstracts"


def read_abstracts(source: pathlib.Path):
    pmids = {}
    for line in (source / "MUID-PMID-map.txt").read_text().splitlines():
        muid, _, pmid = line.partition("\t")
        if pmid.strip():
            pmids[muid.strip()] = int(pmid)
    rows = []
    for split in ("train", "test"):
        for path in sorted((source / split).glob("*.txt")):
            lines = path.read_text(encoding="utf-8").splitlines()
            title = lines[0] if lines else ""
            abstract = " ".join(lines[1:]).strip()
            rows.append((pmids.get(path.stem), path.stem, split, title, abstract))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="the Parquet file to write")
    parser.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE, help="the jnlpba_genia_abstracts folder")
    parser.add_argument("--limit", type=int, help="keep only the first N abstracts")
    parser.add_argument("--rows", type=int, help="repeat the abstracts until the table has exactly N rows")
    parser.add_argument("--row-group-size", type=int, default=1000, help="rows per Parquet row group")
    args = parser.parse_args()
    if not args.source.is_dir():
        print(f"no abstracts folder at {args.source} (give --source)", file=sys.stderr)
        return 2
    rows = read_abstracts(args.source)
    if args.limit is not None:
        rows = rows[: args.limit]
    if args.rows is not None:
        rows = [rows[i % len(rows)] for i in range(args.rows)]
    columns = list(zip(*rows)) if rows else [[], [], [], [], []]
    table = pa.table(
        {
            "pmid": pa.array(columns[0], pa.int64()),
            "muid": pa.array(columns[1], pa.string()),
            "split": pa.array(columns[2], pa.string()),
            "title": pa.array(columns[3], pa.string()),
            "abstract": pa.array(columns[4], pa.string()),
        }
    )
    pq.write_table(table, args.output, row_group_size=args.row_group_size)
    print(f"{args.output}: {table.num_rows} abstracts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
