#!/usr/bin/env python3
"""Plots a training run's metrics.jsonl (one line per epoch, written by `sru-ner train`) to a PNG:
train loss and dev F1 (mention-weighted and per corpus) by epoch.

    .venv/bin/python scripts/plot_metrics.py MODEL_DIR/metrics.jsonl MODEL_DIR/training.png
`sru-ner train` runs this after every epoch when .venv has matplotlib."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        print(f"{source}: no epochs yet", file=sys.stderr)
        return 1
    epochs = [r["epoch"] for r in rows]
    fig, (loss_ax, f1_ax) = plt.subplots(1, 2, figsize=(10, 4))
    loss_ax.plot(epochs, [r["train_loss"] for r in rows], marker="o")
    loss_ax.set(title="train loss (mean per step)", xlabel="epoch", ylabel="loss")
    f1_ax.plot(epochs, [r["dev_f1_weighted"] for r in rows], marker="o", linewidth=2.5, label="mention-weighted")
    corpora = [name for name, _ in rows[0]["dev_f1"]]
    if len(corpora) > 1:
        for name in corpora:
            f1_ax.plot(epochs, [dict(r["dev_f1"]).get(name) for r in rows], marker=".", linestyle="--", label=name)
    f1_ax.set(title="dev F1", xlabel="epoch", ylabel="F1", ylim=(0, 1))
    f1_ax.legend(fontsize="small")
    for ax in (loss_ax, f1_ax):
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
