"""pytest-benchmark: the reports over a ~100k-device synthetic fleet, althan-ota (DuckDB over Arrow) against
the same computation in pandas (or plain pyarrow without pandas), each pair in one benchmark group.

Run with ``python -m pytest bench/test_report.py --benchmark-enable``.
"""

import pytest

from althan_ota.bench import report as suite


@pytest.fixture(scope="module")
def fleet():
    return suite.fleet_table(quick=True)


@pytest.fixture(scope="module")
def report_and_ahi(fleet):
    report = suite.ours_fleet_report(fleet)
    return report, suite.perturbed_ahi(report)


@pytest.mark.benchmark(group="report: fleet firmware report")
def test_fleet_report_althan(benchmark, fleet):
    report = benchmark(suite.ours_fleet_report, fleet)
    assert report.num_rows == len(suite.peer_fleet_report(fleet))


@pytest.mark.benchmark(group="report: fleet firmware report")
def test_fleet_report_peer(benchmark, fleet):
    benchmark.extra_info["peer"] = suite.peer_name()
    assert len(benchmark(suite.peer_fleet_report, fleet)) > 0


@pytest.mark.benchmark(group="report: out-of-sync pairs")
def test_out_of_sync_althan(benchmark, fleet):
    pairs = benchmark(suite.ours_out_of_sync, fleet)
    assert pairs.num_rows == len(suite.peer_out_of_sync(fleet)) > 0


@pytest.mark.benchmark(group="report: out-of-sync pairs")
def test_out_of_sync_peer(benchmark, fleet):
    benchmark.extra_info["peer"] = suite.peer_name()
    assert len(benchmark(suite.peer_out_of_sync, fleet)) > 0


@pytest.mark.benchmark(group="report: reconcile with an AHI")
def test_reconcile_althan(benchmark, report_and_ahi):
    result = benchmark(suite.ours_reconcile, *report_and_ahi)
    assert result.summary()["class"]["missing"] > 0 and result.summary()["class"]["version_mismatch"] > 0


@pytest.mark.benchmark(group="report: reconcile with an AHI")
def test_reconcile_peer(benchmark, report_and_ahi):
    benchmark.extra_info["peer"] = suite.peer_name()
    assert len(benchmark(suite.peer_reconcile, *report_and_ahi)) >= report_and_ahi[0].num_rows
