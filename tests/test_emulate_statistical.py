"""Statistical contention (csrc/emu.h "Statistical contention"): overlapping downloads of a building keep the
closed-form loop, each attempt meeting the failure chain (by run length) and access delay the stepped engine
measured at its contention level. Checked: exactly the lone engine where nothing overlaps, independent of
threads, its table against what the stepped model must show, and its fleet figures against the stepped engine's
for buildings of 10 and 100 (where it is close, and where it is not: see docs/emulation.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from althan_ota.emulate import OUTCOMES, EmulationParams, OutageParams, contention_table, emulate
from althan_ota.emulate.params import BridgeLink
from althan_ota.errors import ParameterError


def statistical(**kw) -> EmulationParams:
    return EmulationParams(contention=True, contention_model="statistical", **kw)


def test_buildings_of_one_and_downloads_that_never_overlap_give_exactly_the_lone_engine():
    p = EmulationParams(bridge=BridgeLink(per_concentration=20.0),
                        outages=OutageParams(ch_mean_up_s=3000, ch_mean_down_s=200))
    n = 200
    alone = emulate(n, 30_000, p, seed=7).to_arrow()
    s = dataclasses.replace(p, contention=True, contention_model="statistical")
    assert emulate(n, 30_000, s, seed=7, buildings=[f"flat {i}" for i in range(n)]).to_arrow().equals(alone)
    # WAN delays over days, downloads of a minute: the flats of a building one after another
    p = EmulationParams(wan_delay_median_s=86_400.0, wan_delay_sigma=1.5)
    s = dataclasses.replace(p, contention=True, contention_model="statistical")
    assert emulate(40, 3_000, s, seed=2, buildings=["A", "B"] * 20).to_arrow().equals(
        emulate(40, 3_000, p, seed=2).to_arrow())


def test_results_depend_on_the_seed_only_and_tracing_changes_nothing():
    p = statistical(wan_delay_sigma=0.05, han_channels=2)
    buildings = [f"B{i % 3}" for i in range(60)]
    base = emulate(60, 6_000, p, seed=3, buildings=buildings, n_threads=1)
    assert emulate(60, 6_000, p, seed=3, buildings=buildings, n_threads=2).to_arrow().equals(base.to_arrow())
    assert base.link_retries_bridge.sum() > emulate(60, 6_000, EmulationParams(wan_delay_sigma=0.05),
                                                    seed=3).link_retries_bridge.sum()
    traced = emulate(8, 3_000, p, seed=2, buildings=["B"] * 8, trace=True)
    assert traced.to_arrow().equals(emulate(8, 3_000, p, seed=2, buildings=["B"] * 8).to_arrow())
    from test_emulate_trace import check_device
    for device in range(16):
        check_device(traced, device)


def test_the_table_is_what_the_stepped_model_shows():
    p = EmulationParams(contention=True)
    table = contention_table(20, 8_000, p, seed=1)
    for name, link in table.items():
        assert link["first"][0] == 0.0 and np.all(link["repeat"][0] == 0.0)
        assert link["repeat"].shape == (link["first"].shape[0], 8)      # hazards after runs of 1 .. 8+
        for column in ("first", "repeat"):
            assert np.all((link[column] >= 0) & (link[column] <= 1))
        assert link["attempts"][1] > 1000 and link["attempts"][0] == 0
        # more downloads on the channel: more contention failures and a longer wait for it
        assert link["first"][15] > link["first"][1], name
    assert table["han"]["delay_s"][0] > 0      # level 0: the lone rule's mean CSMA delay
    # listen-before-talk defers while another is on air: a busy channel delays access
    assert table["bridge"]["delay_s"][30] > table["bridge"]["delay_s"][1]
    # colliding downloads retry in step: a failure makes the next attempt likelier to fail, and a longer run
    # of them likelier still (on average over the busy levels)
    bridge = table["bridge"]
    assert bridge["repeat"][10, 0] > bridge["first"][10]
    assert bridge["repeat"][2:20, 1].mean() > bridge["repeat"][2:20, 0].mean()
    # the same seed, the same table
    again = contention_table(20, 8_000, p, seed=1, n_threads=1)
    assert all(np.array_equal(again[k][c], table[k][c]) for k in table for c in table[k])


def _summary(result) -> dict:
    done = result.outcome == OUTCOMES.index("completed")
    return {"completed": done.mean(), "t_end": np.nanmean(result.t_download_end[done]),
            "han": result.link_retries_han.mean(), "bridge": result.link_retries_bridge.mean(),
            "exchange_retries": result.exchange_retries.mean()}


@pytest.mark.parametrize("size, buildings, cap", [(10, 20, None), (100, 2, 10)])
def test_close_to_the_stepped_engine_below_saturation(size, buildings, cap):
    """Ten flats at once, or a hundred with ten downloading at a time: link retries within 10%, completion
    times within 12% and failed exchanges within 25% (statistical is faster and fails fewer whole exchanges:
    it drops correlation beyond the current run), the same share completed."""
    codes = np.repeat(np.arange(buildings), size).astype(np.int64)
    image = 240_000
    stepped = _summary(emulate(size * buildings, image, EmulationParams(contention=True, building_cap=cap),
                               seed=1, buildings=codes))
    stat = _summary(emulate(size * buildings, image, statistical(building_cap=cap), seed=1, buildings=codes))
    assert stat["completed"] == pytest.approx(stepped["completed"], abs=0.01)
    assert stat["t_end"] == pytest.approx(stepped["t_end"], rel=0.12)
    assert stat["bridge"] == pytest.approx(stepped["bridge"], rel=0.10)
    assert stat["han"] == pytest.approx(stepped["han"], rel=0.10)
    assert stat["exchange_retries"] == pytest.approx(stepped["exchange_retries"], rel=0.25)


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError, match="contention_model"):
        EmulationParams(contention=True, contention_model="mean-field").validate(64)
    with pytest.raises(ParameterError, match="statistical_step_s"):
        statistical(statistical_step_s=0.0).validate(64)
    with pytest.raises(ParameterError, match="max_installations"):
        contention_table(0, 8_000)
