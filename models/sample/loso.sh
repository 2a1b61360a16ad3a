#!/usr/bin/env bash
# Leave-one-source-out numbers of models/sample/MODEL_CARD.md, reproduced end to end:
# train one model per held-out source (every other source trains it), then score it on
# the source it never saw with `rtsim eval samples`, side by side with MFCC statistics
# and pca (k = 5, the query's own kit / program / pack excluded).
#
#   bash models/sample/loso.sh [OUT] [STEPS]      (~30 min on a 2-core CPU at 1000 steps)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/sample-loso}
steps=${2:-1000}
rtsim=${RTSIM:-.venv/bin/rtsim}
corp=${RTSIM_CACHE:-$HOME/.cache/rtsim}/corpora
mkdir -p "$out"
"$rtsim" data label sonic-pi "$out/sonic-pi.csv" >/dev/null
"$rtsim" data label lmms "$out/lmms.csv" >/dev/null
{ cat "$out/sonic-pi.csv"; tail -n +2 "$out/lmms.csv"; } > "$out/recorded.csv"

for fold in sonic-pi,lmms timgm6mb csound; do
    run="$out/run-${fold//,/+}"
    [[ -f "$run/best.safetensors" ]] || "$rtsim" train models/sample/train.toml --out "$run" \
        --leave-out "$fold" --steps "$steps" --max-minutes 9 --no-progress
done

ev() {  # ev NAME RUN DIR CSV WHERE...
    local name=$1 run=$2 dir=$3 csv=$4; shift 4
    local where=(); for w in "$@"; do where+=(--where "$w"); done
    "$rtsim" eval samples "$dir" --labels "$csv" --group group "${where[@]}" \
        --embedder "$run" --embedder timbre --out "$out/eval-$name" --no-progress
}
r="$out/run-sonic-pi+lmms"
ev recorded-drums6 "$r" / "$out/recorded.csv" kind=drum 'label!=perc'
ev recorded-drums "$r" / "$out/recorded.csv" kind=drum
ev recorded-notes "$r" / "$out/recorded.csv" kind=note
for sf in timgm6mb csound; do
    d="$corp/oneshots-$sf-sr22050"
    ev "$sf-notes" "$out/run-$sf" "$d" "$d/labels.csv" kind=note
    ev "$sf-drums6" "$out/run-$sf" "$d" "$d/labels.csv" kind=drum 'label!=perc'
done
