"""The fleet report written straight from DuckDB and the HTML page's fleet overview aggregated in DuckDB
give what the materialised Arrow report gives."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from althan_ota.cli import main
from althan_ota.report import Session
from althan_ota.report.export import write_table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("streaming") / "demo"
    assert main(["demo", "--installations", "600", "--out", str(out), "--json"]) == 0
    return out


@pytest.mark.parametrize("with_store", [True, False])
@pytest.mark.parametrize("suffix", ["csv", "parquet", "json"])
def test_streamed_fleet_report_matches_the_table(demo, tmp_path, with_store, suffix):
    store = demo / "campaigns.duckdb" if with_store else None
    streamed = Session(demo / "fleet.parquet", store=store).write_fleet_report(tmp_path / f"streamed.{suffix}")
    table = Session(demo / "fleet.parquet", store=store).fleet_report()
    assert table.num_rows > 0
    if with_store:
        assert pc.sum(pc.is_valid(table["last_confirmed"])).as_py() > 0
    materialised = write_table(table, tmp_path / f"materialised.{suffix}")
    if suffix == "parquet":
        import pyarrow.parquet as pq

        # the same values; DuckDB marks the columns its query knows to be non-null as required
        expected = pq.read_table(materialised)
        assert pq.read_table(streamed).cast(expected.schema).equals(expected)
    else:
        assert streamed.read_bytes() == materialised.read_bytes()


def test_fleet_overview_matches_the_table(demo):
    session = Session(demo / "fleet.parquet", store=demo / "campaigns.duckdb")
    report = session.fleet_report()
    overview = session.fleet_overview()
    cards = dict(overview["cards"])
    assert cards["Alt HAN bridges"] == report.num_rows
    assert cards["installations"] == pc.count_distinct(report["installation_id"]).as_py()
    assert cards["commissioned"] == pc.sum(pc.equal(report["status"], "Commissioned")).as_py()
    assert cards["joined as CAD"] == (pc.sum(pc.equal(report["join_mode"], "CAD")).as_py() or 0)
    assert cards["confirmed by a campaign"] == pc.sum(pc.starts_with(pc.fill_null(report["confirmed_by"], ""),
                                                                     "campaign")).as_py()
    for name, keys in (("by_version", ["model", "firmware_version"]), ("by_supplier", ["supplier", "manufacturer"])):
        expected = report.group_by(keys).aggregate([("device_id", "count")]).rename_columns(keys + ["devices"]) \
            .sort_by([("devices", "descending")] + [(k, "ascending") for k in keys])
        assert overview[name].to_pylist() == expected.to_pylist()
        assert overview[name].num_rows > 1


def test_a_session_bounds_duckdb_memory_and_spills_to_its_own_folder(demo, tmp_path):
    import tempfile
    from pathlib import Path

    unbounded = Session(demo / "fleet.parquet", store=demo / "campaigns.duckdb", memory_limit="8GB")
    tight = Session(demo / "fleet.parquet", store=demo / "campaigns.duckdb", memory_limit="24MB")
    limit, spill = tight.con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]
    assert limit.replace(" ", "") in ("22.8MiB", "24.0MB", "22.8MB")
    # not DuckDB's default ".tmp" in whatever folder the command runs from
    assert Path(spill).parent == Path(tempfile.gettempdir())
    assert unbounded.con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] != spill
    expected = unbounded.write_fleet_report(tmp_path / "unbounded.csv").read_bytes()
    assert tight.write_fleet_report(tmp_path / "tight.csv").read_bytes() == expected
    tight.con.close()
    assert not Path(spill).exists()


def test_the_fleet_report_is_in_the_device_id_text_order(demo):
    # sorted by the IDs' 64-bit values, which must give the order of their text (prefixes 00-, 70-, hex
    # letters in every position)
    for store in (None, demo / "campaigns.duckdb"):
        ids = Session(demo / "fleet.parquet", store=store).fleet_report()["device_id"].to_pylist()
        assert len(ids) > 100 and len({i[:2] for i in ids}) > 1
        assert ids == sorted(ids)


def test_out_of_sync_under_a_memory_cap_matches_the_unbounded_run(demo):
    unbounded = Session(demo / "fleet.parquet", store=demo / "campaigns.duckdb", memory_limit="8GB")
    tight = Session(demo / "fleet.parquet", store=demo / "campaigns.duckdb", memory_limit="64MB")
    expected = unbounded.out_of_sync()
    assert expected.num_rows > 0
    assert tight.out_of_sync().equals(expected)
    bare = Session(demo / "fleet.parquet", memory_limit="64MB").out_of_sync()
    assert bare.equals(Session(demo / "fleet.parquet", memory_limit="8GB").out_of_sync())


@pytest.mark.parametrize("limit", ["lots", "-1GB", ""])
def test_a_memory_limit_that_is_not_a_size_is_refused_by_name(demo, limit):
    from althan_ota.errors import ParameterError

    with pytest.raises(ParameterError, match="memory limit"):
        Session(demo / "fleet.parquet", memory_limit=limit)
