"""Frames built and parsed in C; layers travel as dicts of the C structs' fields (see _frames.pyx)."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from typing_extensions import Buffer

_Layer = dict[str, Any]
_Layers = tuple[_Layer, _Layer | None, _Layer | None, _Layer | None, _Layer | None]
_Parsed = tuple[int, dict[str, Any], _Layers, bytes, bytes]

SEC_NAMES: tuple[str, ...]

def build(mac: _Layer, nwk: _Layer | None, aps: _Layer | None, zcl: _Layer | None, ota: _Layer | None, data: Buffer,
          payload: Buffer, mac_key: Buffer | None, nwk_key: Buffer | None, aps_key: Buffer | None) -> bytes: ...
def parse(psdu: Buffer, check_fcs: bool, mac_key: Buffer | None, nwk_key: Buffer | None, aps_key: Buffer | None,
          mac_nonce_src: int | None, zigbee_level: int) -> _Parsed: ...
def parse_many(psdus: list[bytes], check_fcs: bool, mac_key: Buffer | None, nwk_key: Buffer | None,
               aps_key: Buffer | None, mac_nonce_src: int | None, zigbee_level: int) -> list[_Parsed]: ...
def build_image_block_responses(mac: _Layer, nwk: _Layer | None, aps: _Layer | None, zcl: _Layer | None,
                                ota: _Layer | None, data: NDArray[np.uint8], offsets: NDArray[np.uint32],
                                counters: NDArray[np.uint32], seqs: NDArray[np.uint8], mac_keys: ArrayLike | None,
                                nwk_keys: ArrayLike | None,
                                key_index: ArrayLike | None) -> tuple[NDArray[np.uint8], NDArray[np.uint16]]: ...
