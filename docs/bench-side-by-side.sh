#!/bin/bash
# Side by side: PyTorch (NCHW, channels_last) and engine-bench, interleaved, same settings.
#   TORCH_PYTHON=/work/torchenv/bin/python docs/bench-side-by-side.sh > side-by-side.log
# Run from the package root after `swift build -c release --product engine-bench`.
B=${ENGINE_BENCH:-.build/release/engine-bench}
T="${TORCH_PYTHON:-python3} ${TORCH_ANCHOR:-../shared/bench/torch_anchor.py}"
for round in 1 2; do
for cfg in "8 16" "20 16" "26 32"; do
  set -- $cfg
  echo "== round $round resnet-$1 w$2 $(date +%T) $(uptime | sed 's/.*load/load/')"
  $T --depth $1 --width $2 --batch 128 --seconds 20 --threads 2 2>/dev/null | grep torch
  $T --depth $1 --width $2 --batch 128 --seconds 20 --threads 2 --channels_last 2>/dev/null | grep torch | sed 's/$/ (channels_last)/'
  $B --model resnet --depth $1 --width $2 --batch 128 --seconds 20 --threads 2 --breakdown
done
done
