"""The building axes of a planning sweep: ``channel`` (channels per building, on the contention engine) and
``building_concurrency`` (installations of one building downloading at once, as a campaign plan caps them)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from althan_ota.distributed import grid as grids
from althan_ota.distributed import sweep
from althan_ota.emulate import EmulationParams, emulate
from althan_ota.errors import ParameterError

HAS_ENGINE = set(grids.CHANNEL_FIELDS) <= {f.name for f in dataclasses.fields(EmulationParams)}


def test_values_parse_as_the_parameters_take_them():
    assert [grids.parse_value(v) for v in ("3", "0.5", "none", "true", "False", "meter_first")] == \
        [3, 0.5, None, True, False, "meter_first"]


@pytest.mark.skipif(not HAS_ENGINE, reason="the contention engine has not landed in this build")
def test_channel_sets_both_links_and_turns_contention_on():
    params, size = grids.apply({"channel": 3}, EmulationParams(), 1000)
    assert (params.contention, params.han_channels, params.bridge_channels, size) == (True, 3, 3, 1000)
    with pytest.raises(ParameterError, match="channel must be a whole number"):
        grids.apply({"channel": 0}, EmulationParams(), 1000)


def test_a_channel_sweep_needs_the_buildings():
    # shared air without knowing who shares it would be a guess: refused, not run without contention
    with pytest.raises(ParameterError, match="shared air .* needs the installations' buildings"):
        sweep({"channel": [1, 2]}, 10, 2000, client="serial")
    with pytest.raises(ParameterError, match="shared air"):
        sweep({"block_size": [40]}, 10, 2000, EmulationParams(contention=True), client="serial")


BUILDINGS = np.repeat(np.arange(4), [30, 20, 6, 4])      # 60 installations in four blocks
IMAGE = 8_000


def capped(caps, partitions=1, **kwargs):
    return sweep({"building_concurrency": caps}, 60, IMAGE, replications=2, seed=4, client="serial",
                 partitions=partitions, buildings=BUILDINGS, **kwargs)


def test_a_tighter_cap_finishes_later_and_no_cap_is_the_plain_sweep():
    rows = capped([1, 3, None]).points.to_pylist()
    p99 = [r["completion_p99_s_mean"] for r in rows]
    assert p99[0] > p99[1] > p99[2]
    plain = sweep({"block_size": [EmulationParams().ota.block_size]}, 60, IMAGE, replications=2, seed=4,
                  client="serial").points.to_pylist()[0]
    assert rows[2]["completion_p99_s_mean"] == plain["completion_p99_s_mean"]
    assert [r["completed_rate_mean"] for r in rows] == [plain["completed_rate_mean"]] * 3   # only time moves


def test_partitions_hold_whole_buildings_so_results_do_not_depend_on_them():
    one = capped([2], partitions=1).replications
    assert capped([2], partitions=7).replications.equals(one)


def test_building_concurrency_needs_contiguous_buildings():
    with pytest.raises(ParameterError, match="needs the installations' buildings"):
        sweep({"building_concurrency": [1, 5]}, 10, 2000, client="serial")
    with pytest.raises(ParameterError, match="sit next to each other"):
        sweep({"building_concurrency": [1]}, 4, 2000, client="serial", buildings=np.array([0, 1, 0, 1]))
    with pytest.raises(ParameterError, match="whole number >= 1"):
        sweep({"building_concurrency": [0]}, 4, 2000, client="serial", buildings=np.zeros(4, np.int64))


def test_the_command_sweeps_the_cap_over_an_inventory(tmp_path):
    import json
    import subprocess
    import sys

    from althan_ota.fleet import generate_fleet

    generate_fleet(120, seed=3).write(tmp_path / "fleet.parquet")
    out = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "sweep", "--fleet",
                          str(tmp_path / "fleet.parquet"), "--grid", "building_concurrency=1,none", "--image-size", "8000", "--replications", "2",
                          "--serial", "--json"], capture_output=True, text=True, check=True).stdout
    rows = json.loads(out[out.index("["):])
    assert [r["building_concurrency"] for r in rows] == [1, None]
    assert rows[0]["completion_p50_s_mean"] > rows[1]["completion_p50_s_mean"]     # flats wait for a place
    bare = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "sweep", "--installations", "10", "--grid",
                           "building_concurrency=1", "--serial"], capture_output=True, text=True)
    assert bare.returncode == 1 and "needs the installations' buildings" in bare.stderr


# ---------------------------------------------------------------- shared air (the channel axis)

def channels(values, partitions=1, fleet=60, **kwargs):
    kwargs.setdefault("buildings", BUILDINGS)
    return sweep({"channel": values}, fleet, IMAGE, replications=2, seed=4, partitions=partitions, **kwargs)


@pytest.fixture(scope="module")
def channel_sweep():
    return channels([1, 4], client="serial")


def test_more_channels_relieve_a_crowded_building(channel_sweep):
    rows = channel_sweep.points.to_pylist()
    assert [r["channel"] for r in rows] == [1, 4]
    one, four = (r["exchange_retries_per_device_mean"] for r in rows)
    assert one > 2 * four > 0
    lone = sweep({"block_size": [EmulationParams().ota.block_size]}, 60, IMAGE, replications=2, seed=4,
                 client="serial").points.to_pylist()[0]
    assert four > lone["exchange_retries_per_device_mean"]      # four channels for 30 flats still contend


@pytest.mark.parametrize("partitions", [3, 60])
def test_a_shared_air_sweep_does_not_depend_on_the_partitions(channel_sweep, partitions):
    # 60 partitions asked for: whole buildings only, so four
    assert channels([1, 4], partitions=partitions, client="serial").replications.equals(channel_sweep.replications)


def test_a_shared_air_sweep_equals_the_engine_over_the_whole_fleet(channel_sweep):
    from althan_ota.distributed.run_summary import RunSummary

    for row in channel_sweep.replications.to_pylist():
        params = EmulationParams(contention=True, han_channels=row["channel"], bridge_channels=row["channel"])
        whole = RunSummary.of(emulate(60, IMAGE, params, row["seed"], buildings=BUILDINGS)).metrics()
        assert {m: row[m] for m in whole} == pytest.approx(whole, rel=0, abs=0, nan_ok=True)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client


def test_a_shared_air_sweep_on_a_dask_cluster_equals_the_serial_one(channel_sweep, dask_client):
    result = channels([1, 4], partitions=3, client=dask_client)
    assert result.replications.equals(channel_sweep.replications)
    assert result.points.equals(channel_sweep.points)


def test_one_shared_air_run_on_dask_is_the_engines_bit_for_bit(dask_client):
    from althan_ota._native import _emu
    from althan_ota.distributed import emulate_distributed

    # buildings scattered through the fleet, some installations alone: each task still gets whole buildings
    rng = np.random.default_rng(2)
    names = np.array([None if k == 5 else f"B{k}" for k in rng.integers(0, 6, 50)], dtype=object)
    fleet = {"bridge_per": rng.uniform(0.0, 0.2, 50), "building_id": names}
    params = EmulationParams(contention=True, bridge_channels=2, building_cap=4)
    whole = emulate(fleet, IMAGE, params, seed=9, first_installation=100)
    for partitions in (1, 4):
        shared = emulate_distributed(fleet, IMAGE, params, seed=9, first_installation=100, client=dask_client,
                                     partitions=partitions)
        for name in (*_emu.DEVICE_COLUMNS, *_emu.INSTALLATION_COLUMNS):
            np.testing.assert_array_equal(getattr(shared, name), getattr(whole, name), err_msg=name)
    alone = emulate({"bridge_per": fleet["bridge_per"]}, IMAGE, dataclasses.replace(params, contention=False, building_cap=None,
                                                     bridge_channels=1), seed=9, first_installation=100)
    assert shared.exchange_retries.sum() > alone.exchange_retries.sum()     # the air really was shared
    with pytest.raises(ParameterError, match="contention=True needs"):
        emulate_distributed(50, IMAGE, params, client=dask_client)


def test_with_shared_air_the_cap_is_the_engines():
    # a cap of 1 runs every flat alone, only later: the same exchanges and retries as without shared air
    rows = sweep({"channel": [1], "building_concurrency": [1, None]}, 60, IMAGE, replications=2, seed=4,
                 client="serial", buildings=BUILDINGS).points.to_pylist()
    lone = capped([1]).points.to_pylist()[0]
    assert rows[0]["exchange_retries_per_device_mean"] == lone["exchange_retries_per_device_mean"]
    assert rows[0]["airtime_bridge_s_mean"] == lone["airtime_bridge_s_mean"]
    assert rows[1]["exchange_retries_per_device_mean"] > rows[0]["exchange_retries_per_device_mean"]
    assert rows[0]["completion_p50_s_mean"] > rows[1]["completion_p50_s_mean"]     # flats wait for a place


def test_the_fleets_own_building_and_channel_columns():
    names = np.array([f"B{b}" for b in BUILDINGS], dtype=object)
    by_codes = channels([1], client="serial").replications
    assert channels([1], client="serial", fleet={"building_id": names}, buildings=None).replications.equals(by_codes)
    # the fleet's channel column: installation k of each building on channel k % 4, as channel=4 assigns them
    position = np.concatenate([np.arange(k) for k in (30, 20, 6, 4)])
    own = sweep({"block_size": [EmulationParams().ota.block_size]}, {"building_id": names, "channel": position % 4},
                IMAGE, EmulationParams(contention=True), replications=2, seed=4, client="serial")
    four = channels([4], client="serial").replications
    assert own.replications["exchange_retries_per_device"].equals(four["exchange_retries_per_device"])
    with pytest.raises(ParameterError, match="sweeping 'channel' would change nothing"):
        channels([1, 2], client="serial", fleet={"building_id": names, "channel": position % 4}, buildings=None)
    with pytest.raises(ParameterError, match="either in the fleet mapping"):
        channels([1], client="serial", fleet={"building_id": names})


def test_the_command_sweeps_channels_over_an_inventory(tmp_path):
    import json
    import subprocess
    import sys

    from althan_ota.fleet import generate_fleet

    generate_fleet(120, seed=3).write(tmp_path / "fleet.parquet")
    out = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "sweep", "--fleet",
                          str(tmp_path / "fleet.parquet"), "--grid", "channel=1,4", "--image-size", "8000",
                          "--replications", "2", "--serial", "--json"], capture_output=True, text=True,
                         check=True).stdout
    rows = json.loads(out[out.index("["):])
    assert [r["channel"] for r in rows] == [1, 4]
    assert rows[0]["exchange_retries_per_device_mean"] > rows[1]["exchange_retries_per_device_mean"]
    bare = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "sweep", "--installations", "10", "--grid",
                           "channel=1", "--serial"], capture_output=True, text=True)
    assert bare.returncode == 1 and "needs the installations' buildings" in bare.stderr


def test_one_links_channels_as_an_axis():
    # the bridge link's channels alone: the meter rooms' sub-GHz channel is the crowded one
    rows = sweep({"bridge_channels": [1, 4]}, 60, IMAGE, replications=2, seed=4, client="serial",
                 buildings=BUILDINGS).points.to_pylist()
    assert rows[0]["exchange_retries_per_device_mean"] > rows[1]["exchange_retries_per_device_mean"]
    params, _ = grids.apply({"han_channels": 2}, EmulationParams(), 1000)
    assert (params.contention, params.han_channels, params.bridge_channels) == (True, 2, 1)
