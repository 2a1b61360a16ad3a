#!/usr/bin/env bash
# Leave-one-source-out numbers of the timbre map (models/timbre/MODEL_CARD.md): one map per
# held-out source, trained by train-clips.toml on every other source, then scored by
# `rtsim eval samples` on the notes it never saw (instrument family, the query's own
# program or instrument hidden), beside MFCC statistics, pca and the notes-trained map.
#
#   bash models/timbre/loso.sh [OUT] [STEPS]      (~10 min a fold on a 2-core CPU at 1000 steps)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/timbre-loso}
steps=${2:-1000}
rtsim=${RTSIM:-.venv/bin/rtsim}
corp=${RTSIM_CACHE:-$HOME/.cache/rtsim}/corpora
mkdir -p "$out"
"$rtsim" data label sonic-pi "$out/sonic-pi.csv" >/dev/null
"$rtsim" data label lmms "$out/lmms.csv" >/dev/null
{ cat "$out/sonic-pi.csv"; tail -n +2 "$out/lmms.csv"; } > "$out/recorded.csv"

for fold in sonic-pi,lmms timgm6mb csound; do
    run="$out/run-${fold//,/+}"
    [[ -f "$run/best.safetensors" ]] || "$rtsim" train models/timbre/train-clips.toml \
        --out "$run" --leave-out "$fold" --steps "$steps" --max-minutes 12 --no-progress
done

ev() {  # ev NAME RUN DIR CSV
    "$rtsim" eval samples "$3" --labels "$4" --group group --where kind=note \
        --embedder "$2" --embedder timbre --out "$out/eval-$1" --no-progress
}
ev recorded-notes "$out/run-sonic-pi+lmms" / "$out/recorded.csv"
for sf in timgm6mb csound; do
    d="$corp/oneshots-$sf-sr22050"
    ev "$sf-notes" "$out/run-$sf" "$d" "$d/labels.csv"
done
