#!/usr/bin/env bash
# The GPU check of issue 12, as one script for a lent GPU machine (about 8 minutes on an H100).
#
#   bash bench/gpu_check.sh OUT_DIR [WHEEL_DIR]
#   STEPS="search-1e7 latency-timbre-graph" bash bench/gpu_check.sh OUT_DIR   (a subset)
#
# Installs the project's wheel and its pure dependencies from WHEEL_DIR (default .whl) into
# /tmp/site, runs the tests marked `cuda` and the GPU bench scenarios from a folder where
# the repository's rtsim/ source does not shadow the installed package, and writes each
# result as JSON (plus a log) under OUT_DIR. Steps run in order of importance; each one's
# failure is logged and the next one still runs.
set -u
OUT=${1:?usage: bash bench/gpu_check.sh OUT_DIR [WHEEL_DIR]}
WHEELS=${2:-.whl}
REPO=$PWD
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 RTSIM_CACHE=/tmp/rtsim-cache
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site "$WHEELS"/*.whl || exit 1
export PYTHONPATH=/tmp/site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
WORK=/tmp/rtsim-gpu && rm -rf "$WORK" && mkdir -p "$WORK" && cp -r "$REPO/tests" "$WORK/"
printf '[pytest]\nmarkers =\n    cuda: needs a CUDA device\n    slow: slow\n' > "$WORK/pytest.ini"
cd "$WORK" || exit 1
mkdir -p bin && printf '#!/bin/sh\nexec python3 -c "import sys; from rtsim.cli.main import main; sys.exit(main())" "$@"\n' \
  > bin/rtsim && chmod +x bin/rtsim && export PATH=$WORK/bin:$PATH
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log how it ended
  local name=$1 limit=$2; shift 2
  if [ -n "${STEPS:-}" ] && [[ " $STEPS " != *" $name "* ]]; then return; fi
  local t0=$SECONDS
  echo "=== $name"
  timeout "$limit" "$@"; local rc=$?
  echo "=== $name: rc=$rc in $((SECONDS - t0)) s"
}
step tests 120 python3 -m pytest -q -p no:cacheprovider -m cuda tests/index/test_torch_search.py \
  tests/engine/test_device_hop.py
step frontend 90 rtsim bench frontend --device cuda --repeats 200 --json "$OUT/frontend.json"
step latency-timbre-graph 150 rtsim bench latency --device cuda --embedders timbre \
  --library-size 1e6 --index flat --search torch --backend cudagraph --seconds 20 \
  --json "$OUT/latency-timbre-graph.json"
step latency-timbre-graph-si0.1 40 rtsim bench latency --device cuda --embedders timbre \
  --library-size 1e6 --index flat --search torch --backend cudagraph --seconds 15 \
  --switch-interval-ms 0.1 --json "$OUT/latency-timbre-graph-si0.1.json"
step latency-timbre-eager 40 rtsim bench latency --device cuda --embedders timbre \
  --library-size 1e6 --index flat --search torch --backend eager --seconds 15 \
  --json "$OUT/latency-timbre-eager.json"
step latency-all-graph 200 rtsim bench latency --device cuda \
  --embedders timbre,stem/mix,disentangled,sample --library-size 1e6 --index flat \
  --search torch --backend cudagraph --seconds 20 --json "$OUT/latency-all-graph.json"
step search 200 rtsim bench search --device cuda --sizes 1e6,1e7 --dims 256 --indexes kdtree \
  --threads 16 --repeats 300 --json "$OUT/search.json"
step search-1e7 200 rtsim bench search --device cuda --sizes 1e7 --dims 256 --indexes kdtree \
  --threads 16 --repeats 300 --quick --json "$OUT/search-1e7.json"
step latency-all-graph-si0.1 150 rtsim bench latency --device cuda \
  --embedders timbre,stem/mix,disentangled,sample --library-size 1e6 --index flat \
  --search torch --backend cudagraph --seconds 10 --switch-interval-ms 0.1 \
  --json "$OUT/latency-all-graph-si0.1.json"
step embed 90 rtsim bench embed --device cuda --backends eager,torchscript,cudagraph \
  --embedders timbre,stem/mix,disentangled,sample --repeats 300 --json "$OUT/embed.json"
echo "=== done in $SECONDS s"
