#!/usr/bin/env bash
# The GPU check of issue 12, as one script for a lent GPU machine.
#
#   bash bench/gpu_check.sh OUT_DIR [WHEEL_DIR]
#   STEPS="tests latency-timbre" bash bench/gpu_check.sh OUT_DIR   (a subset)
#
# Installs the project's wheel and its pure dependencies from WHEEL_DIR (default .whl) into
# /tmp/site, runs the tests marked `cuda` and the GPU bench scenarios from a folder where
# the repository's rtsim/ source does not shadow the installed package. When WHEEL_DIR/old
# holds another rtsim wheel (the baseline, e.g. the previous commit's), the latency steps
# also run it, right after the new one on the same machine (`*-old` results). Every result
# is JSON under a results folder that is packed into OUT_DIR/results.tgz after each step
# (a lent machine returns at most 8 files), beside OUT_DIR/log.txt. Steps run in order of
# importance; each one's failure is logged and the next one still runs.
set -u
OUT=${1:?usage: bash bench/gpu_check.sh OUT_DIR [WHEEL_DIR]}
WHEELS=$(realpath "${2:-.whl}")
REPO=$PWD
R=/tmp/rtsim-gpu-results && rm -rf "$R" && mkdir -p "$R" "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 RTSIM_CACHE=/tmp/rtsim-cache
pip_in() { python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target "$1" "${@:2}"; }
pip_in /tmp/site "$WHEELS"/*.whl || exit 1
OLD=""
if ls "$WHEELS"/old/rtsim-*.whl >/dev/null 2>&1; then
  pip_in /tmp/site-old "$WHEELS"/old/rtsim-*.whl && OLD=/tmp/site-old
fi
export PYTHONPATH=/tmp/site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
nproc; python3 -c "import torch, faiss; print('torch', torch.__version__, 'faiss', faiss.__version__)"
WORK=/tmp/rtsim-gpu && rm -rf "$WORK" && mkdir -p "$WORK" && cp -r "$REPO/tests" "$WORK/"
printf '[pytest]\nmarkers =\n    cuda: needs a CUDA device\n    slow: slow\n' > "$WORK/pytest.ini"
cd "$WORK" || exit 1
mkdir -p bin && printf '#!/bin/sh\nexec python3 -c "import sys; from rtsim.cli.main import main; sys.exit(main())" "$@"\n' \
  > bin/rtsim && chmod +x bin/rtsim && export PATH=$WORK/bin:$PATH
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log how it ended, pack results
  local name=$1 limit=$2; shift 2
  if [ -n "${STEPS:-}" ] && [[ " $STEPS " != *" $name "* ]]; then return; fi
  local t0=$SECONDS
  echo "=== $name"
  timeout "$limit" "$@"; local rc=$?
  echo "=== $name: rc=$rc in $((SECONDS - t0)) s"
  tar czf "$OUT/results.tgz" -C "$R" .
}
latency() {  # latency NAME SECONDS ARGS...: new wheel, then (if there is one) the baseline
  local name=$1 limit=$2; shift 2
  step "$name" "$limit" rtsim bench latency --json "$R/$name.json" "$@"
  [ -n "$OLD" ] && step "$name-old" "$limit" env PYTHONPATH="$OLD:/tmp/site" \
    rtsim bench latency --json "$R/$name-old.json" "$@"
}
G1=(--device cuda --embedders timbre --library-size 1e6 --index flat --search torch)
ALL=(--device cuda --embedders timbre,stem/mix,disentangled,sample --library-size 1e6
     --index flat --search torch --backend cudagraph)
step tests 150 python3 -m pytest -q -p no:cacheprovider -m cuda tests/index/test_torch_search.py \
  tests/engine/test_device_hop.py
latency latency-timbre-graph 120 "${G1[@]}" --backend cudagraph --seconds 15
step latency-timbre-graph-profile 60 rtsim bench latency "${G1[@]}" --backend cudagraph \
  --seconds 10 --profile "$R/profile-timbre-graph.txt" --json "$R/latency-timbre-graph-profile.json"
latency latency-all-graph 200 "${ALL[@]}" --seconds 15
step latency-all-graph-profile 90 rtsim bench latency "${ALL[@]}" --seconds 10 \
  --profile "$R/profile-all-graph.txt" --json "$R/latency-all-graph-profile.json"
latency latency-timbre-eager 60 "${G1[@]}" --backend eager --seconds 10
step frontend 90 rtsim bench frontend --device cuda --repeats 200 --json "$R/frontend.json"
step embed 90 rtsim bench embed --device cuda --backends eager,cudagraph \
  --embedders timbre,stem/mix,disentangled,sample --repeats 300 --json "$R/embed.json"
step search 200 rtsim bench search --device cuda --sizes 1e7 --dims 256 --indexes kdtree \
  --threads 16 --repeats 300 --quick --json "$R/search-1e7.json"
echo "=== done in $SECONDS s"
tar czf "$OUT/results.tgz" -C "$R" .
