"""Who shares the air: installations grouped by building and channel (althan_ota.emulate.buildings)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from althan_ota.emulate.buildings import NO_BUILDING, assign_channels
from althan_ota.emulate.params import EmulationParams
from althan_ota.errors import ParameterError


def test_round_robin_within_each_building():
    ids = pa.array(["B1", "B2", "B1", "B1", "B2", "B1", "B1"])
    a = assign_channels(ids, EmulationParams(han_channels=2, bridge_channels=3))
    b1 = a.building[0]
    assert list(a.building == b1) == [True, False, True, True, False, True, True]
    assert list(a.han_channel) == [0, 0, 1, 0, 1, 1, 0]          # B1: 0 1 0 1 0, B2: 0 1
    assert list(a.bridge_channel) == [0, 0, 1, 2, 1, 0, 1]       # B1: 0 1 2 0 1, B2: 0 1
    assert list(a.sharing("han")) == [3, 1, 2, 3, 1, 2, 3]
    assert list(a.sharing("bridge")) == [2, 1, 2, 1, 1, 2, 2]


def test_one_channel_shares_the_whole_building_and_no_building_is_alone():
    ids = ["B7", None, "B7", "  ", "B7"]
    a = assign_channels(ids, EmulationParams())
    assert list(a.building == NO_BUILDING) == [False, True, False, True, False]
    assert list(a.sharing("bridge")) == [3, 1, 3, 1, 3]
    assert list(a.sharing("han")) == [3, 1, 3, 1, 3]


def test_a_channel_column_decides_both_links():
    ids = pa.chunked_array([["B1", "B1"], ["B1", "B2"]])
    a = assign_channels(ids, EmulationParams(han_channels=4), channel=pa.array([5, 5, 2, 5]))
    assert list(a.han_channel) == [5, 5, 2, 5] and list(a.bridge_channel) == [5, 5, 2, 5]
    assert list(a.sharing("han")) == [2, 2, 1, 1]


@pytest.mark.parametrize("channel,match", [
    ([0, -1], r"channel\[1\] = -1"),
    ([0, 1, 2], "channel has 3 values"),
    (pa.array([0, None]), r"channel\[1\] is empty"),
    ([0, 1.5], r"channel\[1\] = 1.5"),
])
def test_bad_channel_columns_are_named(channel, match):
    with pytest.raises(ParameterError, match=match):
        assign_channels(["B1", "B1"], EmulationParams(), channel=channel)


def test_bad_inputs():
    with pytest.raises(ParameterError, match="building_id must be a text column"):
        assign_channels(pa.array([1, 2]), EmulationParams())
    with pytest.raises(ParameterError, match="link must be"):
        assign_channels(["B1"], EmulationParams()).sharing("wifi")


def test_empty_fleet():
    a = assign_channels(pa.array([], type=pa.string()), EmulationParams())
    assert a.building.shape == (0,) and a.sharing("han").shape == (0,)
