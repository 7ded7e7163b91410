"""``althan-ota plan block``: a block of flats' completion time against the per-building concurrency cap."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from althan_ota.distributed.block import block_fleet, plan_block, with_channels
from althan_ota.emulate import EmulationParams
from althan_ota.errors import ParameterError


def test_a_tighter_cap_takes_the_block_longer():
    table = plan_block(40, [1, 4, None], image_size=60_000, seeds=2, seed=1)
    rows = table.to_pylist()
    assert [r["building_concurrency"] for r in rows] == [1, 4, None]
    block = [r["block_median_s"] for r in rows]
    assert block[0] > block[1] > block[2] > 0
    assert all(r["block_min_s"] <= r["block_median_s"] <= r["block_max_s"] for r in rows)
    assert plan_block(40, [4], image_size=60_000, seeds=2, seed=1).to_pylist()[0] == rows[1]   # seeded


def test_the_block_is_one_building_of_eligible_flats():
    fleet = block_fleet(30, seed=2)
    assert set(fleet.column("building_id")) == {"BLOCK"}
    assert set(fleet.column("smi_status")) == {"Commissioned"} and len(fleet) == 60


def test_channels_need_the_contention_engine():
    names = {f.name for f in dataclasses.fields(EmulationParams)}
    if {"contention", "han_channels", "bridge_channels"} <= names:
        shared = with_channels(EmulationParams(), 2)
        assert shared.contention and shared.han_channels == shared.bridge_channels == 2
    else:
        with pytest.raises(ParameterError, match="needs the contention engine"):
            with_channels(EmulationParams(), 2)


def test_the_command_prints_and_writes_the_table(tmp_path):
    out = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "block", "--flats", "20", "--concurrency",
                          "2,none", "--image-size", "30000", "--seeds", "1", "--out", str(tmp_path / "b.json")],
                         capture_output=True, text=True, check=True).stdout
    assert "a block of 20 flats" in out and "2 at once" in out and "no cap" in out
    written = json.loads((tmp_path / "b.json").read_text())
    assert written["meta"] == {"flats": 20, "image_size": 30000}
    assert [r["building_concurrency"] for r in written["rows"]] == [2, None]
    bad = subprocess.run([sys.executable, "-m", "althan_ota", "plan", "block", "--concurrency", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "whole numbers >= 1" in bad.stderr


def test_shared_air_for_every_cap():
    # channels on: the block's flats contend, so more at once means more retries per device, and fewer
    # channels a longer block at the same cap
    rows = plan_block(16, [1, 4, None], channels=[1, 4], image_size=12_000, seeds=1, seed=2).to_pylist()
    assert [(r["channels"], r["building_concurrency"]) for r in rows] == \
        [(1, 1), (1, 4), (1, None), (4, 1), (4, 4), (4, None)]
    assert all(r["block_median_s"] > 0 and 0 <= r["failure_share"] <= 1 for r in rows)
    one = {r["building_concurrency"]: r for r in rows if r["channels"] == 1}
    four = {r["building_concurrency"]: r for r in rows if r["channels"] == 4}
    assert one[1]["block_median_s"] == four[1]["block_median_s"]      # a cap of one: every flat alone
    assert one[1]["block_median_s"] > one[4]["block_median_s"]
    assert one[None]["block_median_s"] >= four[None]["block_median_s"] or \
        one[None]["failure_share"] > four[None]["failure_share"]
