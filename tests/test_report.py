"""Reports over a hand-made fleet and campaign store whose every outcome is known: the store opener, the
fleet and supplier reports, out-of-sync triage (with and without a store and a compatibility table), the
campaign views, the machine formats and the CLI; and over a seeded realistic store, against plain-Python
references."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from report_data import NEW, NEWER, OLD, STARTED, campaign_row, make_fleet, write_store

from althan_ota.campaign import FAILED, Reason, State
from althan_ota.campaign.outcomes import CAUSES
from althan_ota.cli import main
from althan_ota.errors import InventoryError
from althan_ota.fleet import generate_fleet, ids
from althan_ota.fleet.schema import HUB_SIDE, METER_SIDE
from althan_ota.report import Session, open_store, read_listing
from althan_ota.report.campaign_views import campaign_views
from althan_ota.report.firmware import REPORT_SCHEMA, supplier_file_stem
from althan_ota.report.out_of_sync import summarise
from althan_ota.report.export import write_table
from althan_ota.testing.campaign_history import write_sample_store

S = State
R = Reason
# installation -> inventory overrides, and each side's end state in the store (None: not in any campaign)
SCENARIOS = {
    "A-in-sync": ({}, {"hub": (S.VERIFIED,), "meter": (S.VERIFIED,)}),
    "B-bridge-link": ({}, {"hub": (S.VERIFIED,), "meter": (S.TRANSFER_FAILED, R.BRIDGE_LINK)}),
    "C-meter-cad": ({"meter_join": "CAD"}, {"hub": (S.VERIFIED,), "meter": (S.NOT_ELIGIBLE, R.JOINED_AS_CAD)}),
    "D-wan": ({}, {"hub": (S.TRANSFER_FAILED, R.WAN_FAILURE), "meter": (S.VERIFIED,)}),
    "E-in-progress": ({}, {"hub": (S.VERIFIED,), "meter": (S.DOWNLOADING,)}),
    "F-hash": ({}, {"hub": (S.VERIFIED,), "meter": (S.HASH_MISMATCH, R.HASH_FAILURE)}),
    "G-activation": ({}, {"hub": (S.VERIFIED,), "meter": (S.ACTIVATION_FAILED, R.ACTIVATION_FAILURE)}),
    "H-untouched": ({"meter_version": NEW}, {"hub": None, "meter": None}),
    "I-meter-missed": ({}, {"hub": (S.VERIFIED,), "meter": None}),
    "J-hub-suspended": ({"hub_status": "Suspended", "meter_version": NEW}, {"hub": None, "meter": None}),
    "K-both-verified": ({}, {"hub": (S.VERIFIED,), "meter": (S.VERIFIED, R.NONE, "C2")}),
    "L-cad-and-han": ({"meter_join": "CAD", "meter_version": NEW},
                      {"hub": (S.TRANSFER_FAILED, R.HAN_LINK), "meter": (S.NOT_ELIGIBLE, R.JOINED_AS_CAD)}),
    "M-no-answer": ({}, {"hub": (S.UNREACHABLE, R.TIMEOUT), "meter": (S.VERIFIED,)}),
}
# installation -> (side, start of the cause, next action) with the store
EXPECTED = {
    "B-bridge-link": ("meter-side", "HAN or bridge-link failure (bridge_link)",
                      "retry SRV 11.4 for the meter-side off-peak; site visit if it fails again"),
    "C-meter-cad": ("meter-side", "joined the HAN as a CAD", "site visit: re-join the meter-side as PPMID"),
    "D-wan": ("hub-side", "WAN or Communications Hub trouble (wan_failure)",
              "check the Communications Hub's WAN connection, then retry SRV 11.4 for the hub-side"),
    "E-in-progress": ("meter-side", "upgrade still in progress", "wait for the campaign to finish the meter-side"),
    "F-hash": ("meter-side", "image hash failure", "check the image's hash against the CPL, then retry SRV 11.4 "
                                                   "for the meter-side"),
    "G-activation": ("meter-side", "activation failure (activation_failure)",
                     "read the version back with SRV 11.2 and retry SRV 11.4 for the meter-side; site visit if it "
                     "fails again"),
    "H-untouched": ("both sides", "missed by the rollout", "target both sides in the next campaign (SRV 11.4)"),
    "I-meter-missed": ("meter-side", "missed by the rollout",
                       "target the meter-side in the next campaign (SRV 11.4)"),
    "J-hub-suspended": ("hub-side", "SMI status Suspended",
                        "resolve the suspension with the supplier, then retry SRV 11.4 for the hub-side"),
    "K-both-verified": ("both sides", "both sides verified on different releases",
                        "check the release's pair compatibility for these two versions"),
    "L-cad-and-han": ("meter-side", "joined the HAN as a CAD", "site visit: re-join the meter-side as PPMID"),
    "M-no-answer": ("hub-side", "HAN or bridge-link failure (timeout)",
                    "retry SRV 11.4 for the hub-side off-peak; site visit if it fails again"),
}
C2_STARTED = STARTED + dt.timedelta(days=20)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """(fleet, store path, fleet Parquet path) for SCENARIOS."""
    tmp = tmp_path_factory.mktemp("scenario")
    fleet = make_fleet({inst: spec for inst, (spec, _) in SCENARIOS.items()})
    rows = fleet.table.to_pylist()
    devices = []
    for inst, (_, sides) in SCENARIOS.items():
        for side, variant in (("hub", HUB_SIDE), ("meter", METER_SIDE)):
            outcome = sides[side]
            if outcome is None:
                continue
            row = next(r for r in rows if r["installation_id"] == inst and r["ppmid_variant"] == variant)
            state, reason, cid = tuple(outcome) + (None, R.NONE, "C1")[len(outcome):]
            devices.append({"campaign_id": cid, "device_id": row["device_id"], "installation_id": inst,
                            "ppmid_variant": variant, "end": state, "reason": reason,
                            "before": row["firmware_version"], "target": NEW if cid == "C1" else NEWER})
    store = tmp / "store.duckdb"
    write_store(store, [campaign_row("C1", NEW), campaign_row("C2", NEWER, C2_STARTED)], devices)
    parquet = tmp / "fleet.parquet"
    fleet.write(parquet)
    return fleet, store, parquet


# --- the store opener --------------------------------------------------------------------------------------

def test_open_store_lists_campaigns(scenario):
    store = open_store(scenario[1])
    assert [c["campaign_id"] for c in store.campaigns()] == ["C1", "C2"]
    assert store.campaign_id() == "C2"          # the one that started last
    with pytest.raises(InventoryError, match="no campaign 'C9'"):
        store.campaign_id("C9")


def test_open_store_names_what_is_missing(tmp_path):
    with pytest.raises(InventoryError, match="no such campaign store"):
        open_store(tmp_path / "absent.duckdb")
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    with pytest.raises(InventoryError, match="cannot open as a DuckDB campaign store"):
        open_store(text)
    partial = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(partial))
    con.execute("CREATE TABLE campaigns (campaign_id VARCHAR, name VARCHAR)")
    con.execute("CREATE TABLE devices (campaign_id VARCHAR, device_id VARCHAR)")
    con.close()
    with pytest.raises(InventoryError) as err:
        open_store(partial)
    message = str(err.value)
    assert "table events" in message and "table transfers" in message
    assert "environment" in message and "of table campaigns" in message
    assert "version_after" in message and "of table devices" in message


def test_open_store_refuses_an_outcome_the_table_does_not_know(tmp_path):
    """A (state, reason) that no outcome records would otherwise be filed under no cause: refused, named."""
    store = tmp_path / "odd.duckdb"
    write_store(store, [campaign_row("C1", NEW)], [
        {"campaign_id": "C1", "device_id": "70-B3-D5-00-00-00-00-01", "end": S.VERIFIED, "before": OLD, "target": NEW},
        {"campaign_id": "C1", "device_id": "70-B3-D5-00-00-00-00-02", "end": S.UNREACHABLE,
         "reason": R.CH_OFFLINE, "before": OLD, "target": NEW}])
    with pytest.raises(InventoryError, match=r"outcome table.*state unreachable with reason ch_offline \(2 rows, "
                                             r"e\.g\. device 70-B3-D5-00-00-00-00-02\)"):
        open_store(store)


# --- the fleet report and the supplier reports ------------------------------------------------------------

def test_fleet_report_without_store_is_the_inventory(scenario):
    fleet, _, parquet = scenario
    report = Session(fleet, extract_date=dt.date(2026, 1, 15)).fleet_report()
    assert report.schema == REPORT_SCHEMA
    assert report.num_rows == len(fleet)
    by_id = {r["device_id"]: r for r in fleet.table.to_pylist()}
    for row in report.to_pylist():
        source = by_id[row["device_id"]]
        assert row["firmware_version"] == f"0x{source['firmware_version']:08X}"
        assert row["status"] == source["smi_status"] and row["ch_id"] == source["ch_id"]
        assert row["last_confirmed"] == dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)
        assert row["confirmed_by"] == "extract"
    assert report["device_id"].to_pylist() == sorted(by_id)
    # the Parquet fast path gives the same report as the in-memory fleet
    assert Session(parquet).fleet_report().equals(Session(fleet).fleet_report())
    assert Session(parquet).fleet_report()["last_confirmed"].null_count == report.num_rows


def test_fleet_report_takes_verified_versions_from_the_store(scenario):
    fleet, store, _ = scenario
    report = {r["device_id"]: r for r in Session(fleet, store=store).fleet_report().to_pylist()}
    con = duckdb.connect(str(store), read_only=True)
    verified = con.execute("""SELECT d.device_id, d.version_after, e.t, d.campaign_id FROM devices d
                              JOIN events e USING (campaign_id, device_id) WHERE e.state = 6""").fetchall()
    con.close()
    assert verified
    for device, version, t, cid in verified:
        start = C2_STARTED if cid == "C2" else STARTED
        assert report[device]["firmware_version"] == f"0x{version:08X}"
        assert report[device]["last_confirmed"] == start + dt.timedelta(seconds=int(t))
        assert report[device]["confirmed_by"] == f"campaign {cid}"
    unverified = set(report) - {v[0] for v in verified}
    assert all(report[d]["last_confirmed"] is None and report[d]["firmware_version"] in
               (f"0x{OLD:08X}", f"0x{NEW:08X}") for d in unverified)


def test_fleet_report_keeps_installed_bridges_only():
    fleet = generate_fleet(3000, seed=5)
    report = Session(fleet).fleet_report()
    table = fleet.table
    expected = pc.and_(pc.is_in(table["ppmid_variant"], pa.array([HUB_SIDE, METER_SIDE])),
                       pc.invert(pc.is_in(table["smi_status"], pa.array(["Pending", "Whitelisted"]))))
    assert report.num_rows == pc.sum(expected).as_py() > 0
    assert set(report["ppmid_variant"].to_pylist()) == {HUB_SIDE, METER_SIDE}


def test_supplier_reports_partition_the_fleet_report():
    session = Session(generate_fleet(800, seed=2))
    report = session.fleet_report()
    parts = session.supplier_reports()
    assert sum(t.num_rows for t in parts.values()) == report.num_rows
    for name, part in parts.items():
        assert set(part["supplier"].to_pylist()) == {name}
    assert sorted(pa.concat_tables(parts.values())["device_id"].to_pylist()) == report["device_id"].to_pylist()
    assert supplier_file_stem("Pennine Gas & Electric") == "pennine-gas-electric"


def test_fleet_parquet_with_bad_rows_is_an_error_naming_line_and_column(scenario, tmp_path):
    fleet = scenario[0]
    table = fleet.table
    ids = table["device_id"].to_pylist()
    ids[4] = "70-B3-D5-ZZ-00-00-00-05"
    bad = tmp_path / "bad.parquet"
    pq.write_table(table.set_column(0, "device_id", pa.array(ids)), bad)
    with pytest.raises(InventoryError, match=r"bad.parquet: \d problem.*line 5, column device_id: malformed EUI-64"):
        Session(bad)


def test_fleet_csv_extract_is_validated(scenario, tmp_path):
    fleet = scenario[0]
    path = tmp_path / "extract.csv"
    table = fleet.table.drop_columns(["source_line"])
    # versions as the hex text extracts carry (an 8-digit decimal would read as hex)
    table = table.set_column(table.schema.get_field_index("firmware_version"), "firmware_version",
                             ids.format_firmware_version(table["firmware_version"].to_numpy()))
    pacsv.write_csv(table, path)
    assert Session(path).fleet_report().equals(Session(fleet).fleet_report())
    text = path.read_text().splitlines()
    text[3] = text[3].replace("Commissioned", "Installed-ish", 1)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(InventoryError, match=r"line 4, column smi_status: unknown SMI status 'Installed-ish'"):
        Session(path)


# --- out-of-sync pairs ---------------------------------------------------------------------------------------

def test_out_of_sync_causes_and_actions_from_the_store(scenario):
    fleet, store, _ = scenario
    table = Session(fleet, store=store).out_of_sync()
    got = {r["installation_id"]: r for r in table.to_pylist()}
    assert set(got) == set(EXPECTED)
    for inst, (side, cause, action) in EXPECTED.items():
        row = got[inst]
        assert (row["side"], row["next_action"]) == (side, action), inst
        assert row["cause"].startswith(cause), (inst, row["cause"])
        assert row["hub_version"] != row["meter_version"]
        assert row["urgency"] == "unknown" and row["compatibility"] == "unknown"
    assert got["L-cad-and-han"]["hub_cause"] == "HAN or bridge-link failure (han_link)"
    assert got["B-bridge-link"]["hub_cause"] == "verified"
    summary = summarise(table)
    assert summary["pairs"] == len(EXPECTED) and summary["side"]["meter-side"] == 7


def test_out_of_sync_from_the_inventory_alone(scenario):
    table = Session(scenario[0]).out_of_sync()
    got = {r["installation_id"]: (r["side"], r["next_action"]) for r in table.to_pylist()}
    assert got == {
        "H-untouched": ("both sides", "target both sides in the next campaign (SRV 11.4)"),
        "J-hub-suspended": ("hub-side", "resolve the suspension with the supplier, then retry SRV 11.4 for the hub-side"),
        "L-cad-and-han": ("meter-side", "site visit: re-join the meter-side as PPMID"),
    }


def test_compatibility_table_sets_urgency(scenario, tmp_path):
    fleet, store, _ = scenario
    compat = tmp_path / "compat.csv"
    compat.write_text("Hub Version,Meter Version,Compatible\n"
                      f"0x{OLD:08X},0x{NEW:08X},no\n{NEW:08x},{OLD:08x},yes\n")
    table = Session(fleet, store=store).out_of_sync(compat)
    urgency = {r["installation_id"]: r["urgency"] for r in table.to_pylist()}
    assert urgency["H-untouched"] == urgency["J-hub-suspended"] == urgency["D-wan"] == "urgent"
    assert urgency["B-bridge-link"] == urgency["C-meter-cad"] == "benign"
    assert urgency["K-both-verified"] == "unknown"      # NEW vs NEWER is not listed
    order = [URG for URG in table["urgency"].to_pylist()]
    assert order == sorted(order, key=["urgent", "unknown", "benign"].index)
    bad = tmp_path / "bad_compat.csv"
    bad.write_text("hub_version,meter_version,compatible\n0x01,0x01000000,yes\n")
    with pytest.raises(InventoryError, match=r"bad_compat.csv, line 2, column hub_version: malformed firmware"):
        Session(fleet).out_of_sync(bad)
    bad.write_text("hub_version,meter_version\n0x01000000,0x01000000\n")
    with pytest.raises(InventoryError, match="missing required column.*compatible"):
        Session(fleet).out_of_sync(bad)


def _reference_out_of_sync(fleet, store_path) -> dict[str, tuple[str, str]]:
    """Installation -> (side, cause key), by the rules in out_of_sync's docstring, one device at a time."""
    con = duckdb.connect(str(store_path), read_only=True)
    latest = {}
    for device, state, reason, started in con.execute(
            "SELECT d.device_id, d.state, d.reason, c.started_at FROM devices d JOIN campaigns c USING (campaign_id)"
            " ORDER BY c.started_at").fetchall():
        latest[device] = (state, reason)
    verified_version = dict(con.execute(
        "SELECT device_id, arg_max(version_after, c.started_at) FROM devices d JOIN campaigns c USING (campaign_id)"
        " WHERE state = 6 GROUP BY device_id").fetchall())
    con.close()
    rank = ["joined_as_cad", "hash", "activation", "link", "wan_ch", "failed_other", "stopped", "suspended",
            "not_commissioned", "not_eligible", "both_verified", "never_targeted", "in_progress"]

    def cause(row) -> str:
        state, reason = latest.get(row["device_id"], (None, None))
        if row["join_mode"] == "CAD" or reason == R.JOINED_AS_CAD:
            return "joined_as_cad"
        if state is None:
            return {"Suspended": "suspended", "Commissioned": "never_targeted"}.get(row["smi_status"], "not_commissioned")
        if state == S.VERIFIED:
            return "verified"
        if state == S.NOT_ELIGIBLE:
            return {R.SUSPENDED: "suspended", R.DECOMMISSIONED: "not_commissioned",
                    R.NOT_COMMISSIONED: "not_commissioned"}.get(reason, "not_eligible")
        if state < 10:
            return "in_progress"
        if state == S.CANCELLED or reason in (R.ABORTED, R.RETRY_LIMIT):
            return "stopped"
        if reason in (R.WAN_FAILURE, R.CH_OFFLINE):
            return "wan_ch"
        if reason in (R.HAN_LINK, R.BRIDGE_LINK, R.DEVICE_OFFLINE, R.TIMEOUT) or state == S.UNREACHABLE:
            return "link"
        if reason == R.HASH_FAILURE or state == S.HASH_MISMATCH:
            return "hash"
        return "activation" if reason in (R.ACTIVATION_FAILURE, R.READBACK_MISMATCH) or \
            state == S.ACTIVATION_FAILED else "failed_other"

    pairs: dict[str, dict] = {}
    for row in fleet.table.to_pylist():
        if row["ppmid_variant"] in (HUB_SIDE, METER_SIDE) and row["smi_status"] not in ("Pending", "Whitelisted"):
            pairs.setdefault(row["installation_id"], {})[row["ppmid_variant"]] = row
    out = {}
    for inst, sides in pairs.items():
        if len(sides) != 2:
            continue
        hub, meter = sides[HUB_SIDE], sides[METER_SIDE]
        version = lambda r: verified_version.get(r["device_id"], r["firmware_version"])  # noqa: E731
        if version(hub) == version(meter):
            continue
        h, m = cause(hub), cause(meter)
        if h == m == "verified":
            out[inst] = ("both sides", "both_verified")
        elif h == "verified":
            out[inst] = ("meter-side", m)
        elif m == "verified":
            out[inst] = ("hub-side", h)
        elif h == m:
            out[inst] = ("both sides", h)
        else:
            out[inst] = ("hub-side", h) if rank.index(h) <= rank.index(m) else ("meter-side", m)
    return out


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    """A synthetic fleet with two seeded campaigns, the second still running."""
    tmp = tmp_path_factory.mktemp("realistic")
    fleet = generate_fleet(1500, seed=11)
    store = tmp / "store.duckdb"
    first = write_sample_store(store, fleet, campaign_id="C-A", seed=1)
    second = write_sample_store(store, fleet, campaign_id="C-B", manufacturer="Cardinal Metering Links", seed=2,
                                snapshot_s=36 * 3600, started_at=STARTED + dt.timedelta(days=30))
    return fleet, store, first, second


def test_out_of_sync_matches_a_per_device_reference(realistic):
    fleet, store, _, _ = realistic
    table = Session(fleet, store=store).out_of_sync()
    key_of = {c.text: c.key for c in CAUSES}
    got = {}
    for r in table.to_pylist():
        general = r["cause"].split(" (")[0]
        got[r["installation_id"]] = (r["side"], key_of[general] if general in key_of else general)
    expected = _reference_out_of_sync(fleet, store)
    assert got == expected
    assert len(Counter(k for _, k in expected.values())) >= 5      # the sample history exercises many causes


# --- campaign views ----------------------------------------------------------------------------------------

def test_campaign_views_against_the_tables(realistic):
    fleet, store_path, first, second = realistic
    store = open_store(store_path)
    con = duckdb.connect(str(store_path), read_only=True)
    for cid, info in (("C-A", first), ("C-B", second)):
        views = campaign_views(store, cid, visit_cost=100.0)
        cursor = con.execute("SELECT * FROM devices WHERE campaign_id = ?", [cid])
        columns = [d[0] for d in cursor.description]
        devices = [dict(zip(columns, row)) for row in cursor.fetchall()]
        assert views.summary["devices"] == len(devices) == info["devices"]
        assert views.summary["verified"] == sum(d["state"] == S.VERIFIED for d in devices) == info["verified"]
        assert views.summary["failed"] == sum(d["state"] in FAILED for d in devices)
        before = Counter(f"0x{d['version_before']:08X}" for d in devices)
        after = Counter(f"0x{d['version_after']:08X}" for d in devices)
        assert {r["version"]: (r["before"], r["after"]) for r in views.versions.to_pylist()} == \
            {v: (before[v], after[v]) for v in set(before) | set(after)}
        # at the end of the last bin every device is in its current state
        last_t = max(views.progress["t_s"].to_pylist())
        final = {r["state"]: r["devices"] for r in views.progress.to_pylist() if r["t_s"] == last_t}
        assert {k: v for k, v in final.items() if v} == dict(Counter(State(d["state"]).label for d in devices))
        assert all(v >= 0 for v in views.progress["devices"].to_pylist())
        done = con.execute("SELECT min(t) FROM events WHERE campaign_id = ? AND state = 6 GROUP BY device_id",
                           [cid]).fetchall()
        times = np.array([t for (t,) in done])
        assert sum(views.completion["devices"].to_pylist()) == len(times)
        assert views.summary["completion_s"]["p50"] == pytest.approx(np.quantile(times, 0.5))
        assert views.summary["completion_s"]["p90"] == pytest.approx(np.quantile(times, 0.9))
        transfers = con.execute("SELECT han_airtime_s, bridge_airtime_s FROM transfers WHERE campaign_id = ?",
                                [cid]).fetchall()
        airtime = {(r["link"]): 0.0 for r in views.airtime.to_pylist()}
        for r in views.airtime.to_pylist():
            airtime[r["link"]] += r["total_s"]
        assert airtime["HAN"] == pytest.approx(sum(t[0] for t in transfers))
        assert airtime["bridge link"] == pytest.approx(sum(t[1] for t in transfers))
        ended = Counter((State(d["state"]).label, Reason(d["reason"]).label) for d in devices
                        if d["state"] in FAILED | {S.NOT_ELIGIBLE, S.CANCELLED})
        assert {(r["state"], r["reason"]): r["devices"] for r in views.failures.to_pylist()} == dict(ended)
        # site visits, per premises
        premises: dict[str, list[dict]] = {}
        for d in devices:
            if d["wave"] >= 0 or d["reason"] == R.JOINED_AS_CAD:
                premises.setdefault(d["installation_id"] or d["device_id"], []).append(d)
        ok = lambda d: d["state"] == S.VERIFIED or (d["state"] == S.NOT_ELIGIBLE and d["reason"] == R.ALREADY_CURRENT)  # noqa: E731
        avoided = sum(all(ok(d) for d in ds) and any(d["state"] == S.VERIFIED for d in ds) for ds in premises.values())
        needed = sum(any(d["state"] in FAILED or d["reason"] == R.JOINED_AS_CAD for d in ds) for ds in premises.values())
        visits = views.summary["site_visits"]
        assert (visits["premises_targeted"], visits["avoided"], visits["still_needed"]) == (len(premises), avoided, needed)
        assert visits["cost_avoided"] == pytest.approx(100.0 * avoided)
    assert campaign_views(store, "C-B").summary["in_progress"] > 0       # the snapshot cut it mid-run
    assert campaign_views(store).summary["campaign_id"] == "C-B"
    con.close()


def test_campaign_views_on_the_hand_made_store(scenario):
    views = campaign_views(open_store(scenario[1]), "C1")
    assert views.summary["verified"] == 11 and views.summary["not_eligible"] == 2
    # every bridge C1 targeted was verified at A, I (meter never targeted) and K (meter in C2)
    assert views.summary["site_visits"]["avoided"] == 3
    assert views.summary["site_visits"]["still_needed"] == 7      # B, C, D, F, G, L, M failed or CAD; E runs
    fails = {(r["state"], r["reason"]): r["devices"] for r in views.failures.to_pylist()}
    assert fails[("not_eligible", "joined_as_cad")] == 2 and fails[("transfer_failed", "bridge_link")] == 1


# --- machine formats and the CLI -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_written_reports_read_back(scenario, tmp_path, fmt):
    fleet, store, _ = scenario
    report = Session(fleet, store=store, extract_date=dt.date(2026, 1, 15)).fleet_report()
    path = write_table(report, tmp_path / f"report.{fmt}")
    if fmt == "json":
        rows = json.loads(path.read_text())
        assert [r["device_id"] for r in rows] == report["device_id"].to_pylist()
        assert [r["firmware_version"] for r in rows] == report["firmware_version"].to_pylist()
        return
    listing = read_listing(path)
    assert listing["device_id"].to_pylist() == report["device_id"].to_pylist()
    assert listing["firmware_version"].to_pylist() == report["firmware_version"].to_pylist()
    assert listing["smi_status"].to_pylist() == report["status"].to_pylist()
    assert listing["last_confirmed"].to_pylist() == report["last_confirmed"].to_pylist()


def test_cli_reports(scenario, tmp_path, capsys):
    fleet, store, parquet = scenario

    def run(*argv) -> dict:
        assert main(["report", *map(str, argv), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    summary = run("fleet", "--fleet", parquet, "--store", store, "--out", tmp_path / "dcc.parquet")
    assert summary["devices"] == len(fleet) and summary["format"] == "parquet"
    assert pq.read_table(tmp_path / "dcc.parquet").num_rows == len(fleet)
    summary = run("suppliers", "--fleet", parquet, "--store", store, "--out", tmp_path / "sup")
    assert summary["suppliers"]["Albion Energy"]["devices"] == len(fleet)
    assert (tmp_path / "sup" / "albion-energy.csv").is_file()
    summary = run("out-of-sync", "--fleet", parquet, "--store", store, "--out", tmp_path / "oos.json")
    assert summary["pairs"] == len(EXPECTED)
    assert len(json.loads((tmp_path / "oos.json").read_text())) == len(EXPECTED)
    summary = run("reconcile", "--fleet", tmp_path / "dcc.parquet", "--ahi", tmp_path / "dcc.parquet",
                  "--suppliers", tmp_path / "sup", "--out", tmp_path / "rec.csv")
    assert summary["class"]["agree"] == len(fleet) and (tmp_path / "ahi-updates.csv").is_file()
    summary = run("campaign", "--store", store, "--campaign", "C1", "--visit-cost", "200", "--out", tmp_path / "c1")
    assert summary["site_visits"]["cost_avoided"] == 600.0
    assert {p.name for p in (tmp_path / "c1").iterdir()} == {
        "summary.json", "versions.csv", "progress.csv", "completion.csv", "airtime.csv", "failures.csv",
        "buildings.csv"}
    summary = run("html", "--fleet", parquet, "--store", store, "--out", tmp_path / "r.html")
    assert summary["bytes"] > 10_000


def test_cli_bad_input_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "ahi.csv"
    bad.write_text("device_id,firmware_version\n70-B3-D5-00-00-00-00-01,0x01000000\n")
    assert main(["report", "reconcile", "--fleet", str(bad), "--ahi", str(bad), "--out", str(tmp_path / "r.csv")]) == 1
    assert "ahi.csv: missing required column(s) smi_status" in capsys.readouterr().err
    assert main(["report", "campaign", "--store", str(tmp_path / "none.duckdb")]) == 1
    assert "no such campaign store" in capsys.readouterr().err
    (tmp_path / "suppliers").mkdir()
    good = tmp_path / "dcc.csv"
    good.write_text("device_id,firmware_version,status\n70-B3-D5-00-00-00-00-01,0x01000000,Commissioned\n")
    assert main(["report", "reconcile", "--fleet", str(good), "--ahi", str(good), "--suppliers",
                 str(tmp_path / "suppliers"), "--out", str(tmp_path / "r.csv")]) == 1
    assert "no supplier reports in this folder" in capsys.readouterr().err


def test_interrupted_write_keeps_the_previous_report(tmp_path, monkeypatch):
    from althan_ota.report import _duck, export

    path = export.write_table(pa.table({"a": [1, 2]}), tmp_path / "r.csv")
    before = path.read_bytes()
    real_connect = _duck.connect

    class Interrupted:
        def __init__(self):
            self.con = real_connect()

        def register(self, *args):
            self.con.register(*args)

        def execute(self, sql):
            self.con.execute(sql)          # the COPY writes its temporary file...
            raise KeyboardInterrupt        # ...and the run is stopped before it replaces the report

        def close(self):
            self.con.close()

    monkeypatch.setattr(export._duck, "connect", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        export.write_table(pa.table({"a": [3, 4, 5]}), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
