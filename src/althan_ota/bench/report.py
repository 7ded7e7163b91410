"""Reports over a synthetic fleet: the DCC-style fleet firmware report, the out-of-sync pairs and the
reconciliation with an AHI, computed by althan-ota (DuckDB over Arrow) and by the same computation written
with pandas, the library an analyst would otherwise reach for (or plain pyarrow when pandas is not
installed; the peer's name says which). Quick mode: ~100k devices; full mode: ~4.1M devices
(``ALTHAN_OTA_BENCH_FLEET`` may name a fleet Parquet file to use instead of generating one).
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import Result, best_time, compare

QUICK_INSTALLATIONS = 50_000       # 102,500 devices
FULL_INSTALLATIONS = 2_000_000     # 4,100,000 devices
BRIDGES = ("ALTHAN_P2P_HUB", "ALTHAN_P2P_METER")
AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def fleet_table(quick: bool) -> pa.Table:
    path = os.environ.get("ALTHAN_OTA_BENCH_FLEET")
    if path and not quick:
        from ..fleet import read_fleet

        return read_fleet(path).table
    from ..fleet import generate_fleet

    return generate_fleet(QUICK_INSTALLATIONS if quick else FULL_INSTALLATIONS, seed=7).table


def perturbed_ahi(report: pa.Table, shuffled: bool = False) -> pa.Table:
    """The fleet report with 1% of rows dropped and 1% of versions changed: an AHI with work to do; in
    random row order when ``shuffled`` (an extract not sorted by device)."""
    rng = np.random.default_rng(3)
    keep = rng.random(report.num_rows) >= 0.01
    versions = np.array(report["firmware_version"].to_pylist(), dtype=object)
    changed = rng.random(report.num_rows) < 0.01
    versions[changed] = "0x00000001"
    ahi = report.set_column(report.schema.get_field_index("firmware_version"), "firmware_version",
                            pa.array(versions, pa.string()))
    ahi = ahi.filter(pa.array(keep))
    return ahi.take(pa.array(rng.permutation(ahi.num_rows))) if shuffled else ahi


# --- ours ----------------------------------------------------------------------------------------------------

def ours_fleet_report(table: pa.Table) -> pa.Table:
    from ..report import Session

    return Session(table).fleet_report()


def ours_out_of_sync(table: pa.Table) -> pa.Table:
    from ..report import Session

    return Session(table).out_of_sync()


def ours_reconcile(report: pa.Table, ahi: pa.Table):
    from ..report import reconcile

    return reconcile(report, ahi, stale_days=365, as_of=AS_OF)


# --- the peer: pandas, else plain pyarrow ---------------------------------------------------------------------

def _have_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def peer_name() -> str:
    return "pandas" if _have_pandas() else "pyarrow"


def peer_fleet_report(table: pa.Table):
    if _have_pandas():
        df = table.select(["device_id", "smi_status", "manufacturer", "model", "ppmid_variant", "firmware_version",
                           "ch_id", "mpan", "mprn", "installation_id", "supplier", "join_mode"]).to_pandas()
        df = df[df["ppmid_variant"].isin(BRIDGES) & ~df["smi_status"].isin(["Pending", "Whitelisted"])]
        df = df.assign(firmware_version=df["firmware_version"].map("0x{:08X}".format))
        return df.rename(columns={"smi_status": "status"}).sort_values("device_id")
    keep = pc.and_(pc.is_in(table["ppmid_variant"], pa.array(BRIDGES)),
                   pc.invert(pc.is_in(table["smi_status"], pa.array(["Pending", "Whitelisted"]))))
    rows = table.filter(keep)
    from ..fleet import ids

    rows = rows.set_column(rows.schema.get_field_index("firmware_version"), "firmware_version",
                           ids.format_firmware_version(rows["firmware_version"].to_numpy()))
    return rows.sort_by("device_id")


def peer_out_of_sync(table: pa.Table):
    """Pairs whose sides differ, with the inventory-only cause (CAD, suspended, not commissioned, missed)."""
    columns = ["device_id", "installation_id", "ppmid_variant", "firmware_version", "smi_status", "join_mode"]
    if _have_pandas():
        import numpy as np

        df = table.select(columns).to_pandas()
        df = df[~df["smi_status"].isin(["Pending", "Whitelisted"])]
        hub = df[df["ppmid_variant"] == BRIDGES[0]]
        meter = df[df["ppmid_variant"] == BRIDGES[1]]
        pairs = hub.merge(meter, on="installation_id", suffixes=("_hub", "_meter"))
        pairs = pairs[pairs["firmware_version_hub"] != pairs["firmware_version_meter"]]
        for side in ("hub", "meter"):
            pairs[f"cause_{side}"] = np.select(
                [pairs[f"join_mode_{side}"] == "CAD", pairs[f"smi_status_{side}"] == "Suspended",
                 pairs[f"smi_status_{side}"] != "Commissioned"],
                ["joined_as_cad", "suspended", "not_commissioned"], "never_targeted")
        return pairs
    rows = table.select(columns).filter(pc.invert(pc.is_in(table["smi_status"], pa.array(["Pending", "Whitelisted"]))))
    hub = rows.filter(pc.equal(rows["ppmid_variant"], BRIDGES[0]))
    meter = rows.filter(pc.equal(rows["ppmid_variant"], BRIDGES[1]))
    pairs = hub.join(meter, "installation_id", left_suffix="_hub", right_suffix="_meter")
    pairs = pairs.filter(pc.not_equal(pairs["firmware_version_hub"], pairs["firmware_version_meter"]))
    for side in ("hub", "meter"):
        cause = pc.case_when(pc.make_struct(pc.equal(pairs[f"join_mode_{side}"], "CAD"),
                                            pc.equal(pairs[f"smi_status_{side}"], "Suspended"),
                                            pc.not_equal(pairs[f"smi_status_{side}"], "Commissioned")),
                             "joined_as_cad", "suspended", "not_commissioned", "never_targeted")
        pairs = pairs.append_column(f"cause_{side}", cause)
    return pairs


def peer_reconcile(report: pa.Table, ahi: pa.Table):
    """Outer join on device ID, then duplicate / missing / version / status classes and the AHI actions."""
    columns = ["device_id", "firmware_version", "status"]
    if _have_pandas():
        import numpy as np

        d, a = report.select(columns).to_pandas(), ahi.select(columns).to_pandas()
        dup_d, dup_a = d["device_id"].duplicated(keep=False), a["device_id"].duplicated(keep=False)
        m = d.drop_duplicates("device_id").merge(a.drop_duplicates("device_id"), on="device_id", how="outer",
                                                 suffixes=("_dcc", "_ahi"), indicator=True)
        duplicate = m["device_id"].isin(d["device_id"][dup_d]) | m["device_id"].isin(a["device_id"][dup_a])
        m["class"] = np.select(
            [duplicate, m["_merge"] != "both", m["firmware_version_dcc"] != m["firmware_version_ahi"],
             m["status_dcc"] != m["status_ahi"]],
            ["duplicate", "missing", "version_mismatch", "status_mismatch"], "agree")
        m["action"] = np.select([duplicate | (m["_merge"] == "right_only"), m["_merge"] == "left_only",
                                 m["class"] != "agree"], ["review", "add", "update"], "")
        return m.sort_values("device_id")
    joined = report.select(columns).join(ahi.select(columns), "device_id", join_type="full outer",
                                         left_suffix="_dcc", right_suffix="_ahi")
    missing = pc.or_(pc.is_null(joined["firmware_version_dcc"]), pc.is_null(joined["firmware_version_ahi"]))
    klass = pc.case_when(pc.make_struct(missing, pc.not_equal(joined["firmware_version_dcc"], joined["firmware_version_ahi"]),
                                        pc.not_equal(joined["status_dcc"], joined["status_ahi"])),
                         "missing", "version_mismatch", "status_mismatch", "agree")
    return joined.append_column("class", klass).sort_by("device_id")


def run(quick: bool) -> list[Result]:
    table = fleet_table(quick)
    n = table.num_rows
    report = ours_fleet_report(table)
    ahi = perturbed_ahi(report)
    shuffled = perturbed_ahi(report, shuffled=True)
    peer = peer_name()
    results: list[Result] = []
    for kernel, ours, theirs, items, unit in (
            (f"fleet firmware report, {n:,} devices", lambda: ours_fleet_report(table),
             lambda: peer_fleet_report(table), n, "device"),
            (f"out-of-sync pairs, {n:,} devices", lambda: ours_out_of_sync(table), lambda: peer_out_of_sync(table),
             n, "device"),
            (f"reconcile with an AHI, {report.num_rows:,} devices", lambda: ours_reconcile(report, ahi),
             lambda: peer_reconcile(report, ahi), report.num_rows, "device"),
            (f"reconcile with an AHI in random order, {report.num_rows:,} devices",
             lambda: ours_reconcile(report, shuffled), lambda: peer_reconcile(report, shuffled), report.num_rows,
             "device")):
        peer_result = Result("report", kernel, peer, best_time(theirs, quick, min_total=0.0), items, unit)
        impl = "althan-ota[numpy+C]" if kernel.startswith("reconcile") else "althan-ota[duckdb]"
        ours_result = Result("report", kernel, impl, best_time(ours, quick, min_total=0.0), items, unit)
        compare(results, ours_result, peer_result)
    return results
