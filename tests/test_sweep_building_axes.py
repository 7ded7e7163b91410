"""The building axes of a planning sweep: ``channel`` (channels per building, on the contention engine) and
``building_concurrency`` (installations of one building downloading at once, as a campaign plan caps them)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from althan_ota.distributed import grid as grids
from althan_ota.distributed import sweep
from althan_ota.emulate import EmulationParams
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


@pytest.mark.skipif(HAS_ENGINE, reason="the contention engine is here: channel applies")
def test_channel_without_the_engine_says_what_it_needs():
    with pytest.raises(ParameterError, match="'channel' needs the contention engine"):
        sweep({"channel": [1, 2]}, 10, 2000, client="serial")


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
    assert rows[0]["completion_max_s_mean"] > rows[1]["completion_max_s_mean"]
    bare = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "sweep", "--installations", "10", "--grid",
                           "building_concurrency=1", "--serial"], capture_output=True, text=True)
    assert bare.returncode == 1 and "needs the installations' buildings" in bare.stderr
