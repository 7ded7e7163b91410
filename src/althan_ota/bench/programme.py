"""The monthly history over many snapshots of the fleet report: month-on-month deltas and how long each pair
has been out of sync, computed by althan-ota (``report.history``: DuckDB over the Parquet dataset) and by the
same computation in plain pyarrow (read every month, join month to month), in the same run. Quick mode: 6
monthly snapshots of ~100k devices; full mode: 24 snapshots of ~4.1M devices. Both read the same files and give the
same answers (tests/test_programme_history.py holds them to it).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import Result, best_time, compare
from .report import fleet_table, ours_fleet_report

QUICK_MONTHS = 6
FULL_MONTHS = 24
HUB, METER = "ALTHAN_P2P_HUB", "ALTHAN_P2P_METER"
SNAPSHOT_ROW_GROUP = 122_880        # DuckDB's COPY ... (FORMAT parquet) row group


def write_history(directory: Path, report: pa.Table, months: int) -> list[str]:
    """``months`` monthly snapshots of ``report`` (the columns the history reads) in the history's layout
    (``fleet/month=YYYY-MM/data.parquet``):
    each month some devices arrive and some leave, a growing share is upgraded (mostly a pair at once, some a side
    late: the out-of-sync pairs), and some change status or supplier, so every delta has work to do. Each month is the report with vectorised masks applied (a change
    drawn once per device: the month it happens), written by pyarrow, months in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    from ..report.history import NEEDED

    # the columns the history reads (neither it nor the peer reads the others, which would only slow the set-up)
    report = report.select(list(NEEDED["fleet"]))
    rng = np.random.default_rng(18)
    n = report.num_rows
    # the month each device is upgraded (many never): a pair's two bridges go in the same wave (campaign/plan.py),
    # so in the same month, but one side in twenty lags one to six months (a failure, then a retry or a visit)
    installation = pc.dictionary_encode(report["installation_id"]).combine_chunks()
    unit = pc.fill_null(installation.indices, -1).to_numpy().astype(np.int64)
    unit = np.where(unit >= 0, unit, len(installation.dictionary) + np.arange(n))      # a plain PPMID: its own
    upgrade_at = rng.integers(0, months * 2, unit.max() + 1)[unit]
    upgrade_at += np.where(rng.random(n) < 0.05, rng.integers(1, 7, n), 0)
    arrive_at = np.where(rng.random(n) < 0.02, rng.integers(1, months + 1, n), 0)
    leave_at = np.where(rng.random(n) < 0.02, rng.integers(1, months + 1, n), months + 1)
    suspend_at = np.where(rng.random(n) < 0.01, rng.integers(1, months + 1, n), months + 1)
    move_at = np.where(rng.random(n) < 0.01, rng.integers(1, months + 1, n), months + 1)
    suppliers = report["supplier"]
    moved_to = pc.take(suppliers, pa.array(rng.permutation(n)))      # another device's supplier
    names = [f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]

    def column(table: pa.Table, name: str, values) -> pa.Table:
        return table.set_column(table.schema.get_field_index(name), name, values)

    def month(m: int) -> None:
        table = column(report, "firmware_version",
                       pc.if_else(pa.array(upgrade_at <= m), "0x01040000", report["firmware_version"]))
        table = column(table, "status", pc.if_else(pa.array(suspend_at <= m), "Suspended", report["status"]))
        table = column(table, "supplier", pc.if_else(pa.array(move_at <= m), moved_to, suppliers))
        table = table.filter(pa.array((arrive_at <= m) & (leave_at > m)))
        path = directory / "fleet" / f"month={names[m]}" / "data.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # row groups of DuckDB's size, as 'report fleet --snapshot' writes them (readers decode them in parallel)
        pq.write_table(table, path, row_group_size=SNAPSHOT_ROW_GROUP)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(month, range(months)))
    return names


def ours_history(directory: Path):
    from ..report.history import history_views

    return history_views(directory)


def peer_history(directory: Path, months: list[str]) -> tuple[list[dict], pa.Table]:
    """The same views in plain pyarrow, column for column: per month the devices, added, removed, upgraded,
    downgraded, status and supplier changes against the month before (a full outer join of consecutive
    months), and the latest month's out-of-sync pairs (installation, supplier, both devices and versions) with
    the first month of their current unbroken run out of sync and its length in calendar months."""
    columns = ["device_id", "status", "firmware_version", "ppmid_variant", "installation_id", "supplier"]

    def read(month: str) -> pa.Table:
        return pq.read_table(directory / "fleet" / f"month={month}" / "data.parquet", columns=columns)

    def apart(table: pa.Table) -> pa.Table:
        keep = ["installation_id", "device_id", "firmware_version", "supplier"]
        hub = table.filter(pc.equal(table["ppmid_variant"], HUB)).select(keep)
        meter = table.filter(pc.equal(table["ppmid_variant"], METER)).select(keep[:3])
        pairs = hub.join(meter, "installation_id", left_suffix="_hub", right_suffix="_meter")
        return pairs.filter(pc.not_equal(pairs["firmware_version_hub"], pairs["firmware_version_meter"]))

    # month by month: two months in memory at a time, and each month's installations apart
    now = read(months[0])
    apart_in = [apart(now)["installation_id"]]
    deltas = [{"month": months[0], "devices": now.num_rows, "added": now.num_rows, "removed": 0,
               "upgraded": 0, "downgraded": 0, "status_changes": 0, "supplier_changes": 0}]
    for month in months[1:]:
        before, now = now, read(month)
        j = now.join(before, "device_id", join_type="full outer", left_suffix="_now", right_suffix="_before",
                     coalesce_keys=False)
        new, gone = pc.is_null(j["device_id_before"]), pc.is_null(j["device_id_now"])
        both = pc.and_(pc.is_valid(j["device_id_now"]), pc.is_valid(j["device_id_before"]))
        v_now, v_before = j["firmware_version_now"], j["firmware_version_before"]
        supplier_changed = pc.and_(both, pc.fill_null(pc.not_equal(j["supplier_now"], j["supplier_before"]),
                                                      pc.xor(pc.is_null(j["supplier_now"]),
                                                             pc.is_null(j["supplier_before"]))))
        deltas.append({"month": month, "devices": now.num_rows, "added": pc.sum(new).as_py(),
                       "removed": pc.sum(gone).as_py(), "upgraded": pc.sum(pc.greater(v_now, v_before)).as_py() or 0,
                       "downgraded": pc.sum(pc.less(v_now, v_before)).as_py() or 0,
                       "status_changes": pc.sum(pc.not_equal(j["status_now"], j["status_before"])).as_py() or 0,
                       "supplier_changes": pc.sum(supplier_changed).as_py() or 0})
        apart_in.append(apart(now)["installation_id"])

    latest = apart(now)
    since = np.full(latest.num_rows, len(months) - 1)
    still = np.ones(latest.num_rows, dtype=bool)
    for k in range(len(months) - 2, -1, -1):
        was_apart = pc.is_in(latest["installation_id"], apart_in[k]).to_numpy(zero_copy_only=False)
        still &= was_apart
        since[still] = k

    def calendar(month: str) -> int:
        return 12 * int(month[:4]) + int(month[5:7])

    months_apart = [calendar(months[-1]) - calendar(months[i]) + 1 for i in since]
    return deltas, latest.append_column("since", pa.array([months[i] for i in since])).append_column(
        "months_out_of_sync", pa.array(months_apart, pa.int32()))


def run(quick: bool) -> list[Result]:
    report = ours_fleet_report(fleet_table(quick))
    months_n = QUICK_MONTHS if quick else FULL_MONTHS
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="althan-bench-history-") as tmp:
        directory = Path(tmp)
        months = write_history(directory, report, months_n)
        rows = report.num_rows * months_n
        peer = Result("programme", f"monthly history, {months_n} snapshots of {report.num_rows:,} devices", "pyarrow",
                      _timed(lambda: peer_history(directory, months), quick), rows, "device-month")
        ours = Result("programme", peer.kernel, "althan-ota[duckdb]", _timed(lambda: ours_history(directory), quick),
                      rows, "device-month")
        compare(results, ours, peer)
    return results


def _timed(fn, quick: bool) -> float:
    """Quick: the best of a few runs. Full (24 snapshots of ~4.1 M devices, each view tens of seconds): one run
    each, the snapshots being in the page cache from being written, so the suite ends in minutes, not an hour."""
    if quick:
        return best_time(fn, quick, min_total=0.0)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
