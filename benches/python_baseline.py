"""The Python path a user would write instead of sru-ner: the HF `transformers` token-classification
pipeline over the same encoder (all-MiniLM-L6-v2 with a token-classification head for the 8 default
types in BIO, 17 labels; the head is untrained, which costs the same), CPU, on the same sentences.

    .venv/bin/python benches/python_baseline.py SENTENCES_FILE [--batch-size 32] [--rounds 2]

SENTENCES_FILE has one sentence per line. Prints one JSON object: seconds per round, sentences/s,
entities found, torch threads. The throughput bench (`cargo bench --bench throughput`) runs this on its
own sample in the same run and prints the ratio.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline  # noqa: E402

TYPES = ["Chemical", "Disease", "Gene_or_protein", "Species", "Cell_Line", "Cell_Type", "DNA", "RNA"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sentences")
    parser.add_argument("--encoder", default=os.path.join(os.path.dirname(__file__), "..", ".venv", "encoder"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with open(args.sentences, encoding="utf-8") as f:
        sentences = [line.rstrip("\n") for line in f if line.strip()]
    labels = ["O"] + [f"{p}-{t}" for t in TYPES for p in ("B", "I")]
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(
        args.encoder, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)}
    )
    tokenizer = AutoTokenizer.from_pretrained(args.encoder)
    tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple", device=-1)
    tagger(sentences[:32], batch_size=args.batch_size)  # warm-up
    seconds, entities = [], 0
    for _ in range(args.rounds):
        start = time.perf_counter()
        results = tagger(sentences, batch_size=args.batch_size)
        seconds.append(time.perf_counter() - start)
        entities = sum(len(r) for r in results)
    per_round = sum(seconds) / len(seconds)
    print(json.dumps({
        "sentences": len(sentences),
        "seconds": per_round,
        "sentences_per_s": len(sentences) / per_round,
        "entities": entities,
        "batch_size": args.batch_size,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
