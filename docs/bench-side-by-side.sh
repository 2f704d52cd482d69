#!/bin/bash
# Side by side: PyTorch (NCHW, channels_last) and engine-bench, interleaved, same settings, on
# each kernel path: AVX-512 and AVX2 (both engines forced to the same capability).
#   TORCH_PYTHON=/work/torchenv/bin/python docs/bench-side-by-side.sh > side-by-side.log
#   ISAS="avx2" SECONDS_PER_RUN=10 docs/bench-side-by-side.sh     # one path, shorter runs
# Run from the package root after `swift build -c release --product engine-bench`.
# AVX2 on an AVX-512 machine: the engine with ENGINE_ISA=avx2, PyTorch with
# ATEN_CPU_CAPABILITY=avx2 and ONEDNN_MAX_CPU_ISA=AVX2 (its convolutions are oneDNN's, which
# ignores ATEN_CPU_CAPABILITY: without it ONEDNN_VERBOSE=1 shows jit:avx512_core), and OpenBLAS
# (both link it) with OPENBLAS_CORETYPE=Haswell.
B=${ENGINE_BENCH:-.build/release/engine-bench}
T="${TORCH_PYTHON:-python3} ${TORCH_ANCHOR:-../shared/bench/torch_anchor.py}"
S=${SECONDS_PER_RUN:-20}
for isa in ${ISAS:-avx512 avx2}; do
  case $isa in
    avx512) env="ENGINE_ISA=avx512 ATEN_CPU_CAPABILITY=avx512" ;;
    avx2) env="ENGINE_ISA=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell" ;;
    *) echo "unknown ISA $isa (avx512 or avx2)" >&2; exit 2 ;;
  esac
  for round in 1 2; do
  for cfg in "8 16" "20 16" "26 32"; do
    set -- $cfg
    echo "== $isa round $round resnet-$1 w$2 $(date +%T) $(uptime | sed 's/.*load/load/')"
    env $env $T --depth $1 --width $2 --batch 128 --seconds $S --threads 2 2>/dev/null | grep torch
    env $env $T --depth $1 --width $2 --batch 128 --seconds $S --threads 2 --channels_last 2>/dev/null | grep torch | sed 's/$/ (channels_last)/'
    env $env $B --model resnet --depth $1 --width $2 --batch 128 --seconds $S --threads 2 --breakdown
  done
  done
done
