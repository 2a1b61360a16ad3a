"""Hear the match: a built-in sampler that plays the library samples rtsim finds.

:class:`~rtsim.play.sampler.Sampler` is a publisher: the engine hands it the same hop and
trigger events it sends over OSC and ZeroMQ, and it plays the matched items of the
library through a voice pool (:mod:`rtsim.play.voices`) into a PortAudio output or a WAV
file (:mod:`rtsim.play.output`), from samples decoded once into a memory-mapped bank
(:mod:`rtsim.play.bank`). Configured by ``[play]`` (:class:`~rtsim.play.config.PlayConfig`).
"""
