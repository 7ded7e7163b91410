"""Campaigns scoped to energy suppliers: ``--supplier NAME`` (repeatable) keeps the devices of those suppliers."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from althan_ota.campaign import CampaignPlan, target
from althan_ota.cli import main
from althan_ota.errors import ParameterError
from althan_ota.fleet import generate_fleet

NEW = 0x01040000
OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)


@pytest.fixture(scope="module")
def fleet():
    return generate_fleet(600, seed=18)


def plan_for(**overrides) -> CampaignPlan:
    fields = dict(name="t", target_version=NEW, image_size=24_000, upgrade_paths=tuple((v, NEW) for v in OLD),
                  canary_installations=20, requests_per_day=2000)
    return CampaignPlan(**(fields | overrides))


def test_a_supplier_scope_keeps_exactly_that_suppliers_devices(fleet):
    supplier = fleet.column("supplier")
    names = sorted(set(supplier.tolist()))
    assert len(names) >= 2, "the synthetic fleet should have several suppliers"
    everyone = target(plan_for(), fleet)
    scoped = target(plan_for(suppliers=(names[0],)), fleet)
    assert np.array_equal(scoped.in_scope, everyone.in_scope & (supplier == names[0]))
    assert scoped.eligible.sum() < everyone.eligible.sum()
    both = target(plan_for(suppliers=tuple(names[:2])), fleet)
    assert np.array_equal(both.in_scope, everyone.in_scope & np.isin(supplier, names[:2]))


def test_a_supplier_scope_must_name_suppliers():
    with pytest.raises(ParameterError, match="suppliers"):
        plan_for(suppliers=())
    with pytest.raises(ParameterError, match="suppliers"):
        plan_for(suppliers=(" ",))


def test_the_command_line_scopes_a_run_to_the_suppliers_given(fleet, tmp_path, capsys):
    path = tmp_path / "fleet.parquet"
    fleet.write(path)
    names = sorted(set(fleet.column("supplier").tolist()))
    store = tmp_path / "s.duckdb"
    argv = ["campaign", "run", "--fleet", str(path), "--store", str(store), "--campaign-id", "x",
            "--target-version", "0x01040000", "--image-size", "24000", "--supplier", names[0],
            "--supplier", names[1], "--json"] + sum((["--upgrade-path", f"0x{v:08X}:0x01040000"] for v in OLD), [])
    assert main(argv) == 0
    capsys.readouterr()
    con = duckdb.connect(str(store), read_only=True)
    stored = CampaignPlan.from_json(con.execute("SELECT plan_json FROM campaigns").fetchall()[0][0])
    in_waves = {row[0] for row in con.execute("SELECT device_id FROM devices WHERE wave >= 0").fetchall()}
    con.close()
    assert stored.suppliers == tuple(names[:2])
    supplier_of = dict(zip(fleet.column("device_id").tolist(), fleet.column("supplier").tolist()))
    assert in_waves and {supplier_of[d] for d in in_waves} <= set(names[:2])


def _later_extract(fleet, changes):
    """``fleet`` with the given {column: {device_id: value}} changes, as a later extract of the same rows."""
    import pyarrow as pa

    from althan_ota.fleet import Fleet

    table = fleet.table
    for column, by_device in changes.items():
        values = [by_device.get(d, v) for d, v in zip(fleet.column("device_id").tolist(), table[column].to_pylist())]
        table = table.set_column(table.schema.get_field_index(column), column, pa.array(values, table[column].type))
    return Fleet(table=table, source="later")


def _waves_run(store, campaign_id):
    import pyarrow.compute as pc

    devices = store.table("devices", campaign_id)
    return set(devices.filter(pc.greater_equal(devices["wave"], 0))["device_id"].to_pylist())


def test_a_resume_on_a_fleet_where_devices_left_the_plans_scope_goes_on_without_them(fleet, tmp_path, capsys):
    """A resumed run plans its waves on the rows the campaign was planned with (kept in the store), so devices
    that left the plan's scope on a later extract reshuffle nothing. One of a wave already run keeps its
    outcome; one of a wave not run yet is withdrawn before it is requested (state withdrawn, reason
    supplier_changed: a pair's other side goes on alone, an installation with no side left leaves its wave);
    one still in scope but no longer eligible is recorded not eligible with its reason; every other device is
    run as planned. The programme view lists the withdrawn devices under their new supplier."""
    from althan_ota.campaign import CampaignStore, Reason, State, create_campaign, run_campaign
    from althan_ota.report.programme import programme_views

    names = sorted(set(fleet.column("supplier").tolist()))
    plan = plan_for(suppliers=tuple(names[:2]), pause_failure_rate=1.0, abort_failure_rate=1.0)
    fleet_path = tmp_path / "fleet.parquet"
    fleet.write(fleet_path)
    device_ids = fleet.column("device_id").tolist()
    eligible = set(np.asarray(device_ids, dtype=object)[target(plan, fleet).eligible].tolist())
    site_of = dict(zip(device_ids, fleet.column("installation_id").tolist()))
    with CampaignStore(tmp_path / "s.duckdb") as store:
        create_campaign(store, plan, fleet, str(fleet_path), seed=1, campaign_id="m")
        run_campaign(store, "m", fleet=fleet, max_waves=1)
        ran = _waves_run(store, "m")
        waiting = sorted(eligible - ran)
        pairs = {}
        for d in waiting:
            pairs.setdefault(site_of[d], []).append(d)
        both = next(ds for ds in pairs.values() if len(ds) == 2)          # a pair with both sides targeted
        alone = next(ds[0] for ds in pairs.values() if len(ds) == 2 and ds != both)   # one side of another
        suspended = next(d for d in waiting if d not in both and site_of[d] != site_of[alone])
        moved_ran = sorted(ran)[0]
        before = store.table("devices", "m").to_pylist()
        later = _later_extract(fleet, {"supplier": {d: names[2] for d in [moved_ran, alone, *both]},
                                       "smi_status": {suspended: "Suspended"}})
        assert run_campaign(store, "m", fleet=later).status == "finished"
        devices = store.table("devices", "m")
        ran_now = _waves_run(store, "m")
    assert devices.num_rows == len(set(devices["device_id"].to_pylist()))      # one row per device
    rows = {r["device_id"]: r for r in devices.to_pylist()}
    for d in (alone, *both):
        assert (rows[d]["state"], rows[d]["reason"], rows[d]["wave"]) == (State.WITHDRAWN, Reason.SUPPLIER_CHANGED, -1)
    assert (rows[suspended]["state"], rows[suspended]["reason"]) == (State.NOT_ELIGIBLE, Reason.SUSPENDED)
    assert rows[moved_ran] == next(r for r in before if r["device_id"] == moved_ran)   # its outcome stands
    assert ran_now == eligible - {alone, suspended, *both}                  # everything else ran as planned
    partner = next(d for d in pairs[site_of[alone]] if d != alone)
    assert rows[partner]["wave"] >= 0 and rows[partner]["attempts"] >= 1  # the pair's other side went alone

    views = programme_views([tmp_path / "s.duckdb"], later)
    withdrawn = views.withdrawn.to_pylist()
    assert {w["device_id"] for w in withdrawn} == {alone, *both}
    planned_supplier = dict(zip(device_ids, fleet.column("supplier").tolist()))
    assert {w["device_id"]: (w["planned_supplier"], w["supplier"], w["reason"]) for w in withdrawn} == \
        {d: (planned_supplier[d], names[2], "supplier_changed") for d in (alone, *both)}
    assert views.summary["withdrawn"] == 3
    assert {r["supplier"]: r["withdrawn"] for r in views.suppliers.to_pylist()}[names[2]] == 3

    import csv

    import pyarrow.parquet as pq

    pq.write_table(later.table, tmp_path / "later.parquet")
    out = tmp_path / "report"
    assert main(["report", "programme", str(tmp_path / "s.duckdb"), "--fleet", str(tmp_path / "later.parquet"),
                 "--out", str(out)]) == 0
    assert "3 device(s) withdrawn from a campaign after leaving its scope (withdrawn.csv)" in capsys.readouterr().out
    assert {r["device_id"] for r in csv.DictReader(open(out / "withdrawn.csv"))} == {alone, *both}

    page = tmp_path / "page.html"
    assert main(["report", "html", "--fleet", str(tmp_path / "later.parquet"), "--programme", str(tmp_path / "s.duckdb"),
                 "--out", str(page)]) == 0
    html = page.read_text()
    assert "withdrawn (left the plan&#x27;s scope)" in html or "withdrawn (left the plan's scope)" in html
    assert "Devices a resumed run withdrew" in html
    assert all(d in html for d in (alone, *both))


def test_a_resume_of_a_store_without_planned_targets_refuses_a_fleet_that_reshuffles_its_waves(fleet, tmp_path):
    """A store written before the planned targets were kept plans a resumed run's waves on the fleet given: a
    device of a committed wave that moved to a supplier the plan does not cover would reshuffle every wave, so
    the run refuses it, naming the device, and resumes on the fleet it was planned on."""
    import pyarrow as pa

    from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
    from althan_ota.errors import CampaignError

    names = sorted(set(fleet.column("supplier").tolist()))
    plan = plan_for(suppliers=tuple(names[:2]), pause_failure_rate=1.0, abort_failure_rate=1.0)
    path = tmp_path / "s.duckdb"
    with CampaignStore(path) as store:
        create_campaign(store, plan, fleet, str(tmp_path / "fleet.parquet"), seed=1, campaign_id="m")
        run_campaign(store, "m", fleet=fleet, max_waves=1)
        moved = sorted(_waves_run(store, "m"))[0]
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM planned_targets")
    con.close()
    later = _later_extract(fleet, {"supplier": {moved: names[2]}})
    with CampaignStore(path) as store:
        with pytest.raises(CampaignError, match=f"{moved}: its supplier is now '{names[2]}', which the plan does "
                                                "not cover.*Resume on the fleet file the campaign was planned on"):
            run_campaign(store, "m", fleet=later)
        assert len(store.committed_waves("m")) == 1                  # nothing was run on the other fleet
        assert run_campaign(store, "m", fleet=fleet).status == "finished"
        devices = store.table("devices", "m")
    assert devices.num_rows == len(set(devices["device_id"].to_pylist()))
    assert set(devices.filter(pa.compute.greater_equal(pa.compute.field("wave"), 0))["device_id"].to_pylist()) == \
        set(fleet.column("device_id")[target(plan, fleet).eligible].tolist())


def test_a_device_that_left_the_target_filter_is_withdrawn_and_an_abort_then_cancels_only_the_rest(fleet, tmp_path):
    """Leaving the plan's target filter (here its model) withdraws a device with reason left_targets; aborting
    the campaign afterwards cancels the devices not run yet but keeps the withdrawn one withdrawn: one row
    per device."""
    from althan_ota.campaign import CampaignStore, Reason, State, abort_campaign, create_campaign, run_campaign

    models = sorted(set(fleet.column("model").tolist()))
    plan = plan_for(models=tuple(models[:2]), canary_installations=5, wave_growth=2.0, max_wave_installations=10,
                    pause_failure_rate=1.0, abort_failure_rate=1.0)
    device_ids = fleet.column("device_id").tolist()
    eligible = set(np.asarray(device_ids, dtype=object)[target(plan, fleet).eligible].tolist())
    with CampaignStore(tmp_path / "s.duckdb") as store:
        create_campaign(store, plan, fleet, str(tmp_path / "fleet.parquet"), seed=2, campaign_id="f")
        run_campaign(store, "f", fleet=fleet, max_waves=1)
        left = sorted(eligible - _waves_run(store, "f"))[0]
        later = _later_extract(fleet, {"model": {left: models[-1]}})
        run_campaign(store, "f", fleet=later, max_waves=1)
        abort_campaign(store, "f", fleet=later)
        assert store.status("f") == "aborted"
        devices = store.table("devices", "f")
    assert devices.num_rows == len(set(devices["device_id"].to_pylist()))
    rows = {r["device_id"]: r for r in devices.to_pylist()}
    assert (rows[left]["state"], rows[left]["reason"]) == (State.WITHDRAWN, Reason.LEFT_TARGETS)
    cancelled = {d for d, r in rows.items() if r["state"] == State.CANCELLED}
    assert cancelled and left not in cancelled
    assert set(rows) >= eligible                                   # every device of the plan has its row
