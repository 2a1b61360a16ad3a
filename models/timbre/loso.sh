#!/usr/bin/env bash
# Leave-one-source-out numbers of the timbre map (models/timbre/MODEL_CARD.md): one map per
# held-out source, trained by train.toml on every other source, then scored by
# `rtsim eval samples` on the notes it never saw (instrument family, the query's own
# program or instrument hidden), beside MFCC statistics, pca and the shipped map.
#
#   bash models/timbre/loso.sh [OUT] [STEPS]      (~12 min a fold on a 2-core CPU)
source "$(dirname "$0")/../loso.sh" "${1:-runs/timbre-loso}" "${2:-1000}"
folds models/timbre/train.toml 12
ev recorded-notes "$out/run-sonic-pi+lmms" / "$out/recorded.csv" kind=note
for sf in timgm6mb csound; do
    d="$corp/oneshots-$sf-sr22050"
    ev "$sf-notes" "$out/run-$sf" "$d" "$d/labels.csv" kind=note
done
