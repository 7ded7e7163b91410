"""The campaign view "completion time by building size", against the store's tables read back in Python, in
the campaign report's CLI output and on the HTML page."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from althan_ota.campaign import CampaignPlan, CampaignStore, State, create_campaign, run_campaign
from althan_ota.campaign.outcomes import STATE_CATEGORY
from althan_ota.emulate import EmulationParams, OtaParams, OutageParams
from althan_ota.fleet import Fleet, generate_fleet
from althan_ota.report import Session
from althan_ota.report.building_sizes import BUILDING_SIZES, non_empty
from althan_ota.report.campaign_views import campaign_views
from althan_ota.report.html import render_html
from althan_ota.report.store_reader import open_store

OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)
NEW = 0x01040000
FAST = EmulationParams(ota=OtaParams(min_block_period_s=0.01), outages=OutageParams.none(),
                       wan_delay_median_s=60.0)
# installations per building, in fleet order; what is left has no building reference (each its own building)
SIZES = [260, 70, 35, 12, 5, 5, 3, 2, 1]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("estate")
    fleet = generate_fleet(500, seed=8)
    table = fleet.table.drop_columns([c for c in ("building_id",) if c in fleet.table.column_names])
    # every bridge on a version the plan upgrades, so that the buildings keep their sizes (bar CAD and status)
    version = table.schema.get_field_index("firmware_version")
    table = table.set_column(version, "firmware_version", pa.array([OLD[1]] * len(table), pa.uint32()))
    unit = [i or d for i, d in zip(table["installation_id"].to_pylist(), table["device_id"].to_pylist())]
    first_seen = list(dict.fromkeys(unit))
    building_of_unit, at = {}, 0
    for b, size in enumerate(SIZES):
        for u in first_seen[at:at + size]:
            building_of_unit[u] = f"BLD-{b}"
        at += size
    fleet = Fleet(table=table.append_column("building_id", pa.array([building_of_unit.get(u) for u in unit],
                                                                    pa.string())), source="estate")
    fleet_path = tmp / "fleet.parquet"
    fleet.write(fleet_path)
    plan = CampaignPlan(name="estate", target_version=NEW, image_size=30_000,
                        upgrade_paths=tuple((v, NEW) for v in OLD), canary_installations=50, wave_growth=4.0,
                        requests_per_day=20_000, building_concurrency=4)
    store_path = tmp / "store.duckdb"
    with CampaignStore(store_path) as store:
        create_campaign(store, plan, fleet, str(fleet_path), seed=2, emulation=FAST, campaign_id="E")
        run_campaign(store, "E", fleet=fleet)
    return fleet, fleet_path, store_path


def expected(fleet: Fleet, store_path) -> dict:
    """The view computed in plain Python from the stored devices and events."""
    building = dict(zip(fleet.table["device_id"].to_pylist(), fleet.table["building_id"].to_pylist()))
    with CampaignStore.for_reading(store_path) as store:
        devices = store.table("devices", "E").to_pylist()
        events = store.table("events", "E").to_pylist()
    first_request = {}
    for e in events:
        if e["state"] == State.REQUESTED:
            first_request[e["device_id"]] = min(e["t"], first_request.get(e["device_id"], np.inf))
    groups = defaultdict(list)
    for d in devices:
        if d["wave"] >= 0:
            groups[building[d["device_id"]] or d["installation_id"] or d["device_id"]].append(d)
    rows = {}
    for label, low, high in BUILDING_SIZES:
        times, n, failed, devices_in = [], 0, 0, 0
        for ds in groups.values():
            size = len({d["installation_id"] or d["device_id"] for d in ds})
            if size < low or (high is not None and size > high):
                continue
            n += 1
            devices_in += len(ds)
            failed += sum(STATE_CATEGORY[State(d["state"])] == "failed" for d in ds)
            if all(STATE_CATEGORY[State(d["state"])] != "in_progress" for d in ds):
                times.append(max(d["t"] for d in ds) - min(first_request[d["device_id"]] for d in ds))
        rows[label] = (n, devices_in, np.quantile(times, 0.5) if times else None,
                       np.quantile(times, 0.9) if times else None, max(times) if times else None,
                       failed / devices_in if devices_in else None)
    return rows


def test_completion_by_building_size_matches_the_store(estate):
    fleet, fleet_path, store_path = estate
    want = expected(fleet, store_path)
    assert want[">200"][0] == 1 and want["51-100"][0] == 1 and want["21-50"][0] == 1 and want["1"][0] > 10
    for source in (fleet, fleet_path, None):          # None: the fleet file the campaign was planned on
        got = campaign_views(open_store(store_path), "E", fleet=source).buildings
        assert got["building_size"].to_pylist() == [label for label, _, _ in BUILDING_SIZES]
        for row in got.to_pylist():
            n, devices, median, p90, most, share = want[row["building_size"]]
            assert (row["buildings"], row["devices"]) == (n, devices)
            for value, reference in ((row["median_s"], median), (row["p90_s"], p90), (row["max_s"], most),
                                     (row["failure_share"], share)):
                assert value == pytest.approx(reference) if reference is not None else value is None


def test_the_big_building_takes_longest_under_a_cap(estate):
    fleet, _, store_path = estate
    views = campaign_views(open_store(store_path), "E", fleet=fleet)
    rows = {r["building_size"]: r for r in views.buildings.to_pylist()}
    assert rows[">200"]["max_s"] > rows["1"]["p90_s"]


def test_report_cli_and_html_show_it(estate, tmp_path):
    fleet, fleet_path, store_path = estate
    out = subprocess.run([sys.executable, "-m", "althan_ota", "report", "campaign", "--store", str(store_path),
                          "--fleet", str(fleet_path), "--out", str(tmp_path / "rep")],
                         capture_output=True, text=True, check=True).stdout
    assert "completion by building size" in out and ">200: 1 buildings" in out
    assert (tmp_path / "rep" / "buildings.csv").is_file()
    page = render_html(Session(fleet_path, store=store_path), campaign_id="E")
    assert "Completion time by building size" in page and "Building completion time by building size" in page
    missing = subprocess.run([sys.executable, "-m", "althan_ota", "report", "campaign", "--store", str(store_path),
                              "--fleet", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "r2")],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "nope.parquet: no such file" in missing.stderr


def test_without_building_references_every_premises_is_its_own_building(estate):
    fleet, _, store_path = estate
    bare = Fleet(table=fleet.table.drop_columns(["building_id"]))
    rows = non_empty(campaign_views(open_store(store_path), "E", fleet=bare).buildings)
    assert rows["building_size"].to_pylist() == ["1"]


def test_a_fleet_file_is_read_inside_the_query_with_the_same_result(estate, tmp_path):
    """A Parquet fleet file's building references are read by DuckDB in the completion query; a file
    without them makes every premises its own building, one without device IDs is refused."""
    import pyarrow.parquet as pq

    from althan_ota.errors import InventoryError
    from althan_ota.report.building_sizes import device_buildings

    fleet, fleet_path, store_path = estate
    from_file = device_buildings(fleet_path).sort_by("device_id")
    from_table = device_buildings(fleet).sort_by("device_id")
    assert from_file.equals(from_table) and from_file.num_rows == len(fleet)
    bare = tmp_path / "bare.parquet"
    pq.write_table(fleet.table.drop_columns(["building_id"]), bare)
    assert device_buildings(bare).num_rows == 0
    assert non_empty(campaign_views(open_store(store_path), "E", fleet=bare).buildings)["building_size"].to_pylist() \
        == ["1"]
    no_ids = tmp_path / "no-ids.parquet"
    pq.write_table(fleet.table.select(["building_id"]), no_ids)
    with pytest.raises(InventoryError, match="no device_id column"):
        campaign_views(open_store(store_path), "E", fleet=no_ids)
