"""The emulator's byte pass (see _emu_bytes.pyx)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import Buffer, disjoint_base

from ._emu import Control

TIMING_COLUMNS: dict[str, str]
UNIT_COLUMNS: dict[str, str]
OUTPUT_COLUMNS: dict[str, str]
DEF_STRIDE: int

def device_key(seed: int, installation: int, side: int) -> bytes: ...

@disjoint_base
class Pass(Control):
    @property
    def n(self) -> int: ...
    def __init__(self, image: Buffer, block_size: int, expected_hash: Buffer, seed: int, corrupt_image_prob: float,
                 corrupt_bytes: int, ber: float, lost_first: NDArray[np.uint64], lost_runs: NDArray[np.uint32],
                 timing: dict[str, NDArray[Any]],
                 out: dict[str, NDArray[Any]], identity: tuple[int, int, int]) -> None: ...
    def execute(self, n_threads: int) -> None: ...
    def device_frames(self, row: int, first: int, count: int,
                      offsets: bool = False) -> tuple[Any, ...]: ...
