"""Build a running engine from a :class:`~rtsim.engine.config.RtsimConfig`.

This is the one place that knows every layer: it opens the source, loads each library
and pairs it with its embedder (refusing a mismatch), opens the publishers and caps the
compute threads so that capture keeps a core.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from pathlib import Path

from rtsim.audio.open import open_source
from rtsim.embed import get
from rtsim.engine.config import RtsimConfig
from rtsim.engine.control import ControlPlane
from rtsim.engine.engine import Engine, Publisher, Route
from rtsim.engine.pipeline import Pipeline
from rtsim.errors import ConfigError
from rtsim.features.device import limit_threads, resolve_device
from rtsim.index import Library

__all__ = ["resolve_device", "build_engine", "open_publishers", "open_sampler",
           "limit_threads"]

log = logging.getLogger(__name__)


def open_publishers(cfg: RtsimConfig, pipelines: Sequence[Pipeline]) -> list[Publisher]:
    """The OSC, ZeroMQ, Wekinator and MIDI publishers the config enables."""
    from rtsim.publish.midi import MidiPublisher
    from rtsim.publish.osc_publisher import OscPublisher
    from rtsim.publish.wekinator import WekinatorPublisher
    from rtsim.publish.zmq import ZmqPublisher

    pubs: list[Publisher] = []
    try:  # one that fails to open closes those opened before it
        if cfg.osc.enabled:
            pubs.append(OscPublisher(cfg.osc, embedders={
                p.name: (p.embedder.spec.dim, p.k) for p in pipelines}))
        if cfg.zmq.enabled:
            pubs.append(ZmqPublisher(cfg.zmq))
        if cfg.wekinator.enabled:
            pubs.append(WekinatorPublisher(cfg.wekinator, embedders={
                p.name: p.embedder.spec.dim for p in pipelines}))
        if cfg.midi.enabled:
            pubs.append(MidiPublisher(cfg.midi, pipelines=pipelines))
    except BaseException:
        for pub in pubs:
            pub.close()
        raise
    return pubs


def open_sampler(cfg: RtsimConfig, pipelines: Sequence[Pipeline], source) -> Publisher:
    """The built-in sampler ``[play]`` describes (a file render is timed by ``source``)."""
    from rtsim.play.sampler import Sampler

    return Sampler(cfg.play, pipelines, origin=lambda: getattr(source, "start_time", None))


def build_engine(cfg: RtsimConfig, *, extra_publishers: Sequence[Publisher] = ()) -> Engine:
    """Open everything ``cfg`` describes and return an engine ready to :meth:`~Engine.run`."""
    if not cfg.embedder:
        raise ConfigError("no [[embedder]] configured: give at least one name and library")
    limit_threads(cfg.engine.threads)
    device = resolve_device(cfg.engine.device)
    realtime = cfg.source.kind == "live" or cfg.source.realtime
    routes = []
    for ecfg in cfg.embedder:
        if not ecfg.enabled:
            continue
        library = Library.open(Path(ecfg.library).expanduser())
        embedder = library.load_embedder(get(ecfg.name), device=device, backend=ecfg.backend)
        hop = embedder.spec.frontend.hop_length
        if hop % ecfg.update_divisor:
            raise ConfigError(f"embedder {ecfg.name!r}: update_divisor={ecfg.update_divisor} "
                              f"does not divide its front end's hop_length={hop}")
        pipeline = Pipeline(embedder=embedder, library=library, k=ecfg.k,
                            silence_db=cfg.engine.silence_db,
                            max_backlog=cfg.engine.max_backlog if realtime else None,
                            match_delay_s=cfg.onset.match_delay_ms / 1000,
                            stride=ecfg.update_divisor, stability=ecfg.stability,
                            search=cfg.engine.search)
        routes.append(Route(pipeline, ecfg.channel))
    if not routes:
        raise ConfigError("every configured embedder is disabled")
    publishers = open_publishers(cfg, [r.pipeline for r in routes])
    source = None
    try:  # whatever fails, what was opened so far is closed again
        source = open_source(cfg.source)
        if cfg.play.enabled:
            publishers.append(open_sampler(cfg, [r.pipeline for r in routes], source))
        engine = Engine(source=source, routes=routes,
                        publishers=[*publishers, *extra_publishers], config=cfg.engine,
                        onset=cfg.onset, realtime=realtime)
        engine.control = ControlPlane(engine, cfg.control)
    except BaseException:
        if source is not None:
            source.stop()
        for p in publishers:
            p.close()
        raise
    gc.collect()
    gc.freeze()  # start-up objects leave the collector's generations: shorter pauses
    return engine
