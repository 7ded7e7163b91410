"""Cutting an image into transfer blocks (with a CRC per block) and putting received blocks back together."""

from __future__ import annotations

import bisect
import hashlib
import hmac
from dataclasses import dataclass

import numpy as np

from ..checksum import crc_blocks
from ..errors import ImageFormatError, ParameterError

DEFAULT_CRC = "CRC-32/ISO-HDLC"


@dataclass(frozen=True, eq=False)   # numpy fields: compare identity, not element-wise
class Chunks:
    """Transfer blocks of ``data`` (a read-only view, never copied): block ``i`` is
    ``data[offsets[i]:offsets[i] + lengths[i]]`` and its CRC (``algorithm``) is ``crcs[i]``."""

    data: memoryview
    block_size: int
    algorithm: str
    offsets: np.ndarray   # int64
    lengths: np.ndarray   # int64
    crcs: np.ndarray      # uint32, or uint16 for the 16-bit CRCs

    def __len__(self) -> int:
        return len(self.offsets)

    def block(self, index: int) -> memoryview:
        start = int(self.offsets[index])
        return self.data[start:start + int(self.lengths[index])]

    def __iter__(self):
        for i in range(len(self)):
            yield int(self.offsets[i]), self.block(i)


def chunk(data, block_size: int, algorithm: str = DEFAULT_CRC) -> Chunks:
    """Split ``data`` into blocks of ``block_size`` bytes (the last one shorter) with one CRC per block,
    ``algorithm`` named as in ``checksum.CRC_ALGORITHMS``, all computed by the C kernel in one call."""
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size <= 0:
        raise ParameterError(f"block_size must be a positive integer, not {block_size!r}")
    try:
        view = memoryview(data).cast("B")
    except TypeError:
        raise ParameterError(f"chunk() needs a bytes-like object, not {type(data).__name__}") from None
    if not view.readonly:
        view = view.toreadonly()
    size = len(view)
    offsets = np.arange(0, size, block_size, dtype=np.int64)
    lengths = np.minimum(size - offsets, block_size)
    return Chunks(view, block_size, algorithm, offsets, lengths, crc_blocks(view, block_size, algorithm))


class Reassembly:
    """Collects the blocks of an image of ``total_size`` bytes, received in any order and possibly more than
    once. A block that overlaps already received bytes with different content is refused
    (ImageFormatError). :meth:`finish` returns the image once nothing is missing and checks
    ``expected_hash``: the SHA-256 of the whole image, or with ``hash_of="manufacturer_image"`` the
    Manufacturer Image Hash of the GB image (what the CPL and CS06 activation name)."""

    def __init__(self, total_size: int, expected_hash: bytes | None = None, hash_of: str = "image"):
        if isinstance(total_size, bool) or not isinstance(total_size, int) or total_size < 0:
            raise ParameterError(f"total_size must be a non-negative integer, not {total_size!r}")
        if hash_of not in ("image", "manufacturer_image"):
            raise ParameterError(f"hash_of must be 'image' or 'manufacturer_image', not {hash_of!r}")
        if expected_hash is not None and len(expected_hash) != 32:
            raise ParameterError(f"expected_hash must be a 32-byte SHA-256, not {len(expected_hash)} bytes")
        self.total_size = total_size
        self.expected_hash = None if expected_hash is None else bytes(expected_hash)
        self.hash_of = hash_of
        self._buffer = bytearray(total_size)
        # received ranges, disjoint, sorted, never touching: [start, end)
        self._starts: list[int] = []
        self._ends: list[int] = []

    @property
    def received(self) -> int:
        return sum(e - s for s, e in zip(self._starts, self._ends))

    @property
    def complete(self) -> bool:
        return self.received == self.total_size

    def missing(self) -> list[tuple[int, int]]:
        """The byte ranges [start, end) not received yet."""
        gaps, cursor = [], 0
        for start, end in zip(self._starts, self._ends):
            if start > cursor:
                gaps.append((cursor, start))
            cursor = end
        if cursor < self.total_size:
            gaps.append((cursor, self.total_size))
        return gaps

    def add(self, offset: int, data) -> int:
        """Store a block; return how many of its bytes were new (0 for a duplicate)."""
        block = memoryview(data).cast("B")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ParameterError(f"block offset must be a non-negative integer, not {offset!r}")
        end = offset + len(block)
        if end > self.total_size:
            raise ImageFormatError(
                f"block at offset {offset}: {len(block)} bytes run past the image size {self.total_size}")
        if not block:
            return 0
        # ranges that overlap or touch [offset, end)
        first = bisect.bisect_left(self._ends, offset)
        last = bisect.bisect_right(self._starts, end)
        fresh = len(block)
        for i in range(first, last):
            lo, hi = max(offset, self._starts[i]), min(end, self._ends[i])
            if lo < hi:
                if self._buffer[lo:hi] != block[lo - offset:hi - offset]:
                    bad = next(j for j in range(lo, hi) if self._buffer[j] != block[j - offset])
                    raise ImageFormatError(
                        f"block at offset {offset} conflicts with data already received: byte {bad} was "
                        f"0x{self._buffer[bad]:02X}, the block says 0x{block[bad - offset]:02X}")
                fresh -= hi - lo
        self._buffer[offset:end] = block
        if first < last:
            offset = min(offset, self._starts[first])
            end = max(end, self._ends[last - 1])
        self._starts[first:last] = [offset]
        self._ends[first:last] = [end]
        return fresh

    def finish(self) -> bytes:
        """The reassembled image, once complete and (if an expected hash was given) verified."""
        gaps = self.missing()
        if gaps:
            shown = ", ".join(f"{s}-{e}" for s, e in gaps[:5]) + (" ..." if len(gaps) > 5 else "")
            raise ImageFormatError(
                f"image incomplete: {self.total_size - self.received} of {self.total_size} bytes missing "
                f"in {len(gaps)} ranges ({shown})")
        data = bytes(self._buffer)
        if self.expected_hash is not None:
            if self.hash_of == "manufacturer_image":
                from ._parse import parse

                actual = parse(data, format="gbcs").manufacturer_image_hash
            else:
                actual = hashlib.sha256(data).digest()
            if not hmac.compare_digest(actual, self.expected_hash):
                raise ImageFormatError(
                    f"reassembled {self.hash_of.replace('_', ' ')} hash {actual.hex()} differs from the "
                    f"expected {self.expected_hash.hex()}")
        return data


def reassemble(total_size: int, expected_hash: bytes | None = None, hash_of: str = "image") -> Reassembly:
    """A :class:`Reassembly` for an image of ``total_size`` bytes."""
    return Reassembly(total_size, expected_hash, hash_of)
