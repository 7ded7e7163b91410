"""A planning sweep (16 runs × 4,000 devices, 60 KB image) in one process and on a 2-worker LocalCluster, in
one benchmark group; the cluster is started once, outside the timing. ``althan-ota bench distributed``
prints the ratio."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")

from althan_ota.distributed import sweep  # noqa: E402

GRID = {"block_size": [40, 64], "bridge_per": [0.10, 0.25]}
ARGS = (GRID, 2_000, 60_000)
KW = {"replications": 4, "seed": 1}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        c.wait_for_workers(2)
        yield c


@pytest.mark.benchmark(group="distributed sweep 16 runs x 4,000 devices")
def test_single_process_one_engine_thread(benchmark):
    result = benchmark.pedantic(sweep, args=ARGS, kwargs={**KW, "client": "serial"}, rounds=2, iterations=1)
    assert result.points.num_rows == 4


@pytest.mark.benchmark(group="distributed sweep 16 runs x 4,000 devices")
def test_local_cluster_two_workers(benchmark, client):
    result = benchmark.pedantic(sweep, args=ARGS, kwargs={**KW, "client": client}, rounds=2, iterations=1)
    assert result.points.num_rows == 4
    assert result.points.equals(sweep(*ARGS, **KW, client="serial").points)
