"""Work-lists per supplier: the devices of the out-of-sync report (the side still behind) and of the
reconciliation, each with the reason and next action those reports give, one file per supplier."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from althan_ota.cli import main
from althan_ota.fleet import generate_fleet
from althan_ota.report import Session
from althan_ota.report.firmware import supplier_file_stem
from althan_ota.report.reconcile import reconcile
from althan_ota.report.work_lists import work_lists

OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    directory = tmp_path_factory.mktemp("work")
    fleet = generate_fleet(700, seed=21)
    fleet_path = directory / "fleet.parquet"
    fleet.write(fleet_path)
    store = directory / "s.duckdb"
    assert main(["campaign", "run", "--fleet", str(fleet_path), "--store", str(store), "--campaign-id", "c",
                 "--target-version", "0x01040000", "--image-size", "24000", "--json",
                 *sum((["--upgrade-path", f"0x{v:08X}:0x01040000"] for v in OLD), [])]) == 0
    dcc = directory / "dcc.parquet"
    assert main(["report", "fleet", "--fleet", str(fleet_path), "--store", str(store), "--out", str(dcc)]) == 0
    report = pq.read_table(dcc)
    # the AHI lacks the first device and holds an old version for the second
    ahi = report.slice(1)
    versions = ahi["firmware_version"].to_pylist()
    versions[0] = "0x00000001"
    ahi = ahi.set_column(ahi.schema.get_field_index("firmware_version"), "firmware_version", pa.array(versions))
    ahi_path = directory / "ahi.parquet"
    pq.write_table(ahi, ahi_path)
    return {"dir": directory, "fleet": fleet_path, "store": store, "dcc": dcc, "ahi": ahi_path, "report": report}


def test_out_of_sync_pairs_list_the_side_still_behind_with_the_reports_cause_and_action(setup):
    session = Session(setup["fleet"], store=setup["store"])
    pairs = session.out_of_sync()
    assert pairs.num_rows > 0
    table = work_lists(pairs)
    expected = set()
    for p in pairs.to_pylist():
        sides = {"hub-side": ["hub_device_id"], "meter-side": ["meter_device_id"]}.get(
            p["side"], ["hub_device_id", "meter_device_id"])
        for side in sides:
            expected.add((p["supplier"], p[side], p["installation_id"], "out-of-sync", p["cause"], p["next_action"]))
    got = {tuple(r.values()) for r in table.to_pylist()}
    assert got == expected


def test_reconciliation_findings_carry_the_proposed_ahi_update(setup):
    session = Session(setup["fleet"], store=setup["store"])
    result = reconcile(setup["dcc"], setup["ahi"])
    table = work_lists(session.out_of_sync(), result)
    rows = {r["device_id"]: r for r in table.to_pylist() if r["source"] == "reconciliation"}
    first, second = setup["report"]["device_id"][0].as_py(), setup["report"]["device_id"][1].as_py()
    assert set(rows) == {first, second}
    assert rows[first]["reason"] == "missing; missing from ahi"
    assert rows[first]["next_action"] == "add to the AHI: in the DCC report, not in the AHI"
    assert rows[second]["reason"] == "version_mismatch"
    assert rows[second]["next_action"].startswith("update the AHI: firmware 0x00000001 -> ")
    assert rows[first]["supplier"] == setup["report"]["supplier"][0].as_py()


def test_the_command_writes_one_file_per_supplier(setup, capsys):
    out = setup["dir"] / "lists"
    assert main(["report", "work-lists", "--fleet", str(setup["fleet"]), "--store", str(setup["store"]),
                 "--ahi", str(setup["ahi"]), "--out", str(out)]) == 0
    capsys.readouterr()
    written = {}
    for path in out.glob("*.csv"):
        rows = list(csv.DictReader(open(path)))
        assert rows and {supplier_file_stem(r["supplier"]) for r in rows} == {path.stem}
        written[path.stem] = len(rows)
    session = Session(setup["fleet"], store=setup["store"])
    table = work_lists(session.out_of_sync(), reconcile(session.fleet_report(), setup["ahi"]))
    counts = pc.value_counts(table["supplier"]).to_pylist()
    assert written == {supplier_file_stem(c["values"]): c["counts"] for c in counts}
