#!/usr/bin/env bash
# Precision/recall of the PII scanner per class on the presidio-research synthetic dataset, and
# findings per MB on unlabelled prompt text (RouteLLM MMLU/GSM8K/MT-Bench files: no PII expected).
# Builds tools/pii_eval/pii_eval.cpp with g++ (no CMake needed) and prints a markdown table.
#
#   scripts/pii-eval.sh [--show-errors] [--json]
#
# Environment: DATA_DIR (default ../shared/data next to the checkout), CXX (default g++),
# OUT_DIR (default build/pii-eval).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${DATA_DIR:-$root/../shared/data}"
out="${OUT_DIR:-$root/build/pii-eval}"
cxx="${CXX:-g++}"
dataset="$data/presidio-research/synth_dataset_v2.json"
if [[ ! -f "$dataset" ]]; then
  echo "pii-eval: dataset not found: $dataset (set DATA_DIR)" >&2
  exit 2
fi
mkdir -p "$out"
bin="$out/pii_eval"
srcs=("$root"/src/pii/*.cpp "$root/tools/pii_eval/pii_eval.cpp")
newest="$(ls -t "${srcs[@]}" "$root"/include/baton/pii/*.hpp "$root"/src/pii/*.hpp | head -1)"
if [[ ! -x "$bin" || "$newest" -nt "$bin" ]]; then
  echo "pii-eval: building $bin" >&2
  "$cxx" -std=c++20 -O2 -DNDEBUG -Wall -Wextra -Wpedantic -Wshadow -Werror \
    -I"$root/include" -I"$root/src" "${srcs[@]}" -o "$bin"
fi
negatives=()
if [[ -d "$data/routellm" ]]; then
  while IFS= read -r -d '' f; do negatives+=("$f"); done < <(
    find "$data/routellm" -type f \( -name '*.csv' -o -name '*.jsonl' \) ! -name 'contaminated*' \
      -print0 | sort -z)
fi
echo "pii-eval: $dataset" >&2
if ((${#negatives[@]})); then
  exec "$bin" "$dataset" "$@" --negatives "${negatives[@]}"
fi
exec "$bin" "$dataset" "$@"
