#!/usr/bin/env bash
# Runs a fixed list of real `tflite-opt optimize` commands and prints "command sha1" per written model
# (and the sha1 of the command's stdout, the chain's sparsity table), so a refactor of the CLI can be
# checked to write byte-identical models: run before and after, then diff the two outputs.
# Usage: scripts/cli-hashes.sh [REPO_DIR] > hashes.txt   (REPO_DIR defaults to this checkout)
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
models=${MODELS:-/work/shared/models}
data=${DATA:-/work/shared/data}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mnist=$models/mnist_conv_fc_float.tflite
calib="--calib $data/mnist_t10k --calib-count 50"
n=0
run() {
  n=$((n + 1))
  local model=$out/m$n.tflite
  local stdout
  stdout=$(cd "$repo" && node bin/tflite-opt.mjs optimize "$@" -o "$model" 2>"$out/err$n") || { echo "$* FAILED: $(tail -3 "$out/err$n")"; return; }
  echo "$* model=$(sha1sum < "$model" | cut -c1-40) stdout=$(printf '%s' "$stdout" | sha1sum | cut -c1-40)"
}
run "$mnist" --recipe int8 $calib
run "$mnist" --recipe int16x8 $calib
run "$mnist" --recipe dynamic $calib
run "$mnist" --recipe 'prune:0.5+int8' $calib --eval "$data/mnist_t10k" --eval-count 50 --eval-offset 100
run "$mnist" --recipe 'cluster:16+int8' $calib
run "$mnist" --recipe int8 --per-tensor --io int8 $calib
run "$models/mobilenet_v1_0.25_224_float.tflite" --recipe int8 --calib "$data/imagenet_val_subset" --calib-count 20 --mean 127.5 --std 127.5
run "$mnist" --recipe 'prune:0.75+finetune+int8' $calib --train "$data/mnist_t10k" --train-count 100 --epochs 1
