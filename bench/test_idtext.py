"""pytest-benchmark: identifiers of a 100,000-row listing parsed and formatted by althan_ota.fleet.ids on every
idtext tier against DuckDB SQL over the same Arrow column (regexp_full_match + hex cast), in one group per
kernel; each test also checks that ours and the peer agree.

Run with ``python -m pytest bench/test_idtext.py --benchmark-enable``.
"""

import numpy as np
import pytest

from althan_ota.bench import idtext as suite

ROWS = suite.QUICK_ROWS


@pytest.fixture(scope="module")
def con():
    connection = suite._duckdb()
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def listings():
    return {"eui64": suite.eui64_listing(ROWS), "version": suite.version_listing(ROWS),
            "mpan": suite.mpan_listing(ROWS), "values": suite.eui64_values(ROWS)}


def same(ours, peer):
    return all(np.array_equal(a, b) for a, b in zip(ours, peer))


@pytest.mark.benchmark(group="idtext: parse EUI-64, 100k")
def test_eui64_althan(benchmark, listings, con, idtext_tier):
    values, valid = benchmark(suite.ours_eui64, listings["eui64"])
    assert valid.all() and same((values, valid), suite.peer_eui64(con, listings["eui64"]))


@pytest.mark.benchmark(group="idtext: parse EUI-64, 100k")
def test_eui64_duckdb(benchmark, listings, con):
    assert benchmark(suite.peer_eui64, con, listings["eui64"])[1].all()


@pytest.mark.benchmark(group="idtext: parse firmware version, 100k")
def test_version_althan(benchmark, listings, con, idtext_tier):
    values, valid = benchmark(suite.ours_version, listings["version"])
    assert valid.all() and same((values, valid), suite.peer_version(con, listings["version"]))


@pytest.mark.benchmark(group="idtext: parse firmware version, 100k")
def test_version_duckdb(benchmark, listings, con):
    assert benchmark(suite.peer_version, con, listings["version"])[1].all()


@pytest.mark.benchmark(group="idtext: validate MPAN core, 100k")
def test_mpan_althan(benchmark, listings, con, idtext_tier):
    cores, _, valid = benchmark(suite.ours_mpan, listings["mpan"])
    peer_values, peer_valid = suite.peer_mpan(con, listings["mpan"])
    assert valid.all() and peer_valid.all()
    assert np.array_equal(np.array(cores.to_pylist(), dtype=np.uint64), peer_values)


@pytest.mark.benchmark(group="idtext: validate MPAN core, 100k")
def test_mpan_duckdb(benchmark, listings, con):
    assert benchmark(suite.peer_mpan, con, listings["mpan"])[1].all()


@pytest.mark.benchmark(group="idtext: format EUI-64, 100k")
def test_format_eui64_althan(benchmark, listings, con, idtext_tier):
    text = benchmark(suite.ours_format_eui64, listings["values"])
    assert text.to_pylist() == suite.peer_format_eui64(con, listings["values"]).to_pylist()


@pytest.mark.benchmark(group="idtext: format EUI-64, 100k")
def test_format_eui64_duckdb(benchmark, listings, con):
    assert len(benchmark(suite.peer_format_eui64, con, listings["values"])) == ROWS
