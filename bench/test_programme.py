"""pytest-benchmark: the monthly history over 6 snapshots of a ~100k-device fleet report, althan-ota (DuckDB
over the Parquet dataset) against the same computation in plain pyarrow, in one benchmark group; both give
the same deltas and out-of-sync ages.

Run with ``python -m pytest bench/test_programme.py --benchmark-enable``.
"""

import pytest

from althan_ota.bench import programme as suite
from althan_ota.bench.report import fleet_table, ours_fleet_report


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    directory = tmp_path_factory.mktemp("history")
    months = suite.write_history(directory, ours_fleet_report(fleet_table(quick=True)), suite.QUICK_MONTHS)
    return directory, months


@pytest.mark.benchmark(group="programme: monthly history")
def test_history_althan(benchmark, history):
    directory, months = history
    views = benchmark(suite.ours_history, directory)
    deltas, pairs = suite.peer_history(directory, months)
    assert views.deltas.drop_columns(["previous_month"]).to_pylist() == deltas
    assert sorted(zip(views.out_of_sync["installation_id"].to_pylist(),
                      views.out_of_sync["out_of_sync_since"].to_pylist(),
                      views.out_of_sync["months_out_of_sync"].to_pylist())) == \
        sorted(zip(pairs["installation_id"].to_pylist(), pairs["since"].to_pylist(),
                   pairs["months_out_of_sync"].to_pylist()))


@pytest.mark.benchmark(group="programme: monthly history")
def test_history_peer(benchmark, history):
    directory, months = history
    deltas, pairs = benchmark(suite.peer_history, directory, months)
    assert len(deltas) == len(months) and pairs.num_rows > 0
