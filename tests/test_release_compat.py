"""Pair compatibility: lookups against a Python set, order planning against a brute-force walk over the
states each order can pass through, and the vectorised forms against the scalar ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from althan_ota.errors import ParameterError
from althan_ota.release import (CONCURRENT, HUB_FIRST, METER_FIRST, UNSAFE, Compatibility,
                                classify_out_of_sync, plan_pair_order, plan_pair_orders)
from althan_ota.testing.release_bundles import NEW_VERSION, OLD_VERSIONS, demo_compatibility

VERSIONS = (0x01020000, 0x01030000, 0x0000FFFF, 0xFFFFFFFF)   # includes the extremes of a 4-octet version


def reference_order(pairs: set, hub_from, meter_from, hub_to, meter_to):
    """Brute force: list every sequence of single-side steps that takes the pair from start to target (each
    side changes at most once), and the states it visits after the start. An order is safe when every state
    it visits is compatible, except a state that is where the pair already was; "concurrent" must be safe
    whichever side finishes first."""
    start, target = (hub_from, meter_from), (hub_to, meter_to)
    steps = {"hub": lambda s: (hub_to, s[1]), "meter": lambda s: (s[0], meter_to)}
    walks = {}
    for first, second in itertools.permutations(steps):
        middle = steps[first](start)
        walks[f"{first}_first"] = [middle, steps[second](middle)]
    assert all(walk[-1] == target for walk in walks.values())

    def safe(walk):
        return all(state in pairs or (state == start and state != target) for state in walk)

    verdict = {name: safe(walk) for name, walk in walks.items()}
    if verdict["hub_first"] and verdict["meter_first"]:
        return "concurrent"
    return next((name for name in ("meter_first", "hub_first") if verdict[name]), None)


versions = st.sampled_from(VERSIONS)
pair_sets = st.sets(st.tuples(versions, versions), max_size=len(VERSIONS) ** 2)


@settings(max_examples=400, deadline=None)
@given(pair_sets, versions, versions, versions, versions)
def test_plan_pair_order_matches_brute_force(pairs, hub_from, meter_from, hub_to, meter_to):
    compat = Compatibility(pairs)
    assert plan_pair_order(compat, hub_from, meter_from, hub_to, meter_to) == \
        reference_order(pairs, hub_from, meter_from, hub_to, meter_to)


@settings(max_examples=200, deadline=None)
@given(pair_sets, st.lists(st.tuples(versions, versions, versions, versions), min_size=0, max_size=40))
def test_vectorised_orders_match_scalar(pairs, rows):
    compat = Compatibility(pairs)
    columns = [np.array([r[i] for r in rows], dtype=np.uint32) for i in range(4)]
    plan = plan_pair_orders(compat, *columns)
    expected = [plan_pair_order(compat, *r) for r in rows]
    assert plan.names().tolist() == expected
    assert plan.unsafe.tolist() == [e is None for e in expected]
    assert plan.codes.dtype == np.int8


@settings(max_examples=200, deadline=None)
@given(pair_sets, st.lists(st.tuples(versions, versions), max_size=50))
def test_classify_out_of_sync_matches_set_lookup(pairs, rows):
    compat = Compatibility(pairs)
    hub = np.array([h for h, _ in rows], dtype=np.int64)
    meter = np.array([m for _, m in rows], dtype=np.uint32)
    got = classify_out_of_sync(compat, hub, meter)
    assert got.dtype == bool and got.tolist() == [(h, m) in pairs for h, m in rows]
    assert [compat.is_compatible(h, m) for h, m in rows] == got.tolist()


def test_demo_product_orders():
    compat = Compatibility(demo_compatibility())
    new = NEW_VERSION
    assert plan_pair_order(compat, 0x01030100, 0x01030100, new, new) == "hub_first"
    assert plan_pair_order(compat, 0x01020000, 0x01020000, new, new) is None   # needs 0x0103 first
    assert plan_pair_order(compat, 0x01020000, 0x01030000, 0x01030100, 0x01030100) == "concurrent"
    assert plan_pair_order(compat, new, 0x01030000, new, new) == "concurrent"  # only the meter moves
    plan = plan_pair_orders(compat, np.array(OLD_VERSIONS), np.array(OLD_VERSIONS), new, new)
    assert plan.codes.tolist() == [UNSAFE, HUB_FIRST, HUB_FIRST]
    assert plan.unsafe.tolist() == [True, False, False]


def test_order_codes_and_broken_pair_can_be_mended():
    compat = Compatibility([(2, 2), (2, 1)])
    assert plan_pair_order(compat, 1, 1, 2, 2) == "hub_first"
    compat = Compatibility([(2, 2), (1, 2)])
    assert plan_pair_order(compat, 1, 1, 2, 2) == "meter_first"
    # (1, 3) does not work today; moving the hub to 2 mends it, though the start is incompatible
    assert plan_pair_order(Compatibility([(2, 3)]), 1, 3, 2, 3) == "concurrent"
    # nothing changes and the pair does not work: no order makes it work
    assert plan_pair_order(Compatibility([]), 1, 3, 1, 3) is None
    assert (CONCURRENT, METER_FIRST, HUB_FIRST, UNSAFE) == (0, 1, 2, -1)


def test_compatibility_table_forms():
    compat = Compatibility([(5, 6), (1, 2), (5, 6), (0xFFFFFFFF, 0)])
    assert len(compat) == 3 and compat.pairs == [(1, 2), (5, 6), (0xFFFFFFFF, 0)]
    table = compat.to_arrow()
    assert table.column_names == ["hub_version", "meter_version"]
    assert table.column("hub_version").to_pylist() == [1, 5, 0xFFFFFFFF]
    assert str(table.schema.field("meter_version").type) == "uint32"
    assert compat.describe()[0] == "0x00000001 + 0x00000002"
    assert Compatibility().compatible(np.array([1, 2]), 2).tolist() == [False, False]
    assert not compat.is_compatible(2, 1) and compat.is_compatible(0xFFFFFFFF, 0)


@pytest.mark.parametrize("bad", [[(1,)], [(1, -1)], [(1 << 32, 0)], [(1.0, 2)], [(True, 2)], [None]])
def test_bad_compatibility_rows(bad):
    with pytest.raises(ParameterError):
        Compatibility(bad)


@pytest.mark.parametrize("args", [(1, 1, 1, -1), (1, 1, 1, 1 << 32), (1, 1, 1.5, 1), ("1", 1, 1, 1)])
def test_bad_versions(args):
    with pytest.raises(ParameterError):
        plan_pair_order(Compatibility([(1, 1)]), *args)


def test_bad_version_arrays():
    compat = Compatibility([(1, 1)])
    with pytest.raises(ParameterError, match="dtype float64"):
        classify_out_of_sync(compat, np.array([1.0]), np.array([1]))
    with pytest.raises(ParameterError, match="0..0xFFFFFFFF"):
        plan_pair_orders(compat, np.array([-1]), 1, 1, 1)
    with pytest.raises(ParameterError, match=r"shapes \(2,\), \(3,\) do not broadcast"):
        classify_out_of_sync(compat, np.array([1, 2]), np.array([1, 2, 3]))
