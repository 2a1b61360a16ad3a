"""``rtsim bench play``: from a trigger to its first sample at the output, 1 to 32 voices.

The sampler's voice pool plays the demo library's items through an output (the software
clock, ``[play] device = "clock"``, unless ``--play-device`` names a sound card). A driver
thread, standing for the engine, asks for voices at random times, at the rate that keeps
``voices`` of them sounding, and stamps each request. The output records when each of its
blocks reaches the converter (PortAudio's stream clock on a device; one period after the
block is mixed on the clock), so a voice's trigger-to-sound latency is the sound time of
its first frame minus its request time: the wait for the next block, plus the block of
output buffering. The onset detector's own delay comes before the trigger and is not in
it (``rtsim bench event`` measures that).

Then, side by side in one run, the engine of ``rtsim bench latency`` (the demo performance
in real time against the demo library of each ``--embedders``, default ``sample``) without
and with the sampler (trigger mode, clock output): the hop timing must not change with
``--play``.
"""

from __future__ import annotations

import time

import numpy as np

from rtsim.bench.core import Report

__all__ = ["run", "trigger_to_sound"]

RATE = 44100
TARGET_SLACK_MS = 5.0  # the target: p99 <= one output block + 5 ms


def _parse(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    from rtsim.errors import ConfigError

    if not text:
        return default
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"{text!r} must be comma-separated integers") from None
    if any(v < 1 for v in values):
        raise ConfigError(f"{text!r}: every value must be >= 1")
    return values


def _output(mixer, *, device, block: int):
    from rtsim.play.output import CLOCK, ClockedOutput, DeviceOutput

    if device in (None, CLOCK):
        return ClockedOutput(mixer, rate=RATE, channels=2, block=block)
    return DeviceOutput(mixer, device=device, rate=RATE, channels=2, block=block)


def trigger_to_sound(bank, *, voices: int, block: int, seconds: float, device=None,
                     seed: int = 0) -> dict:
    """Trigger voices for ``seconds``; latencies (s) and the output's counters.

    Triggers come at exponential intervals whose mean keeps ``voices`` voices sounding
    (mean item length / voices), so they fall at every phase of the output's blocks.
    """
    from rtsim.play.output import Mixer
    from rtsim.play.voices import VoicePool, pan_gains

    rng = np.random.default_rng(seed)
    playable = np.flatnonzero(bank.length > 0)
    # compile the kernels before the clock runs (on a pool of its own: a pool counts the
    # frames it mixed, which must be the output's)
    VoicePool(bank.audio, channels=2, polyphony=1).mix(np.zeros((block, 2), np.float32))
    pool = VoicePool(bank.audio, channels=2, polyphony=voices, fade=int(0.003 * RATE))
    mixer = Mixer([pool], channels=2, block=block)
    output = _output(mixer, device=device, block=block)
    mean_s = float(np.mean(bank.length[playable])) / RATE / voices
    gains = pan_gains(2, 0.5, 0.0)
    pending: list[tuple[int, float]] = []
    latencies: list[float] = []

    def resolve(final: bool = False) -> None:
        keep = []
        for seq, t in pending:
            frame = pool.started_frame(seq)
            heard = output.times.sound_time(frame) if frame >= 0 else None
            if heard is not None:
                latencies.append(heard - t)
            elif not final:
                keep.append((seq, t))
        pending[:] = keep

    try:
        time.sleep(0.1)  # let the output settle
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            time.sleep(min(rng.exponential(mean_s), 0.25))
            item = int(rng.choice(playable))
            t = time.perf_counter()
            seq = pool.play(int(bank.start[item]), int(bank.length[item]), gains=gains)
            if seq >= 0:
                pending.append((seq, t))
            resolve()
        time.sleep(4 * block / RATE + 0.05)
        resolve(final=True)
    finally:
        output.close()
    return {"latency": np.array(latencies), "xruns": output.xruns, "blocks": output.blocks,
            "output": getattr(output, "name", str(device)),
            "output_latency_ms": 1e3 * float(output.latency_s), **pool.stats()}


def _hop_timing(args, *, play: bool, seconds: float, clip, libraries) -> dict:
    from rtsim.bench.scenarios.latency import engine_config, histogram_samples
    from rtsim.bench.scenarios.live import OscTap
    from rtsim.engine.wiring import build_engine

    tap = OscTap()
    extra = {"play": {"enabled": True, "device": "clock", "mode": "trigger"}} if play else {}
    engine = build_engine(engine_config(args, clip=clip, libraries=libraries,
                                        osc_port=tap.port, extra=extra))
    try:
        engine.run(duration=seconds)
    finally:
        for pub in engine.publishers:
            pub.close()
        tap.close()
    sampler = [p for p in engine.publishers if hasattr(p, "mixer")]
    status = engine.status()
    return {"hop": histogram_samples(engine.timer.stages["hop"]),
            "missed_hops": status.missed_hops, "hops": status.hops,
            "play": sampler[0].stats() if sampler else None}


def run(args) -> Report:
    """Trigger-to-sound for each block size and voice count, then the engine side by side."""
    from rtsim.demo.data import ensure_demo
    from rtsim.index import Library
    from rtsim.play.bank import load_bank

    seconds = args.seconds or (2.0 if args.quick else 20.0)
    voice_counts = _parse(getattr(args, "voices", None), (1, 8) if args.quick else (1, 8, 32))
    blocks = _parse(getattr(args, "blocks", None), (256,) if args.quick else (64, 128, 256))
    device = getattr(args, "play_device", None)
    assets = ensure_demo(device=args.device, progress=False)
    bank = load_bank(Library.open(assets.library), sr=RATE)
    rep = Report("play")
    for block in blocks:
        for voices in voice_counts:
            r = trigger_to_sound(bank, voices=voices, block=block, seconds=seconds,
                                 device=device)
            s = rep.add_samples(f"trigger_to_sound b{block} v{voices}", r["latency"])
            block_ms = 1e3 * block / RATE
            rep.rows.append({
                "block": block, "block_ms": round(block_ms, 2), "voices": voices,
                "triggers": s["n"], "p50_ms": round(s["p50_ms"], 2),
                "p99_ms": round(s["p99_ms"], 2), "max_ms": round(s["max_ms"], 2),
                "target_ms": round(block_ms + TARGET_SLACK_MS, 2),
                "met": bool(s["p99_ms"] <= block_ms + TARGET_SLACK_MS),
                "xruns": r["xruns"], "blocks": r["blocks"], "started": r["started"],
                "stolen": r["stolen"], "dropped": r["dropped"], "output": r["output"]})
    engine_s = seconds if args.quick else min(seconds, 15.0)
    names = args.embedders.split(",") if args.embedders else ["sample"]
    libraries = {n: ensure_demo(embedder=n, device=args.device, progress=False).library
                 for n in names}  # the demo libraries: every item plays
    # alternating runs (without, with, without, with): the machine's drift falls on both
    side: dict[str, list] = {"without play": [], "with play": []}
    for _ in range(1 if args.quick else 2):
        for label, on in (("without play", False), ("with play", True)):
            side[label].append(_hop_timing(args, play=on, seconds=engine_s, clip=assets.clip,
                                           libraries=libraries))
    hops = {label: rep.add_samples(f"engine hop, {label}",
                                   np.concatenate([r["hop"] for r in runs]))
            for label, runs in side.items()}
    rep.ratios["hop_p50_without_vs_with_play"] = (hops["without play"]["p50_ms"]
                                                 / hops["with play"]["p50_ms"])
    rep.extra.update(
        seconds=seconds, rate=RATE, device=args.device, play_device=device or "clock",
        engine={label: [{k: v for k, v in r.items() if k != "hop"} for r in runs]
                for label, runs in side.items()},
        engine_seconds=engine_s, embedders=names,
        targets={"trigger_to_sound_p99_le_block_plus_5ms": all(r["met"] for r in rep.rows),
                 "hop_p99_unchanged_within_20pct": hops["with play"]["p99_ms"]
                 <= 1.2 * hops["without play"]["p99_ms"] + 0.1})
    rep.notes.append("trigger_to_sound = sound time of the voice's first output frame - the "
                     "time it was asked for; the clock output sounds a block one period after "
                     "mixing it (double buffering): expect block..2 blocks")
    return rep

