"""SHA-256 (see _sha256.pyx)."""

import numpy as np
from numpy.typing import NDArray
from typing_extensions import Buffer

def sha256(data: Buffer) -> bytes: ...
def sha256_blocks(data: Buffer, block_size: int) -> NDArray[np.uint8]: ...
