"""Training corpora: rendered notes and songs, and loaders for real datasets.

- :func:`rtsim.training.data.notes.render_notes`: NSynth-layout one-shots from GM
  programs (timbre embedder).
- :func:`rtsim.training.data.songs.render_songs`: Slakh2100-layout multitrack pieces
  with genre / mood / instrument / tempo labels (stem and disentangled embedders).
- :mod:`rtsim.training.data.loaders`: NSynth, Slakh2100, labelled folders, MTG-Jamendo.
- :func:`rtsim.training.data.cli.cmd_render`: ``rtsim data render notes|songs OUT``.

Rendering needs the ``fluidsynth`` program and a GM soundfont (Debian:
``fluidsynth fluid-soundfont-gm timgm6mb-soundfont``).
"""
