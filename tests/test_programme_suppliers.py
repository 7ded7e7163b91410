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


def test_a_resume_on_a_fleet_where_devices_moved_to_another_supplier_is_refused_by_name(fleet, tmp_path):
    """Targets are re-derived from the fleet a run is given: a device of a committed wave that moved to a
    supplier the plan does not cover would reshuffle every wave. The run refuses it, naming the device, and
    resumes on the fleet it was planned on."""
    import pyarrow as pa

    from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
    from althan_ota.errors import CampaignError
    from althan_ota.fleet import Fleet

    names = sorted(set(fleet.column("supplier").tolist()))
    plan = plan_for(suppliers=tuple(names[:2]), pause_failure_rate=1.0, abort_failure_rate=1.0)
    with CampaignStore(tmp_path / "s.duckdb") as store:
        create_campaign(store, plan, fleet, str(tmp_path / "fleet.parquet"), seed=1, campaign_id="m")
        run_campaign(store, "m", fleet=fleet, max_waves=1)
        requested = set(store.table("devices", "m").filter(pa.compute.greater_equal(
            pa.compute.field("wave"), 0))["device_id"].to_pylist())
        device_ids = fleet.column("device_id")
        moved = sorted(requested)[0]
        supplier = [names[2] if d == moved else s for d, s in zip(device_ids.tolist(), fleet.column("supplier").tolist())]
        later = Fleet(table=fleet.table.set_column(fleet.table.schema.get_field_index("supplier"), "supplier",
                                                   pa.array(supplier, pa.string())), source="later")
        with pytest.raises(CampaignError, match=f"{moved}: its supplier is now '{names[2]}', which the plan does "
                                                "not cover.*Resume on the fleet file the campaign was planned on"):
            run_campaign(store, "m", fleet=later)
        assert len(store.committed_waves("m")) == 1                  # nothing was run on the other fleet
        assert run_campaign(store, "m", fleet=fleet).status == "finished"
        devices = store.table("devices", "m")
    assert devices.num_rows == len(set(devices["device_id"].to_pylist()))
    assert set(devices.filter(pa.compute.greater_equal(pa.compute.field("wave"), 0))["device_id"].to_pylist()) == \
        set(device_ids[target(plan, fleet).eligible].tolist())
