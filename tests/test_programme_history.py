"""The monthly history: fleet report snapshots and proposed AHI updates per month, and what ``report history``
derives from them, checked on snapshots written here with known changes."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from althan_ota.cli import main
from althan_ota.errors import InventoryError, ParameterError
from althan_ota.fleet import HUB_SIDE, METER_SIDE, generate_fleet
from althan_ota.report.history import append_snapshot, history_views, month_of


def _fleet_rows(rows):
    names = ("device_id", "status", "firmware_version", "ppmid_variant", "installation_id", "supplier")
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


HUB, MTR = HUB_SIDE, METER_SIDE
JAN = [("D1", "Commissioned", "0x01020000", HUB, "I1", "A"), ("D2", "Commissioned", "0x01030000", MTR, "I1", "A"),
       ("D3", "Commissioned", "0x01020000", HUB, "I2", "B"), ("D4", "Commissioned", "0x01020000", MTR, "I2", "B"),
       ("D5", "Suspended", "0x01020000", HUB, None, "B")]
# February: D2 upgraded (I1 back in sync), D3 upgraded (I2 apart), D5 gone, D6 new, D4 moves supplier
FEB = [("D1", "Commissioned", "0x01030000", HUB, "I1", "A"), ("D2", "Commissioned", "0x01030000", MTR, "I1", "A"),
       ("D3", "Commissioned", "0x01040000", HUB, "I2", "B"), ("D4", "Commissioned", "0x01020000", MTR, "I2", "C"),
       ("D6", "Commissioned", "0x01020000", HUB, None, "C")]
# April (no March snapshot): D4 suspended and downgraded
APR = [("D1", "Commissioned", "0x01030000", HUB, "I1", "A"), ("D2", "Commissioned", "0x01030000", MTR, "I1", "A"),
       ("D3", "Commissioned", "0x01040000", HUB, "I2", "B"), ("D4", "Suspended", "0x01010000", MTR, "I2", "C"),
       ("D6", "Commissioned", "0x01020000", HUB, None, "C")]


def _updates(rows):
    names = ("device_id", "action", "reason", "firmware_version", "status", "supplier")
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


@pytest.fixture
def history(tmp_path):
    h = tmp_path / "history"
    for month, rows in (("2027-01", JAN), ("2027-02", FEB), ("2027-04", APR)):
        append_snapshot(h, "fleet", _fleet_rows(rows), month)
    up = ("update", "firmware", "0x01030000", "Commissioned", "A")
    append_snapshot(h, "ahi_updates", _updates([("D1", *up), ("D2", *up)]), "2027-02")
    append_snapshot(h, "ahi_updates", _updates([("D2", *up), ("D7", "add", "new", "0x01020000", "Commissioned",
                                                              "C")]), "2027-04")
    return h


def test_month_on_month_deltas(history):
    views = history_views(history)
    assert views.months == ["2027-01", "2027-02", "2027-04"]
    deltas = {r["month"]: r for r in views.deltas.to_pylist()}
    assert deltas["2027-01"]["added"] == deltas["2027-01"]["devices"] == 5
    feb = deltas["2027-02"]
    assert (feb["previous_month"], feb["devices"], feb["added"], feb["removed"], feb["upgraded"],
            feb["downgraded"], feb["status_changes"], feb["supplier_changes"]) == ("2027-01", 5, 1, 1, 2, 0, 0, 1)
    apr = deltas["2027-04"]
    assert (apr["previous_month"], apr["added"], apr["removed"], apr["upgraded"], apr["downgraded"],
            apr["status_changes"], apr["supplier_changes"]) == ("2027-02", 0, 0, 0, 1, 1, 0)


def test_how_long_each_pair_has_been_out_of_sync(history):
    rows = history_views(history).out_of_sync.to_pylist()
    # I1 was apart in January only; I2 apart since February (three calendar months to April)
    assert [(r["installation_id"], r["out_of_sync_since"], r["months_out_of_sync"]) for r in rows] == \
        [("I2", "2027-02", 3)]
    assert (rows[0]["hub_version"], rows[0]["meter_version"]) == ("0x01040000", "0x01010000")


def test_the_trail_of_proposed_ahi_updates(history):
    trail = {r["device_id"]: r for r in history_views(history).ahi_updates.to_pylist()}
    assert (trail["D1"]["outcome"], trail["D1"]["applied_by"]) == ("applied", "2027-04")
    assert (trail["D2"]["outcome"], trail["D2"]["first_proposed"]) == ("still proposed", "2027-02")
    assert trail["D7"]["outcome"] == "pending"


def test_a_month_is_replaced_not_doubled(history):
    append_snapshot(history, "fleet", _fleet_rows(APR[:2]), "2027-04")
    deltas = {r["month"]: r for r in history_views(history).deltas.to_pylist()}
    assert deltas["2027-04"]["devices"] == 2 and deltas["2027-04"]["removed"] == 3


def test_bad_histories_are_named(tmp_path, history):
    with pytest.raises(InventoryError, match="no monthly fleet snapshot"):
        history_views(tmp_path / "empty")
    with pytest.raises(ParameterError, match="YYYY-MM"):
        append_snapshot(history, "fleet", _fleet_rows(JAN), "2027-13")
    pq.write_table(pa.table({"device_id": ["D1"]}), history / "fleet" / "month=2027-02" / "data.parquet")
    with pytest.raises(InventoryError, match=r"month=2027-02.data\.parquet: .* lacks column\(s\) status"):
        history_views(history)
    (history / "fleet" / "month=2027-02" / "data.parquet").write_text("garbage")
    with pytest.raises(InventoryError, match=r"month=2027-02.data\.parquet: not a Parquet snapshot"):
        history_views(history)


def test_report_fleet_snapshots_feed_report_history(tmp_path, capsys):
    fleet = generate_fleet(300, seed=3)
    path = tmp_path / "fleet.parquet"
    fleet.write(path)
    history = tmp_path / "history"
    for day in ("2027-01-05", "2027-02-05"):
        assert main(["report", "fleet", "--fleet", str(path), "--extract-date", day, "--out",
                     str(tmp_path / f"{day}.csv"), "--snapshot", str(history)]) == 0
    capsys.readouterr()
    assert main(["report", "history", str(history), "--out", str(tmp_path / "h"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["months"], summary["first_month"], summary["latest_month"]) == (2, "2027-01", "2027-02")
    rows = list(csv.DictReader(open(tmp_path / "h" / "deltas.csv")))
    assert [int(r["added"]) for r in rows] == [int(rows[0]["devices"]), 0]
    assert int(rows[1]["upgraded"]) == int(rows[1]["removed"]) == 0
    assert month_of(dt.date(2027, 3, 9)) == "2027-03"


def test_the_history_agrees_with_the_plain_pyarrow_peer_of_the_bench(tmp_path, monkeypatch):
    """On the bench's snapshots (devices arriving, leaving, upgraded, suspended, moving supplier), the DuckDB
    history and the pyarrow peer (bench/programme.py) give the same deltas and out-of-sync pairs, so the bench
    times the same work. Small row groups: each brings its own Parquet dictionaries, which must agree."""
    from althan_ota.bench import programme
    from althan_ota.bench.programme import peer_history, write_history
    from althan_ota.report import Session

    monkeypatch.setattr(programme, "SNAPSHOT_ROW_GROUP", 1000)

    report = Session(generate_fleet(3000, seed=9).table).fleet_report()
    months = write_history(tmp_path, report, 5)
    assert pq.ParquetFile(tmp_path / "fleet" / f"month={months[-1]}" / "data.parquet").metadata.num_row_groups > 3
    views = history_views(tmp_path)
    deltas, apart = peer_history(tmp_path, months)
    assert views.deltas.drop_columns(["previous_month"]).to_pylist() == deltas
    assert all(r["added"] and r["removed"] and r["upgraded"] and r["status_changes"] and r["supplier_changes"]
               for r in deltas[1:])
    ours = views.out_of_sync.select(["installation_id", "supplier", "hub_device_id", "meter_device_id", "hub_version",
                                     "meter_version", "out_of_sync_since", "months_out_of_sync"])
    peer = apart.select(["installation_id", "supplier", "device_id_hub", "device_id_meter", "firmware_version_hub",
                         "firmware_version_meter", "since", "months_out_of_sync"])
    assert ours.num_rows > 100
    assert sorted(zip(*ours.to_pydict().values())) == sorted(zip(*peer.to_pydict().values()))
    assert {r["out_of_sync_since"] for r in ours.to_pylist()} != {months[0]}     # runs of several lengths


def test_device_ids_that_are_not_eui64_are_compared_as_text(tmp_path):
    """Snapshots whose IDs are EUI-64s in one month and other text in the next still join device to device
    (an EUI-64 written two ways is one device)."""
    h = tmp_path / "history"
    append_snapshot(h, "fleet", _fleet_rows([("00-1B-C5-00-00-00-00-01", *JAN[0][1:]), JAN[1]]), "2027-01")
    append_snapshot(h, "fleet", _fleet_rows([("001bc50000000001", *FEB[0][1:]), FEB[1]]), "2027-02")
    feb = history_views(h).deltas.to_pylist()[1]
    assert (feb["added"], feb["removed"], feb["upgraded"]) == (0, 0, 1)


def test_a_snapshot_column_that_is_not_text_is_named(tmp_path):
    h = tmp_path / "history"
    append_snapshot(h, "fleet", _fleet_rows(JAN), "2027-01")
    table = _fleet_rows(FEB)
    table = table.set_column(table.schema.get_field_index("firmware_version"), "firmware_version",
                             pa.array([0x01030000] * table.num_rows, pa.uint32()))
    (h / "fleet" / "month=2027-02").mkdir(parents=True)
    pq.write_table(table, h / "fleet" / "month=2027-02" / "data.parquet")
    with pytest.raises(InventoryError, match=r"month=2027-02.data\.parquet: column firmware_version of the fleet "
                                             r"snapshot is not text \(uint32\)"):
        history_views(h)
