"""The shared-channel event loop (see _emu_channel.pyx)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

ACCESS: dict[str, int]
COUNTS: tuple[str, ...]

def run_channel(cfg: dict[str, Any], power_db: NDArray[np.float64] | None, station_airtime: NDArray[np.int64],
                access_delays: NDArray[np.int64]) -> tuple[dict[str, int], int]: ...
