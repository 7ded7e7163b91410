"""Fleet emulation: the C engine against the SimPy reference model of the same rules, in one benchmark group.

Both run the same 20 devices in one group (SimPy would need an hour for 10,000); the engine also runs
10,000 devices in its own group, to scale the per-device SimPy time against. The full fleet (2,000,000 installations) runs only with ALTHAN_OTA_FULL_FLEET=1 and prints
its wall time and peak RSS.
"""

from __future__ import annotations

import os
import resource
import time

import pytest

from althan_ota.emulate import EmulationParams, emulate

IMAGE = 240_000
PARAMS = EmulationParams()


@pytest.mark.benchmark(group="emulate timing 240 KB, 10,000 devices")
def test_engine_10000_devices(benchmark):
    result = benchmark.pedantic(emulate, args=(5_000, IMAGE, PARAMS), kwargs={"seed": 1}, rounds=2,
                                iterations=1)
    assert len(result) == 10_000
    benchmark.extra_info["devices"] = 10_000


@pytest.mark.benchmark(group="emulate timing 240 KB, 20 devices (same devices for both)")
def test_engine_20_devices(benchmark):
    result = benchmark.pedantic(emulate, args=(10, IMAGE, PARAMS), kwargs={"seed": 1}, rounds=3, iterations=1)
    assert len(result) == 20


@pytest.mark.benchmark(group="emulate timing 240 KB, 20 devices (same devices for both)")
def test_simpy_reference_20_devices(benchmark):
    pytest.importorskip("simpy")
    from althan_ota.testing.simpy_emulator import reference_emulate

    out = benchmark.pedantic(reference_emulate, args=(10, IMAGE, PARAMS), kwargs={"seed": 1}, rounds=1,
                             iterations=1)
    assert out["outcome"].shape == (20,)
    benchmark.extra_info["devices"] = 20


BUILDING_CHANNEL = dict(n_stations=100, airtime_s=2e-3, access="csma_802154", load=0.6, seed=1)


@pytest.mark.benchmark(group="emulate building channel, 100 stations CSMA-CA, 20 s of air (same for both)")
def test_channel_engine_100_stations(benchmark):
    from althan_ota.emulate.channel import channel_config, simulate_channel

    cfg = channel_config(**BUILDING_CHANNEL)
    stats = benchmark.pedantic(simulate_channel, args=(cfg, 20.0), rounds=3, iterations=1)
    assert stats.sent > 0
    benchmark.extra_info["frames"] = stats.sent


@pytest.mark.benchmark(group="emulate building channel, 100 stations CSMA-CA, 20 s of air (same for both)")
def test_simpy_channel_100_stations(benchmark):
    pytest.importorskip("simpy")
    from althan_ota.emulate.channel import channel_config
    from althan_ota.testing.simpy_channel import simulate_channel_reference

    cfg = channel_config(**BUILDING_CHANNEL)
    counts = benchmark.pedantic(simulate_channel_reference, args=(cfg, 20.0), kwargs={"seed": 1}, rounds=1,
                                iterations=1)
    assert counts.sent > 0
    benchmark.extra_info["frames"] = counts.sent


@pytest.mark.skipif(os.environ.get("ALTHAN_OTA_FULL_FLEET") != "1",
                    reason="full fleet (2,000,000 installations) runs only with ALTHAN_OTA_FULL_FLEET=1")
def test_full_fleet():
    t0 = time.perf_counter()
    result = emulate(2_000_000, IMAGE, PARAMS, seed=1)
    wall = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nfull fleet: 4,000,000 devices in {wall:.1f} s wall, peak RSS {peak_mib:.0f} MiB")
    print(result.summary())
    assert len(result) == 4_000_000
