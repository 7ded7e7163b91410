"""The building axes of a planning sweep: ``channel`` (channels per building, on the contention engine) and
``building_concurrency`` (a campaign plan option, refused with where to find it)."""

from __future__ import annotations

import dataclasses

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


def test_building_concurrency_is_refused_with_where_to_plan_it():
    with pytest.raises(ParameterError, match="campaign plan option.*plan block"):
        sweep({"building_concurrency": [1, 5]}, 10, 2000, client="serial")
