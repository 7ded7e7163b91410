"""Getting a Dask client: one given, a scheduler address, or a local cluster sized to this machine."""

from __future__ import annotations

import os
from contextlib import contextmanager

from ..errors import ParameterError

INSTALL_HINT = "pip install 'althan-ota[distributed]'"


def require_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ParameterError(f"Dask is not installed ({exc}); {INSTALL_HINT}") from exc
    return distributed


def machine_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def connect(client=None, n_workers: int | None = None):
    """Yields a ``distributed.Client``.

    ``client`` is a Client (used as is, left open), a scheduler address such as ``"tcp://host:8786"``
    (connected, closed afterwards), or None: a LocalCluster of ``n_workers`` worker processes (default: one
    per core) with one thread each, started here and shut down afterwards. Its HTTP server (and the dashboard,
    if bokeh is installed) takes a free port, so several can run side by side: ``client.dashboard_link``.
    """
    distributed = require_distributed()
    if isinstance(client, distributed.Client):
        if n_workers is not None:
            raise ParameterError("n_workers sizes a local cluster; it cannot resize a given client")
        yield client
        return
    if isinstance(client, str):
        if n_workers is not None:
            raise ParameterError("n_workers sizes a local cluster; it cannot resize a remote scheduler")
        try:
            remote = distributed.Client(client, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(f"cannot reach the Dask scheduler at {client!r}: {exc}") from exc
        with remote:
            yield remote
        return
    if client is not None:
        raise ParameterError(f"client must be None, a distributed.Client or a scheduler address such as "
                             f"'tcp://host:8786', got {type(client).__name__}")
    workers = machine_cores() if n_workers is None else n_workers
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 1024:
        raise ParameterError(f"n_workers must be an integer in [1, 1024], got {workers!r}")
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as local:
        yield local


def worker_threads(client) -> int:
    """Task slots across the cluster's workers (at least 1, even before any worker has joined)."""
    return max(1, sum(client.nthreads().values()))


def task_token(*args) -> str:
    """A hash of a job's inputs for its task keys: jobs sharing a cluster never mix their tasks."""
    from dask.base import tokenize

    return tokenize(*args)
