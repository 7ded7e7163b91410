"""``althan-ota report programme``: every campaign of several stores per supplier, per manufacturer/model and
per month, checked against counts written here from the stores' device rows and the fleet."""

from __future__ import annotations

import html
import json
from collections import Counter

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from althan_ota.campaign import CampaignPlan
from althan_ota.campaign.outcomes import STATE_CATEGORY
from althan_ota.campaign.site_visits import count_site_visits
from althan_ota.cli import main
from althan_ota.errors import InventoryError
from althan_ota.fleet import generate_fleet
from althan_ota.report.programme import programme_views

OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    """Two stores: store A holds a campaign for the first supplier and one for every supplier; store B one for
    the second supplier. A later extract moves some devices to the third supplier."""
    directory = tmp_path_factory.mktemp("programme")
    fleet = generate_fleet(800, seed=18)
    fleet_path = directory / "fleet.parquet"
    fleet.write(fleet_path)
    names = sorted(set(fleet.column("supplier").tolist()))
    paths = sum((["--upgrade-path", f"0x{v:08X}:0x01040000"] for v in OLD), [])

    def run(store, cid, *suppliers):
        argv = ["campaign", "run", "--fleet", str(fleet_path), "--store", str(directory / store), "--campaign-id",
                cid, "--target-version", "0x01040000", "--image-size", "24000", "--canary", "40", "--json",
                *paths, *sum((["--supplier", s] for s in suppliers), [])]
        assert main(argv) == 0

    run("a.duckdb", "first", names[0])
    run("a.duckdb", "everyone")
    run("b.duckdb", "second", names[1])
    table = fleet.table
    moved = pc.equal(table["supplier"], names[0]).to_numpy(zero_copy_only=False).nonzero()[0][::5]
    supplier = table["supplier"].to_pylist()
    for row in moved:
        supplier[row] = names[2]
    later = table.set_column(table.schema.get_field_index("supplier"), "supplier", pa.array(supplier, pa.string()))
    later_path = directory / "later.parquet"
    _write(later, later_path)
    return {"dir": directory, "fleet": fleet, "fleet_path": fleet_path, "later": later, "later_path": later_path,
            "stores": [directory / "a.duckdb", directory / "b.duckdb"], "names": names,
            "moved": {table["device_id"][int(r)].as_py() for r in moved}}


def _write(table, path):
    import pyarrow.parquet as pq

    pq.write_table(table, path)


def _device_rows(stores):
    rows = []
    for store in stores:
        con = duckdb.connect(str(store), read_only=True)
        for cid, device, wave, state in con.execute(
                "SELECT campaign_id, device_id, wave, state FROM devices").fetchall():
            rows.append((str(store), cid, device, wave, STATE_CATEGORY[state]))
        con.close()
    return rows


def _reference(rows, attribute_of):
    table: dict = {}
    for store, cid, device, wave, category in rows:
        key = attribute_of(device)
        counts = table.setdefault(key, Counter())
        counts["devices"] += 1
        counts["targeted"] += wave >= 0
        counts[category] += 1
    return table


def test_counts_per_supplier_and_model_match_the_device_rows(programme):
    views = programme_views(programme["stores"], visit_cost=100.0)
    fleet = programme["fleet"].table
    supplier_of = dict(zip(fleet["device_id"].to_pylist(), fleet["supplier"].to_pylist()))
    model_of = dict(zip(fleet["device_id"].to_pylist(), zip(fleet["manufacturer"].to_pylist(),
                                                             fleet["model"].to_pylist())))
    rows = _device_rows(programme["stores"])
    expected = _reference(rows, supplier_of.get)
    got = {r["supplier"]: r for r in views.suppliers.to_pylist()}
    assert set(got) == set(expected)
    for name, counts in expected.items():
        for column in ("devices", "targeted", "verified", "failed", "in_progress", "not_eligible"):
            assert got[name][column] == counts[column], (name, column)
    by_model = _reference(rows, model_of.get)
    assert {(r["manufacturer"], r["model"]): r["targeted"] for r in views.models.to_pylist()} == \
        {k: v["targeted"] for k, v in by_model.items()}
    # the campaign scoped to the first supplier targets nobody else
    first_only = {d for s, c, d, w, _ in rows if c == "first" and w >= 0}
    assert first_only and {supplier_of[d] for d in first_only} == {programme["names"][0]}
    assert views.summary["campaigns"] == 3 and views.supplier_changes.num_rows == 0
    assert sum(views.months["targeted"].to_pylist()) == views.summary["targeted"] == sum(
        w >= 0 for _, _, _, w, _ in rows)


def test_site_visits_add_up_to_each_campaigns_own_count(programme):
    views = programme_views(programme["stores"], visit_cost=100.0)
    avoided = needed = 0
    for store in programme["stores"]:
        con = duckdb.connect(str(store), read_only=True)
        for (cid,) in con.execute("SELECT campaign_id FROM campaigns").fetchall():
            visits = count_site_visits(con, "devices", cid)
            avoided, needed = avoided + visits.avoided, needed + visits.still_needed
        con.close()
    assert avoided > 0
    # a premises has one supplier in the synthetic fleet, so the per-supplier rows partition the premises
    assert sum(views.suppliers["visits_avoided"].to_pylist()) == avoided == views.summary["visits_avoided"]
    assert sum(views.suppliers["visits_still_needed"].to_pylist()) == needed
    assert views.summary["cost_avoided"] == avoided * 100.0


def test_a_device_that_changed_supplier_counts_under_its_new_supplier_and_is_listed(programme):
    views = programme_views(programme["stores"], programme["later_path"])
    changes = views.supplier_changes.to_pylist()
    names = programme["names"]
    rows = _device_rows(programme["stores"])
    in_stores = {d for _, _, d, _, _ in rows}
    assert {c["device_id"] for c in changes} == programme["moved"] & in_stores
    assert {(c["planned_supplier"], c["supplier"]) for c in changes} == {(names[0], names[2])}
    later = programme["later"]
    supplier_now = dict(zip(later["device_id"].to_pylist(), later["supplier"].to_pylist()))
    expected = _reference(rows, supplier_now.get)
    assert {r["supplier"]: r["targeted"] for r in views.suppliers.to_pylist()} == \
        {k: v["targeted"] for k, v in expected.items()}


def test_the_command_writes_each_view_and_a_summary(programme, capsys):
    out = programme["dir"] / "report"
    argv = ["report", "programme", *map(str, programme["stores"]), "--fleet", str(programme["later_path"]),
            "--out", str(out), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["campaigns"] == 3 and summary["supplier_changes"] > 0
    for name in ("campaigns", "suppliers", "models", "months", "supplier_changes"):
        assert (out / f"{name}.csv").is_file()
    assert json.loads((out / "summary.json").read_text())["targeted"] == summary["targeted"]


def test_a_campaign_whose_fleet_file_is_gone_needs_the_latest_extract(programme, tmp_path):
    moved_fleet = tmp_path / "fleet.parquet"
    programme["fleet"].write(moved_fleet)
    store = tmp_path / "c.duckdb"
    argv = ["campaign", "run", "--fleet", str(moved_fleet), "--store", str(store), "--campaign-id", "gone",
            "--target-version", "0x01040000", "--image-size", "24000", "--json",
            *sum((["--upgrade-path", f"0x{v:08X}:0x01040000"] for v in OLD), [])]
    assert main(argv) == 0
    moved_fleet.unlink()
    with pytest.raises(InventoryError, match=r"campaign\(s\) gone \(planned on .*fleet.parquet\).*--fleet"):
        programme_views([store])
    assert programme_views([store], programme["fleet_path"]).summary["campaigns"] == 1


def test_a_file_that_is_not_a_store_is_named(programme, tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("not a database")
    with pytest.raises(InventoryError, match="bogus.duckdb"):
        programme_views([programme["stores"][0], bogus])


def test_the_html_page_has_a_programme_section(programme, capsys):
    out = programme["dir"] / "page.html"
    assert main(["report", "html", "--fleet", str(programme["later_path"]), "--programme", str(programme["stores"][0]),
                 "--programme", str(programme["stores"][1]), "--out", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text()
    views = programme_views(programme["stores"], programme["later_path"])
    section = text[text.index("<h2>Programme</h2>"):]
    assert "Site visits avoided per supplier" in section and section.count("<svg") == 1
    assert f"<b>{views.summary['targeted']:,}</b><span>devices targeted</span>" in section
    for name in views.suppliers["supplier"].to_pylist():
        assert f"<td>{html.escape(name)}</td>" in section
    assert "Devices that changed supplier (requested_by" in section
    if views.quota_days.num_rows:
        assert "the busiest day against each supplier quota</caption>" in section
