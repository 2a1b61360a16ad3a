# Shared by models/<name>/loso.sh (sourced, not run): leave-one-source-out over the
# one-shot sources. Defines $out, $corp, $rtsim, the recorded-samples table
# $out/recorded.csv, `folds CONFIG MINUTES [FOLD...]` (one model per held-out source;
# default folds: the recordings, timgm6mb, csound) and
# `ev NAME RUN DIR CSV WHERE...` (rtsim eval samples beside MFCC, pca and timbre; with
# HIDE=COLUMN in the environment, also `--hide COLUMN`: each query's own recording hidden).
#   usage inside a model's script: source "$(dirname "$0")/../loso.sh" "$@"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:?output folder}
steps=${2:-1000}
rtsim=${RTSIM:-.venv/bin/rtsim}
corp=${RTSIM_CACHE:-$HOME/.cache/rtsim}/corpora
mkdir -p "$out"
"$rtsim" data label sonic-pi "$out/sonic-pi.csv" >/dev/null
"$rtsim" data label lmms "$out/lmms.csv" >/dev/null
{ cat "$out/sonic-pi.csv"; tail -n +2 "$out/lmms.csv"; } > "$out/recorded.csv"

folds() {  # folds CONFIG MINUTES [FOLD...]: a model per held-out source (kept if there)
    local config=$1 minutes=$2 fold run; shift 2
    (($#)) || set -- sonic-pi,lmms timgm6mb csound
    for fold in "$@"; do
        run="$out/run-${fold//,/+}"
        [[ -f "$run/best.safetensors" ]] || "$rtsim" train "$config" --out "$run" \
            --leave-out "$fold" --steps "$steps" --max-minutes "$minutes" --no-progress
    done
}

ev() {  # ev NAME RUN DIR CSV WHERE...
    local name=$1 run=$2 dir=$3 csv=$4; shift 4
    local where=(); for w in "$@"; do where+=(--where "$w"); done
    [[ -z "${HIDE:-}" ]] || where+=(--hide "$HIDE")
    "$rtsim" eval samples "$dir" --labels "$csv" --group group "${where[@]}" \
        --embedder "$run" --embedder timbre --out "$out/eval-$name" --no-progress
}
