"""Averages the weights of model directories of one run into a new model directory.

Usage: .venv/bin/python experiments/average_models.py OUT DIR_OR_CHECKPOINT [DIR_OR_CHECKPOINT ...]

Each input is a model directory or a trainer checkpoint folder (manifest.json, head.safetensors and,
when the encoder was fine-tuned, encoder.safetensors). Every tensor is the mean of the inputs' tensors
of the same name; the inputs must have the same manifest head and tensor names (checkpoints of one
run). OUT gets the first input's manifest with a description naming the inputs. Choose what to average
on the dev split, never on test.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file


def average(files):
    tensors = [load_file(f) for f in files]
    names = set(tensors[0])
    for f, t in zip(files, tensors):
        if set(t) != names:
            sys.exit(f"{f}: its tensor names differ from {files[0]}'s")
    return {n: (sum(t[n].double() for t in tensors) / len(tensors)).to(tensors[0][n].dtype).contiguous() for n in sorted(names)}


def describe(directory, manifest):
    """A checkpoint's manifest keeps the description of the run's best epoch, so a checkpoint is named
    by the epochs it has done (trainer_state.json)."""
    state = os.path.join(directory, "trainer_state.json")
    if os.path.exists(state):
        return f"{directory} (checkpoint after epoch {json.load(open(state))['epochs_done']})"
    return f"{directory} ({manifest.get('description', '')})"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, inputs = sys.argv[1], sys.argv[2:]
    manifests = [json.load(open(os.path.join(d, "manifest.json"))) for d in inputs]
    for d, m in zip(inputs, manifests):
        if m["head"] != manifests[0]["head"] or m["types"] != manifests[0]["types"]:
            sys.exit(f"{d}: its head or types differ from {inputs[0]}'s")
    os.makedirs(out, exist_ok=True)
    save_file(average([os.path.join(d, "head.safetensors") for d in inputs]), os.path.join(out, "head.safetensors"))
    if manifests[0].get("encoder_weights"):
        files = [os.path.join(d, m["encoder_weights"]) for d, m in zip(inputs, manifests)]
        save_file(average(files), os.path.join(out, manifests[0]["encoder_weights"]))
    manifest = dict(manifests[0])
    manifest["description"] = "weight average of " + ", ".join(describe(d, m) for d, m in zip(inputs, manifests))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"{out}: the mean of {len(inputs)} models")


if __name__ == "__main__":
    main()
