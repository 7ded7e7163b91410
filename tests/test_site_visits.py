"""Site visits: one per premises (a visit goes to a building and serves both bridges of an installation),
counted by one definition that ``althan-ota demo``, the campaign summary, ``report campaign`` and the HTML
page all print; checked against a per-premises count written here from the device rows."""

from __future__ import annotations

import json
import re

import duckdb

from althan_ota.campaign import FAILED, Reason, State
from althan_ota.cli import main
from althan_ota.report import Session, open_store
from althan_ota.report.campaign_views import campaign_views
from althan_ota.report.html import render_html


def _reference(store_path, campaign_id: str) -> dict:
    con = duckdb.connect(str(store_path), read_only=True)
    rows = con.execute("SELECT installation_id, device_id, wave, state, reason FROM devices WHERE campaign_id = ?",
                       [campaign_id]).fetchall()
    con.close()
    premises: dict[str, list[tuple[int, int]]] = {}
    for installation, device, wave, state, reason in rows:
        if wave >= 0 or reason == Reason.JOINED_AS_CAD:
            premises.setdefault(installation or device, []).append((state, reason))
    up_to_date = lambda s, r: s == State.VERIFIED or (s == State.NOT_ELIGIBLE and r == Reason.ALREADY_CURRENT)  # noqa: E731
    cad = {p for p, ds in premises.items() if any(r == Reason.JOINED_AS_CAD for _, r in ds)}
    failed = {p for p, ds in premises.items() if any(s in FAILED for s, _ in ds)}
    return {"premises_targeted": len(premises),
            "avoided": sum(all(up_to_date(s, r) for s, r in ds) and any(s == State.VERIFIED for s, _ in ds)
                           for ds in premises.values()),
            "still_needed": len(cad | failed), "needed_cad_joined": len(cad), "needed_failed": len(failed),
            "verified_devices": sum(s == State.VERIFIED for ds in premises.values() for s, _ in ds)}


def test_demo_summary_and_reports_count_one_visit_per_premises(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--installations", "400", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    store = out / "campaigns.duckdb"
    expected = _reference(store, "demo")
    visits = summary["site_visits"]
    assert {k: visits[k] for k in ("premises_targeted", "avoided", "still_needed", "needed_cad_joined",
                                   "needed_failed")} == {k: v for k, v in expected.items() if k != "verified_devices"}
    # the defect this replaces counted one visit per verified device
    assert 0 < visits["avoided"] < expected["verified_devices"]
    assert visits["cost_avoided"] == visits["avoided"] * visits["visit_cost"]
    # report campaign and the HTML page give the same figures for the same cost
    views = campaign_views(open_store(store), "demo", visit_cost=visits["visit_cost"])
    assert views.summary["site_visits"] == visits
    page = render_html(Session(out / "fleet.parquet", store=store), campaign_id="demo",
                       visit_cost=visits["visit_cost"])
    assert f"<b>{visits['avoided']:,}</b><span>site visits avoided</span>" in page
    assert f"<b>{visits['still_needed']:,}</b><span>visits still needed</span>" in page
    # and the printed lines say the same
    assert main(["report", "campaign", "--store", str(store), "--out", str(tmp_path / "rc")]) == 0
    printed = capsys.readouterr().out
    assert re.search(rf"site visits avoided {visits['avoided']:,} .*still needed {visits['still_needed']:,}", printed)
    assert main(["campaign", "status", "demo", "--store", str(store)]) == 0
    printed = capsys.readouterr().out
    assert f"site visits avoided: {visits['avoided']:,} of {visits['premises_targeted']:,} premises" in printed
