#!/usr/bin/env bash
# Leave-one-source-out numbers of models/sample/MODEL_CARD.md, reproduced end to end:
# train one model per held-out source (every other source trains it), then score it on
# the source it never saw with `rtsim eval samples`, side by side with MFCC statistics
# and pca (k = 5, the query's own kit / program / pack excluded).
#
#   bash models/sample/loso.sh [OUT] [STEPS]   (~80 min on a 2-core CPU at 2000 steps, the
#   shipped recipe: the card's table; 1000 steps for a quicker, lower look)
source "$(dirname "$0")/../loso.sh" "${1:-runs/sample-loso}" "${2:-2000}"
# The recordings fold leaves LMMS's DrumSynth presets out with LMMS's recorded samples: one
# package, and some of its recorded drums may be DrumSynth renders.
folds models/sample/train.toml $(( steps * 9 / 1000 + 2 )) sonic-pi,lmms,drumsynth timgm6mb \
    csound avl
r="$out/run-sonic-pi+lmms+drumsynth"
ev recorded-drums6 "$r" / "$out/recorded.csv" kind=drum 'label!=perc'
ev recorded-drums "$r" / "$out/recorded.csv" kind=drum
ev recorded-notes "$r" / "$out/recorded.csv" kind=note
for sf in timgm6mb csound; do
    d="$corp/oneshots-$sf-sr22050"
    ev "$sf-notes" "$out/run-$sf" "$d" "$d/labels.csv" kind=note
    ev "$sf-drums6" "$out/run-$sf" "$d" "$d/labels.csv" kind=drum 'label!=perc'
    # the same with each query's own recording hidden too: a soundfont's kits and programs
    # reuse its samples, retuned or layered, which a kit-hidden query still sees
    HIDE=recording ev "$sf-notes-hidden" "$out/run-$sf" "$d" "$d/labels.csv" kind=note
    HIDE=recording ev "$sf-drums6-hidden" "$out/run-$sf" "$d" "$d/labels.csv" kind=drum \
        'label!=perc'
done
d="$corp/oneshots-avl-sr22050"  # two recorded acoustic kits: the other kit's hits only
ev avl-drums6 "$out/run-avl" "$d" "$d/labels.csv" kind=drum 'label!=perc'
ev avl-drums "$out/run-avl" "$d" "$d/labels.csv" kind=drum
