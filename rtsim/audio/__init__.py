"""rtsim.audio: capture (ring buffer, sources), resampling and test signals.

Submodules are imported explicitly (`from rtsim.audio.ring import RingBuffer`) so that
importing the package stays cheap: `ring`, `resample`, `sources` (`SourceConfig`,
`AudioSource`), `open` (`open_source`), `synth`, `files`, `live`, `devices`.
"""
