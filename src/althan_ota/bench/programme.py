"""The monthly history over many snapshots of the fleet report: month-on-month deltas and how long each pair
has been out of sync, computed by althan-ota (``report.history``: DuckDB over the Parquet dataset) and by the
same computation in plain pyarrow (read every month, join month to month), in the same run. Quick mode: 6
monthly snapshots of ~100k devices; full mode: 24 snapshots of ~4.1M devices.
"""

from __future__ import annotations

import tempfile
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


def write_history(directory: Path, report: pa.Table, months: int) -> list[str]:
    """``months`` monthly snapshots of ``report``: each month a few devices leave, a few arrive (renamed
    copies) and a growing share is upgraded, so every delta has work to do."""
    from ..report.history import append_snapshot

    rng = np.random.default_rng(18)
    n = report.num_rows
    upgrade_at = rng.integers(0, months * 2, n)          # the month each device is upgraded (many never)
    leave_at = np.where(rng.random(n) < 0.02, rng.integers(1, months + 1, n), months + 1)
    versions = report["firmware_version"]
    names = []
    for m in range(months):
        month = f"{2025 + m // 12}-{m % 12 + 1:02d}"
        upgraded = pc.if_else(pa.array(upgrade_at <= m), "0x01040000", versions)
        table = report.set_column(report.schema.get_field_index("firmware_version"), "firmware_version", upgraded)
        table = table.filter(pa.array(leave_at > m))
        append_snapshot(directory, "fleet", table, month)
        names.append(month)
    return names


def ours_history(directory: Path):
    from ..report.history import history_views

    return history_views(directory)


def peer_history(directory: Path, months: list[str]) -> tuple[list[dict], pa.Table]:
    """Deltas between consecutive months and the latest month's out-of-sync pairs with their first month
    out of sync, in plain pyarrow."""
    columns = ["device_id", "status", "firmware_version", "ppmid_variant", "installation_id", "supplier"]
    tables = [pq.read_table(directory / "fleet" / f"month={m}" / "data.parquet", columns=columns) for m in months]
    deltas = []
    for before, now in zip(tables, tables[1:]):
        j = now.join(before, "device_id", join_type="full outer", left_suffix="_now", right_suffix="_before")
        new, gone = pc.is_null(j["firmware_version_before"]), pc.is_null(j["firmware_version_now"])
        deltas.append({"added": pc.sum(new).as_py(), "removed": pc.sum(gone).as_py(),
                       "upgraded": pc.sum(pc.greater(j["firmware_version_now"], j["firmware_version_before"])).as_py(),
                       "status_changes": pc.sum(pc.not_equal(j["status_now"], j["status_before"])).as_py()})

    def apart(table: pa.Table) -> pa.Table:
        hub = table.filter(pc.equal(table["ppmid_variant"], HUB)).select(["installation_id", "firmware_version"])
        meter = table.filter(pc.equal(table["ppmid_variant"], METER)).select(["installation_id", "firmware_version"])
        pairs = hub.join(meter, "installation_id", left_suffix="_hub", right_suffix="_meter")
        return pairs.filter(pc.not_equal(pairs["firmware_version_hub"], pairs["firmware_version_meter"]))

    latest = apart(tables[-1])
    since = np.full(latest.num_rows, len(months) - 1)
    still = np.ones(latest.num_rows, dtype=bool)
    for k in range(len(months) - 2, -1, -1):
        was_apart = pc.is_in(latest["installation_id"], apart(tables[k])["installation_id"]).to_numpy(
            zero_copy_only=False)
        still &= was_apart
        since[still] = k
    return deltas, latest.append_column("since", pa.array([months[i] for i in since]))


def run(quick: bool) -> list[Result]:
    report = ours_fleet_report(fleet_table(quick))
    months_n = QUICK_MONTHS if quick else FULL_MONTHS
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="althan-bench-history-") as tmp:
        directory = Path(tmp)
        months = write_history(directory, report, months_n)
        rows = report.num_rows * months_n
        peer = Result("programme", f"monthly history, {months_n} snapshots of {report.num_rows:,} devices", "pyarrow",
                      best_time(lambda: peer_history(directory, months), quick, min_total=0.0), rows, "device-month")
        ours = Result("programme", peer.kernel, "althan-ota[duckdb]",
                      best_time(lambda: ours_history(directory), quick, min_total=0.0), rows, "device-month")
        compare(results, ours, peer)
    return results
