"""Beyond one machine: sharded emulation and Monte-Carlo planning sweeps on Dask (``dask.distributed``).

Example::

    from althan_ota.distributed import emulate_distributed, sweep
    result = emulate_distributed(200_000, 240_000, seed=1)          # local cluster, one worker per core
    table = sweep({"block_size": [40, 50, 64]}, 20_000, replications=20,
                  client="tcp://scheduler:8786").points

Workers need ``pip install 'althan-ota[distributed]'`` (the same version as the client).
"""

from .histogram import CompletionHistogram
from .inventory_links import link_arrays
from .shard import emulate_distributed
from .run_summary import METRICS, RunSummary
from .sweep import SweepResult, sweep

__all__ = ["METRICS", "CompletionHistogram", "RunSummary", "SweepResult", "emulate_distributed", "link_arrays",
           "sweep"]
