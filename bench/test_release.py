"""Out-of-sync classification of 1M installations against a 60-pair compatibility table:
``release.classify_out_of_sync`` against a DuckDB join of Arrow tables and a Python set lookup, in one
benchmark group; and verifying a two-image release bundle (240 KB images, as real ones)."""

import numpy as np
import pyarrow as pa
import pytest

from althan_ota.bench.release import duckdb_classify, fleet_pairs
from althan_ota.release import Compatibility, classify_out_of_sync, verify_bundle
from althan_ota.testing.release_bundles import make_test_release

HUB, METER, PAIRS, _ = fleet_pairs(1_000_000)
COMPAT = Compatibility(PAIRS)
EXPECTED = np.array([(h, m) in set(PAIRS) for h, m in zip(HUB.tolist(), METER.tolist())])


@pytest.mark.benchmark(group="release-classify-1M-pairs")
def test_classify_out_of_sync(benchmark):
    assert np.array_equal(benchmark(classify_out_of_sync, COMPAT, HUB, METER), EXPECTED)


@pytest.mark.benchmark(group="release-classify-1M-pairs")
def test_peer_duckdb_join(benchmark):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    fleet = pa.table({"row": np.arange(len(HUB)), "hub": HUB, "meter": METER})
    assert np.array_equal(benchmark(duckdb_classify, con, fleet, COMPAT.to_arrow()), EXPECTED)


@pytest.mark.benchmark(group="release-classify-1M-pairs")
def test_peer_python_set(benchmark):
    listed = set(PAIRS)
    got = benchmark(lambda: [(h, m) in listed for h, m in zip(HUB.tolist(), METER.tolist())])
    assert got == EXPECTED.tolist()


@pytest.mark.benchmark(group="release-verify-2x240KB")
def test_verify_bundle(benchmark, tmp_path):
    release = make_test_release(tmp_path / "r.zip", image_size=240_000)
    got = benchmark(verify_bundle, release.path, "test", release.trusted_keys,
                    manufacturer_keys=release.manufacturer_keys)
    assert len(got.images) == 2
