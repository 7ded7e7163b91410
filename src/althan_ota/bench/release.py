"""Pair compatibility over a whole fleet: ``release.classify_out_of_sync`` (one ``np.isin`` of 64-bit pair
keys) against what a report writer would otherwise use, a DuckDB join of the
fleet's Arrow table with the compatibility table, and a Python set lookup per pair; and
``release.plan_pair_orders`` against the Python loop of ``plan_pair_order``."""

from __future__ import annotations

import numpy as np

from . import Result, best_time, compare

SUITE = "release"


def fleet_pairs(n: int, seed: int = 0):
    """``n`` installations over 12 versions, and a table of 60 compatible (hub, meter) pairs."""
    rng = np.random.default_rng(seed)
    versions = np.array([0x01020000 + (i << 8) for i in range(12)], dtype=np.uint32)
    hub = versions[rng.integers(0, len(versions), n)]
    meter = versions[rng.integers(0, len(versions), n)]
    every = [(int(h), int(m)) for h in versions for m in versions]
    chosen = rng.choice(len(every), 60, replace=False)
    return hub, meter, [every[i] for i in chosen], versions


def duckdb_classify(con, fleet, compat_table) -> np.ndarray:
    con.register("fleet", fleet)
    con.register("compat", compat_table)
    out = con.execute("SELECT c.hub_version IS NOT NULL AS ok FROM fleet f LEFT JOIN compat c "
                      "ON f.hub = c.hub_version AND f.meter = c.meter_version ORDER BY f.row").fetchnumpy()
    return out["ok"]


def run(quick: bool) -> list[Result]:
    from ..release import Compatibility, classify_out_of_sync, plan_pair_order, plan_pair_orders

    n = 200_000 if quick else 2_000_000
    hub, meter, pairs, versions = fleet_pairs(n)
    compat = Compatibility(pairs)
    ours_mask = classify_out_of_sync(compat, hub, meter)
    results: list[Result] = []

    kernel = f"classify_out_of_sync, {n} pairs, 60-pair table"
    ours = Result(SUITE, kernel, "althan-ota (numpy isin)",
                  best_time(lambda: classify_out_of_sync(compat, hub, meter), quick), n, "pair")
    listed = set(pairs)
    small = 50_000
    py = Result(SUITE, kernel, "python set lookup per pair",
                best_time(lambda: [(h, m) in listed for h, m in zip(hub[:small].tolist(), meter[:small].tolist())],
                          quick) * n / small, n, "pair")
    compare(results, ours, py)
    try:
        import duckdb
        import pyarrow as pa
    except ImportError:
        results.append(Result(SUITE, kernel, "duckdb (not installed)", float("nan"), n, "pair"))
    else:
        con = duckdb.connect()
        fleet = pa.table({"row": np.arange(n), "hub": hub, "meter": meter})
        table = compat.to_arrow()
        if not np.array_equal(duckdb_classify(con, fleet, table), ours_mask):
            raise AssertionError("classify_out_of_sync differs from the DuckDB join")
        peer = Result(SUITE, kernel, "duckdb LEFT JOIN on Arrow tables",
                      best_time(lambda: duckdb_classify(con, fleet, table), quick), n, "pair")
        mine = Result(SUITE, kernel, "althan-ota (numpy isin)", ours.seconds, n, "pair")
        compare(results, mine, peer)

    kernel = f"plan_pair_orders, {n} installations to one target"
    target = int(versions[-1])
    ours = Result(SUITE, kernel, "althan-ota (vectorised)",
                  best_time(lambda: plan_pair_orders(compat, hub, meter, target, target), quick), n, "pair")
    small = 5_000
    rows = list(zip(hub[:small].tolist(), meter[:small].tolist()))
    got = plan_pair_orders(compat, hub[:small], meter[:small], target, target).names().tolist()
    if got != [plan_pair_order(compat, h, m, target, target) for h, m in rows]:
        raise AssertionError("plan_pair_orders differs from plan_pair_order")
    loop = Result(SUITE, kernel, "python loop of plan_pair_order",
                  best_time(lambda: [plan_pair_order(compat, h, m, target, target) for h, m in rows], quick)
                  * n / small, n, "pair")
    compare(results, ours, loop)
    return results
