"""The CRC family (see _crc.pyx)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import Buffer

CRC_ALGORITHMS: tuple[str, ...]
ALIASES: dict[str, tuple[str, ...]]

def models() -> list[dict[str, Any]]: ...
def crc(data: Buffer, algorithm: str, init: int | None = None) -> int: ...
def crc_blocks(data: Buffer, block_size: int, algorithm: str) -> NDArray[np.uint16] | NDArray[np.uint32]: ...
