"""Firmware versions survive a fleet file's round trip through CSV (issue 20, item 13).

A fleet file stores versions as canonical ``0x`` text, so a person re-exporting it with pyarrow or DuckDB
writes text that imports back to the same versions. Text that could be read two ways — eight decimal digits
without ``0x`` and without a leading zero, which is what a tool writes for a version it exported as a number —
is refused as ambiguous, never guessed; a typed integer column (Parquet) is taken as the integers it holds.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from althan_ota.errors import InventoryError
from althan_ota.fleet import generate_fleet, ids, read_fleet
from althan_ota.report.listing import read_listing


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("versions") / "fleet.parquet"
    fleet = generate_fleet(300, seed=5)
    fleet.write(path)
    return fleet, path


def test_fleet_file_stores_versions_as_canonical_text(fleet_file):
    fleet, path = fleet_file
    stored = pq.read_table(path)["firmware_version"]
    assert pa.types.is_string(stored.type)
    assert stored.to_pylist() == [f"0x{v:08X}" for v in fleet.column("firmware_version")]


@pytest.mark.parametrize("exporter", ["pyarrow", "duckdb"])
def test_versions_survive_a_csv_round_trip(fleet_file, tmp_path, exporter):
    fleet, path = fleet_file
    csv_path = tmp_path / "reexported.csv"
    if exporter == "pyarrow":
        pacsv.write_csv(pq.read_table(path), csv_path)
    else:
        duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{path}')) TO '{csv_path}' (HEADER)")
    again = read_fleet(csv_path)
    assert again.quarantine.num_rows == 0
    assert np.array_equal(again.column("firmware_version"), fleet.column("firmware_version"))
    assert 0x01020000 in set(fleet.column("firmware_version").tolist())   # the example is in there


def test_reports_read_the_new_fleet_file_quickly_and_correctly(fleet_file):
    from althan_ota.report import Session

    fleet, path = fleet_file
    report = Session(path).fleet_report()
    by_device = dict(zip(report["device_id"].to_pylist(), report["firmware_version"].to_pylist()))
    expected = dict(zip(fleet.table["device_id"].to_pylist(),
                        ids.format_firmware_version(fleet.column("firmware_version")).to_pylist()))
    assert len(by_device) > 250 and by_device == {d: expected[d] for d in by_device}


HEADER = "device_id,ppmid_variant,manufacturer,model,firmware_version,smi_status,join_mode,ch_id,supplier\n"


def _row(n: int, version: str) -> str:
    return f"00-DB-12-34-56-78-00-{n:02X},PPMID,Northbridge,NB-1,{version},Commissioned,PPMID,00-DB-12-00-00-00-00-01,Albion\n"


def test_a_bare_decimal_looking_version_is_refused_as_ambiguous(tmp_path):
    path = tmp_path / "versions.csv"
    path.write_text(HEADER + _row(1, "16908288") + _row(2, "01020000") + _row(3, "0102A0B3") + _row(4, "0x16908288")
                    + _row(5, " 16908288 ") + _row(6, "0X16908288"))
    fleet = read_fleet(path)
    assert dict(zip(fleet.table["source_line"].to_pylist(), fleet.column("firmware_version").tolist())) == {
        3: 0x01020000, 4: 0x0102A0B3, 5: 0x16908288, 7: 0x16908288}
    problems = {p["line"]: p for p in fleet.quarantine.to_pylist()}
    assert set(problems) == {2, 6}
    assert problems[2]["column"] == "firmware_version"
    assert "'16908288' is ambiguous" in problems[2]["reason"] and "0x01020000" in problems[2]["reason"]
    with pytest.raises(InventoryError, match=r"line 2, column firmware_version: ambiguous firmware version"):
        read_listing(path)


def test_integer_columns_are_taken_as_their_declared_type(tmp_path):
    path = tmp_path / "typed.parquet"
    table = pacsv.read_csv(pa.BufferReader((HEADER + _row(1, "0x01020000")).encode()),
                           convert_options=pacsv.ConvertOptions(column_types={"firmware_version": pa.string()}))
    table = table.set_column(table.schema.get_field_index("firmware_version"), "firmware_version",
                             pa.array([16908288], pa.uint32()))
    pq.write_table(table, path)
    assert read_fleet(path).column("firmware_version").tolist() == [0x01020000]
