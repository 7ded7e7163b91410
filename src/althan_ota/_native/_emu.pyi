"""The fleet emulator's timing engine (see _emu.pyx)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import disjoint_base

OUTCOMES: tuple[str, ...]
ORDERS: dict[str, int]
SHARED_ACCESS: dict[str, int]
CONTENTION_MODELS: dict[str, int]
KINDS: tuple[str, ...]
LINKS: tuple[str, ...]
DEVICE_COLUMNS: dict[str, str]
INSTALLATION_COLUMNS: dict[str, str]
RECORD_DTYPE: np.dtype[np.void]

def philox_words(seed: int, installation: int, stream: int, first_block: int, n: int) -> NDArray[np.uint64]: ...

@disjoint_base
class Control:
    def done(self) -> int: ...
    def stop(self) -> None: ...

@disjoint_base
class Run(Control):
    @property
    def n(self) -> int: ...
    @property
    def first(self) -> int: ...
    def __init__(self, cfg: dict[str, Any], first: int, n: int, han_per: NDArray[np.float64] | None,
                 bridge_per: NDArray[np.float64] | None, out: dict[str, NDArray[Any]],
                 keys: NDArray[np.uint64] | None = None, sides: NDArray[np.uint8] | None = None) -> None: ...
    def set_buildings(self, shared: dict[str, Any], order: NDArray[np.uint64], group_start: NDArray[np.uint64],
                      han_channel: NDArray[np.uint32], bridge_channel: NDArray[np.uint32],
                      unit_start: NDArray[np.int64] | None = None, held_until: NDArray[np.int64] | None = None,
                      held_start: NDArray[np.uint64] | None = None) -> None: ...
    def contention_table(self, max_installations: int, n_threads: int) -> dict[str, dict[str, NDArray[Any]]]: ...
    def set_trace(self, records: NDArray[np.void], first: NDArray[np.uint64], capacity: NDArray[np.uint64],
                  count: NDArray[np.uint64]) -> None: ...
    def record_lost(self) -> None: ...
    def lost_runs(self) -> tuple[NDArray[np.uint64], NDArray[np.uint32]]: ...
    def execute(self, n_threads: int) -> None: ...
