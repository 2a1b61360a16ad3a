#!/usr/bin/env bash
# Set up rtsim on a Debian machine: system packages, a virtual environment in .venv,
# and the package itself (editable). Safe to run again; it only installs what is missing.
#
#   ./setup.sh          runtime (+ live audio)
#   ./setup.sh --dev    runtime + test tools
set -euo pipefail
cd "$(dirname "$0")"

extras="live"
[[ "${1:-}" == "--dev" ]] && extras="live,dev"

# -- Debian packages -----------------------------------------------------------------
need=()
dpkg -s portaudio19-dev >/dev/null 2>&1 || need+=(portaudio19-dev)
dpkg -s libsndfile1 >/dev/null 2>&1 || need+=(libsndfile1)
dpkg -s liblo-tools >/dev/null 2>&1 || need+=(liblo-tools)
dpkg -s python3-venv >/dev/null 2>&1 || python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [[ "$extras" == *dev* ]]; then
    # the Pure Data example is played headless in the tests
    dpkg -s puredata-core >/dev/null 2>&1 || need+=(puredata-core)
    # rtsim view is tested in a real browser (headless, driven over DevTools)
    dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
    # training corpora are rendered with FluidSynth from Debian's GM soundfonts and the
    # AVL Drumkits (recorded acoustic kits)
    for p in fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small \
             csound-soundfont avldrums.lv2-soundfont; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    # the song corpus's singers: festival's singing mode (two diphone voices) and espeak-ng
    for p in festival festvox-kallpc16k festvox-kdlpc16k espeak-ng; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
fi
if ((${#need[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "setup: installing Debian packages: ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "setup: missing Debian packages. Run:  sudo apt-get install -y ${need[*]}" >&2
        exit 1
    fi
fi

# -- Python environment --------------------------------------------------------------
py=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$py" -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
    # The CPU wheel 2.13.0 is preferred (a bare `torch` can pull a multi-GB CUDA build).
    "${pip[@]}" "torch==2.13.0" 2>/dev/null \
        || "${pip[@]}" --index-url https://download.pytorch.org/whl/cpu "torch>=2.4,<2.14" 2>/dev/null \
        || "${pip[@]}" "torch>=2.4,<2.14"
fi
"${pip[@]}" -e ".[${extras}]" 2> >(grep -v "is ignored: it is neither" >&2)
echo "setup: ready (.venv, extras: ${extras})"
