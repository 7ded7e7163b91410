"""The pieces of a distributed sweep that need no cluster: the exactly mergeable run summary, the
bounded-error completion histogram (against numpy.quantile), Student-t intervals (against published tables
and SciPy), and parameter grids."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from althan_ota.distributed import CompletionHistogram, RunSummary
from althan_ota.distributed import grid as grids
from althan_ota.distributed.stats import mean_ci, t_critical
from althan_ota.emulate import EmulationParams, emulate
from althan_ota.errors import ParameterError

IMAGE = 12_000


# ---------------------------------------------------------------- exact merging, bounded quantiles

finite_times = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(finite_times, min_size=1, max_size=300), st.lists(st.integers(0, 300), max_size=5),
       st.integers(4, 14))
def test_histogram_merge_is_exact_and_quantiles_are_bounded(values, cuts, bits):
    x = np.array(values)
    whole = CompletionHistogram.of(x, bits)
    edges = [0, *sorted(c % (len(x) + 1) for c in cuts), len(x)]
    merged = CompletionHistogram.empty(bits)
    for a, b in zip(edges, edges[1:]):
        merged = merged.merge(CompletionHistogram.of(x[a:b], bits))
    assert merged.buckets.tobytes() == whole.buckets.tobytes()
    assert merged.counts.tobytes() == whole.counts.tobytes()
    assert (merged.minimum, merged.maximum, merged.count) == (x.min(), x.max(), len(x))
    qs = [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0]
    estimates = merged.quantiles(qs)
    exact = np.quantile(x, qs)
    assert estimates[0] == x.min() and estimates[-1] == x.max()
    bound = merged.relative_error * (1 + 1e-9)
    for q, est, ref in zip(qs, estimates, exact):
        assert abs(est - ref) <= bound * ref + 1e-300, (q, est, ref)


def test_histogram_rejects_bad_input():
    with pytest.raises(ParameterError, match="finite"):
        CompletionHistogram.of(np.array([1.0, np.nan]))
    with pytest.raises(ParameterError, match="finite"):
        CompletionHistogram.of(np.array([-1.0]))
    with pytest.raises(ParameterError, match="bits"):
        CompletionHistogram.of(np.array([1.0]), bits=0)
    with pytest.raises(ParameterError, match="merge"):
        CompletionHistogram.of(np.array([1.0]), 8).merge(CompletionHistogram.of(np.array([1.0]), 9))
    assert all(math.isnan(v) for v in CompletionHistogram.empty().quantiles([0.5, 1.0]))


def test_run_summary_of_partitions_is_the_summary_of_the_whole_run():
    params = EmulationParams()
    whole = emulate(900, IMAGE, params, seed=4)
    parts = [emulate(b - a, IMAGE, params, seed=4, first_installation=a) for a, b in ((0, 1), (1, 400), (400, 900))]
    merged = RunSummary.of(parts[2]).merge(RunSummary.of(parts[0])).merge(RunSummary.of(parts[1]))
    reference = RunSummary.of(whole)
    assert merged.metrics() == reference.metrics()
    assert merged.time_ns == reference.time_ns and merged.counts == reference.counts
    # totals are the exact integer-nanosecond sums, the counts and outcome rates are exact
    for name in ("airtime_han", "airtime_bridge", "dc_wait"):
        assert reference.time_ns[name] == sum(int(v) for v in np.rint(getattr(whole, name) * 1e9))
        assert math.isclose(reference.metrics()[f"{name}_s"], float(getattr(whole, name).sum()), rel_tol=1e-12)
    fleet = whole.summary()
    m = reference.metrics()
    assert m["rate_completed"] * len(whole) == fleet.outcomes["completed"]
    assert m["completion_max_s"] == fleet.last_completion_s
    for key, q in (("completion_p50_s", 0.5), ("completion_p90_s", 0.9), ("completion_p99_s", 0.99)):
        assert abs(m[key] - fleet.completion_quantiles_s[q]) <= 2**-11 * fleet.completion_quantiles_s[q]


# ---------------------------------------------------------------- confidence intervals

def test_student_t_critical_values():
    published = {(1, 0.95): 12.706204736, (4, 0.95): 2.776445105, (9, 0.95): 2.262157163,
                 (30, 0.99): 2.749995654, (2, 0.90): 2.919985580}      # standard t tables
    for (dof, conf), value in published.items():
        assert t_critical(conf, dof) == pytest.approx(value, rel=1e-8)
    scipy_stats = pytest.importorskip("scipy.stats")
    for dof in (1, 2, 3, 5, 8, 17, 64, 255, 1000):
        for conf in (0.8, 0.9, 0.95, 0.99, 0.999):
            assert t_critical(conf, dof) == pytest.approx(scipy_stats.t.ppf(0.5 + conf / 2, dof), rel=1e-9)


def test_mean_ci():
    mean, lo, hi, n = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0, float("nan")])
    assert (mean, n) == (3.0, 5)
    assert hi - mean == pytest.approx(2.776445105 * math.sqrt(2.5) / math.sqrt(5))
    assert mean - lo == pytest.approx(hi - mean)
    assert math.isnan(mean_ci([7.0])[1]) and mean_ci([7.0])[0] == 7.0
    assert math.isnan(mean_ci([float("nan")])[0])
    with pytest.raises(ParameterError, match="confidence"):
        mean_ci([1.0, 2.0], 1.5)


# ---------------------------------------------------------------- grids

def test_grid_axes_aliases_bands_and_pair_order():
    assert grids.parse_flag("block_size=40,50, 64") == ("block_size", [40, 50, 64])
    assert grids.parse_flag("pair_order=hub_first,concurrent") == ("pair_order", ["hub_first", "concurrent"])
    assert grids.parse_flag("bridge.per_concentration=none,20") == ("bridge.per_concentration", [None, 20])
    with pytest.raises(ParameterError, match="name=v1"):
        grids.parse_flag("block_size")
    base = EmulationParams()
    p, size = grids.apply({"band": "868.0-868.6", "image_size": 5000, "pair_order": "concurrent",
                           "ota.response_timeout_s": 2, "outages.ch_windows": [[0, 60]]}, base, IMAGE)
    assert p.bridge.duty_cycle == 0.01 and size == 5000
    assert (p.ota.pair_order, p.ota.ch_concurrency) == ("concurrent", 2)
    assert p.ota.response_timeout_s == 2.0 and isinstance(p.ota.response_timeout_s, float)
    assert p.outages.ch_windows == ((0, 60),)
    p, _ = grids.apply({"pair_order": "hub_first"}, p, IMAGE)
    assert p.ota.ch_concurrency == 1
    with pytest.raises(ParameterError, match="does not match"):
        grids.apply({"pair_order": "concurrent", "ch_concurrency": 1}, base, IMAGE)
    assert grids.points({"a": [1, 2], "b": ["x", "y"]}) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"},
                                                             {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_grid_files(tmp_path):
    (tmp_path / "g.json").write_text(json.dumps({"block_size": [40, 64], "band": "869.4-869.65"}))
    assert grids.load_grid_file(tmp_path / "g.json") == {"block_size": [40, 64], "band": ["869.4-869.65"]}
    pytest.importorskip("yaml")
    (tmp_path / "g.yaml").write_text("bridge_per: [0.1, 0.2]\npair_order: meter_first\n")
    assert grids.load_grid_file(tmp_path / "g.yaml") == {"bridge_per": [0.1, 0.2], "pair_order": ["meter_first"]}
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ParameterError, match="mapping"):
        grids.load_grid_file(tmp_path / "bad.json")
    with pytest.raises(ParameterError, match="cannot read"):
        grids.load_grid_file(tmp_path / "missing.json")
