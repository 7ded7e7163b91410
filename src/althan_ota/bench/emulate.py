"""Fleet emulation speed: the C engine against the SimPy reference model of the same timing rules, and the
full-fleet scenario (2,000,000 installations, 240 KB image, 50-byte blocks, HAN PER 2%, bridge PER 10%).

A building row: one shared 2.4 GHz channel of 100 stations running 802.15.4 CSMA-CA at an offered load of 0.6
(csrc/emu_channel.h) against the SimPy model of the same channel (althan_ota.testing.simpy_channel), same
configuration and simulated time, per frame sent.

A building-engine row: one block of 20 flats starting within seconds of each other on shared air (one HAN and
one bridge channel, csrc/emu.h "Shared air") in the C per-building engine against the SimPy model of one
building (althan_ota.testing.simpy_building), per device. And the full fleet with shared air, in buildings
drawn as ``fleet generate`` draws them, extrapolated from a sample, with no building cap and with a cap of 1
(the target of issue 17 is 60 s).

SimPy is timed on a small subset and scaled per device (it is far too slow for the whole set); the quick
mode also extrapolates the full fleet from 20,000 installations. Set ALTHAN_OTA_BENCH_FULL_FLEET=1 to run the
2,000,000 installations for real (about a minute or two on two cores, under 1 GB).
"""

from __future__ import annotations

import os
import time

from . import Result, compare

IMAGE = 240_000
FULL_FLEET = 2_000_000


def _once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(quick: bool) -> list[Result]:
    from ..emulate import EmulationParams, emulate

    params = EmulationParams()
    results: list[Result] = []
    installations = 5_000                   # 10,000 devices
    ours_s = min(_once(lambda: emulate(installations, IMAGE, params, seed=1)) for _ in range(1 if quick else 2))
    ours = Result("emulate", "timing, 240 KB image, 10,000 devices", "althan-ota C engine", ours_s,
                  2 * installations, "device")
    peer = None
    try:
        from ..testing.simpy_emulator import reference_emulate
        import simpy  # noqa: F401
    except ImportError:
        results.append(Result("emulate", ours.kernel, "simpy reference (missing: pip install simpy)",
                              float("nan"), 2 * installations, "device"))
    else:
        subset = 2 if quick else 50
        per_device = _once(lambda: reference_emulate(subset, IMAGE, params, seed=1)) / (2 * subset)
        peer = Result("emulate", ours.kernel, f"simpy reference (timed on {2 * subset} devices, scaled)",
                      per_device * 2 * installations, 2 * installations, "device")
    compare(results, ours, peer)
    results.extend(_building_rows(quick))
    results.extend(_building_engine_rows(quick))

    if os.environ.get("ALTHAN_OTA_BENCH_FULL_FLEET") == "1":
        seconds = _once(lambda: emulate(FULL_FLEET, IMAGE, params, seed=1))
        label = "althan-ota C engine (measured)"
    else:
        sample = 20_000
        seconds = _once(lambda: emulate(sample, IMAGE, params, seed=1)) * FULL_FLEET / sample
        label = f"althan-ota C engine (extrapolated from {sample:,} installations)"
    results.append(Result("emulate", "timing, full fleet 2,000,000 installations", label, seconds,
                          2 * FULL_FLEET, "device"))
    return results


def _building_rows(quick: bool) -> list[Result]:
    from ..emulate.channel import channel_config, simulate_channel

    cfg = channel_config(100, 2e-3, access="csma_802154", load=0.6, seed=1)
    seconds_of_air = 20.0 if quick else 200.0
    stats = simulate_channel(cfg, seconds_of_air)
    kernel = "building channel, 100 stations 802.15.4 CSMA-CA, load 0.6"
    ours = Result("emulate", kernel, "althan-ota channel engine",
                  min(_once(lambda: simulate_channel(cfg, seconds_of_air)) for _ in range(1 if quick else 3)),
                  stats.sent, "frame")
    rows: list[Result] = []
    try:
        import simpy  # noqa: F401
    except ImportError:
        rows.append(Result("emulate", kernel, "simpy channel model (missing: pip install simpy)", float("nan"),
                           stats.sent, "frame"))
        rows.append(ours)
        return rows
    from ..testing.simpy_channel import simulate_channel_reference

    peer_air = seconds_of_air / 10          # SimPy is timed on a tenth of the time and scaled per frame
    ref_frames = 0

    def reference():
        nonlocal ref_frames
        ref_frames = simulate_channel_reference(cfg, peer_air, seed=1).sent
    peer_s = _once(reference)
    peer = Result("emulate", kernel, f"simpy channel model (timed on {peer_air:g} s of air, scaled)",
                  peer_s / max(ref_frames, 1) * stats.sent, stats.sent, "frame")
    compare(rows, ours, peer)
    return rows


def _building_engine_rows(quick: bool) -> list[Result]:
    import dataclasses

    import numpy as np

    from ..emulate import EmulationParams, OutageParams, emulate
    from ..fleet.synthetic import _buildings as draw_buildings   # the building sizes `fleet generate` draws

    flats, image = 20, 8_000 if quick else 24_000
    params = EmulationParams(contention=True, outages=OutageParams.none(), wan_delay_sigma=0.01)
    kernel = f"building engine, a block of {flats} flats on shared air, {image // 1000} KB image"
    blocks = 5 if quick else 20

    def ours_run():
        for b in range(blocks):
            keys = np.arange(b * flats, (b + 1) * flats, dtype=np.uint64)
            emulate(flats, image, params, seed=1, installation_keys=keys, buildings=["BLOCK"] * flats)
    ours = Result("emulate", kernel, "althan-ota per-building engine",
                  min(_once(ours_run) for _ in range(1 if quick else 2)), 2 * flats * blocks, "device")
    rows: list[Result] = []
    try:
        import simpy  # noqa: F401
    except ImportError:
        rows.append(Result("emulate", kernel, "simpy building model (missing: pip install simpy)", float("nan"),
                           2 * flats * blocks, "device"))
        rows.append(ours)
    else:
        from ..testing.simpy_building import reference_building
        peer_s = _once(lambda: reference_building(flats, image, params, seed=1))
        peer = Result("emulate", kernel, "simpy building model (timed on one block, scaled)",
                      peer_s * blocks, 2 * flats * blocks, "device")
        compare(rows, ours, peer)

    for cap, sample in ((None, 500 if quick else 5_000), (1, 5_000 if quick else 50_000)):
        shared = dataclasses.replace(EmulationParams(), contention=True, building_cap=cap)
        buildings = draw_buildings(np.random.default_rng(1), sample).astype(np.int64)
        seconds = _once(lambda: emulate(sample, IMAGE, shared, seed=1, buildings=buildings)) * FULL_FLEET / sample
        rows.append(Result("emulate", "timing with shared air, full fleet 2,000,000 installations in buildings"
                           + (f", building cap {cap}" if cap else ", no building cap"),
                           f"althan-ota per-building engine (extrapolated from {sample:,} installations)", seconds,
                           2 * FULL_FLEET, "device"))
    return rows
