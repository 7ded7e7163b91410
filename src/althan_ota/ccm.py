"""AES-128 CCM* frame protection for ZigBee NWK/APS and IEEE 802.15.4 MAC frames.

CCM as NIST SP 800-38C / RFC 3610 define it for 128-bit keys (nonce 7 to 13 bytes, MIC 4 to 16 bytes, even),
plus the encryption-only CCM* mode (``mic_len=0``: CTR from counter 1, no MIC) of ZigBee and IEEE 802.15.4.
Runs on the "aes" kernel family's CPU tier (see ``althan_ota.backend()``).

Single frames: :func:`encrypt` / :func:`decrypt`. Many frames: :func:`encrypt_batch` /
:func:`decrypt_batch` over numpy arrays, in C under one GIL release, with several frames' AES streams
interleaved. Frames of one length are a 2-D ``uint8`` array ``(n, length)``; frames of mixed lengths are a
``(buffer, offsets)`` pair: one packed ``uint8`` buffer and ``n + 1`` non-decreasing int64 offsets, frame
``i`` being ``buffer[offsets[i]:offsets[i + 1]]``. Results come back in the same form.

EUI-64 addresses are accepted as an ``int`` (the address value, e.g. ``0xACDE480000000001``) or as 8 bytes
written most-significant byte first, as the address is printed (``bytes.fromhex("ACDE480000000001")``); the
nonce helpers put them on the air in their protocol's byte order.
"""

from __future__ import annotations

import numpy as np

from . import _backend
from .errors import InvalidTag, ParameterError

__all__ = ["encrypt", "decrypt", "encrypt_batch", "decrypt_batch", "zigbee_nonce", "ieee802154_nonce",
           "ReplayWindow", "InvalidTag"]

MIC_LENGTHS = (0, 4, 6, 8, 10, 12, 14, 16)


_native = None   # the "aes" kernel module, looked up once: single-frame calls are short


def _aes():
    global _native
    if _native is None:
        _native = _backend.native("aes")
    return _native


def encrypt(key, nonce, plaintext, aad=b"", mic_len: int = 8) -> bytes:
    """Ciphertext followed by the ``mic_len``-byte MIC."""
    return (_native or _aes()).ccm_encrypt(key, nonce, plaintext, aad, mic_len)


def decrypt(key, nonce, data, aad=b"", mic_len: int = 8) -> bytes:
    """The plaintext of ``data`` (ciphertext followed by the MIC); raises :class:`InvalidTag` when the MIC
    does not verify (compared in constant time)."""
    return (_native or _aes()).ccm_decrypt(key, nonce, data, aad, mic_len)


# --- nonces ---------------------------------------------------------------------------------------------

def _eui64(address) -> int:
    if isinstance(address, (int, np.integer)) and not isinstance(address, bool):
        value = int(address)
        if not 0 <= value < 1 << 64:
            raise ParameterError(f"an EUI-64 is a 64-bit unsigned value, got {value:#x}")
        return value
    raw = bytes(address)
    if len(raw) != 8:
        raise ParameterError(f"an EUI-64 is 8 bytes, got {len(raw)}")
    return int.from_bytes(raw, "big")


def _uint(value, bits: int, what: str) -> int:
    value = int(value)
    if not 0 <= value < 1 << bits:
        raise ParameterError(f"{what} is a {bits}-bit unsigned value, got {value}")
    return value


def zigbee_nonce(source_eui64, frame_counter: int, security_control: int) -> bytes:
    """ZigBee NWK/APS CCM* nonce (spec 05-3474 4.5.2.2): source address and frame counter little-endian,
    then the security control byte (13 bytes)."""
    return (_eui64(source_eui64).to_bytes(8, "little")
            + _uint(frame_counter, 32, "a frame counter").to_bytes(4, "little")
            + bytes([_uint(security_control, 8, "the security control field")]))


def ieee802154_nonce(source_eui64, frame_counter: int, security_level: int) -> bytes:
    """IEEE 802.15.4 MAC CCM* nonce (802.15.4-2006 7.6.3.2): source address and frame counter
    most-significant byte first, then the security level (13 bytes)."""
    return (_eui64(source_eui64).to_bytes(8, "big")
            + _uint(frame_counter, 32, "a frame counter").to_bytes(4, "big")
            + bytes([_uint(security_level, 3, "the security level")]))


# --- batches --------------------------------------------------------------------------------------------

def _u8(a, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype != np.uint8:
        raise ParameterError(f"{what} must be a uint8 array, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr)


class _Frames:
    """n byte strings, fixed (2-D array) or ragged (buffer, offsets)."""

    def __init__(self, value, n: int | None, what: str):
        if isinstance(value, tuple):
            if len(value) != 2:
                raise ParameterError(f"ragged {what} are a (buffer, offsets) pair")
            self.data = _u8(value[0], f"the {what} buffer").reshape(-1)
            offsets = np.asarray(value[1])
            if offsets.ndim != 1 or not np.issubdtype(offsets.dtype, np.integer):
                raise ParameterError(f"{what} offsets must be a 1-D integer array")
            self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
            self.n = len(self.offsets) - 1
            if self.n < 0:
                raise ParameterError(f"{what} offsets need n + 1 entries, got none")
            if self.offsets[0] < 0 or self.offsets[-1] > len(self.data) or np.any(np.diff(self.offsets) < 0):
                raise ParameterError(f"{what} offsets must be non-decreasing and within the buffer "
                                     f"(0..{len(self.data)})")
            self.stride = 0
            self.lengths = np.diff(self.offsets)
        else:
            arr = _u8(value, what)
            if arr.ndim != 2:
                raise ParameterError(f"{what} of one length are a 2-D (n, length) uint8 array, got "
                                     f"{arr.ndim} dimension(s); pass (buffer, offsets) for mixed lengths")
            self.data = arr.reshape(-1)
            self.offsets = None
            self.n, self.stride = arr.shape
            self.lengths = None
        if n is not None and self.n != n:
            raise ParameterError(f"{what}: {self.n} frames, but there are {n} nonces")

    @property
    def ragged(self) -> bool:
        return self.offsets is not None


def _keys(keys, key_index, n: int):
    k = _u8(keys, "keys")
    if k.ndim == 1:
        if k.shape != (16,):
            raise ParameterError(f"one key is 16 bytes, got {k.shape[0]}")
        if key_index is not None:
            raise ParameterError("key_index needs a (k, 16) key table")
        return k, 1, None
    if k.ndim != 2 or k.shape[1] != 16:
        raise ParameterError(f"keys are (16,) one key, or (k, 16) a key table or a key per frame; got {k.shape}")
    if key_index is None:
        if k.shape[0] != n:
            raise ParameterError(f"{k.shape[0]} keys for {n} frames: give one key per frame, or a key_index")
        return k, n, None
    idx = np.asarray(key_index)
    if idx.shape != (n,) or not np.issubdtype(idx.dtype, np.integer):
        raise ParameterError(f"key_index must be ({n},) integers, got shape {idx.shape} dtype {idx.dtype}")
    if n and (idx.min() < 0 or idx.max() >= k.shape[0]):
        raise ParameterError(f"key_index values must be in 0..{k.shape[0] - 1}")
    return k, k.shape[0], np.ascontiguousarray(idx, dtype=np.int64)


def _output(out, shape: tuple) -> np.ndarray:
    """A fresh output array, or the caller's (reusing one saves first-touch page faults on big batches)."""
    if out is None:
        return np.empty(shape, np.uint8)
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape:
        raise ParameterError(f"out must be a uint8 numpy array of shape {shape}, got "
                             f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ParameterError("out must be C-contiguous and writeable")
    return out


def _run(decrypt: bool, keys, nonces, frames, aads, mic_len: int, key_index, out):
    if mic_len not in MIC_LENGTHS:
        raise ParameterError(f"a CCM* MIC is 0, 4, 6, 8, 10, 12, 14 or 16 bytes, got {mic_len}")
    nonce_arr = _u8(nonces, "nonces")
    if nonce_arr.ndim != 2 or not 7 <= nonce_arr.shape[1] <= 13:
        raise ParameterError(f"nonces are an (n, 7..13) uint8 array, one per frame; got {nonce_arr.shape}")
    n, nonce_len = nonce_arr.shape
    what = "frames" if decrypt else "plaintexts"
    src = _Frames(frames, n, what)
    aad = _Frames(aads, n, "aads") if aads is not None else None
    key_arr, key_count, idx = _keys(keys, key_index, n)

    if src.ragged:
        lengths = src.lengths
        out_lengths = np.maximum(lengths - mic_len, 0) if decrypt else lengths + mic_len
        out_offsets = np.zeros(n + 1, np.int64)
        np.cumsum(out_lengths, out=out_offsets[1:])
        out = _output(out, (int(out_offsets[-1]),))
        result = (out, out_offsets)
    else:
        if decrypt and src.stride < mic_len:
            raise ParameterError(f"frames of {src.stride} bytes cannot hold a {mic_len}-byte MIC")
        out = _output(out, (n, src.stride - mic_len if decrypt else src.stride + mic_len))
        result = out
    ok = np.empty(n, np.uint8)
    if n:
        _aes().ccm_batch(
            decrypt, key_arr.reshape(-1), key_count, idx, nonce_arr.reshape(-1), nonce_len,
            aad.data if aad else None, aad.offsets if aad else None, aad.stride if aad else 0,
            src.data, src.offsets, src.stride, n, out.reshape(-1), mic_len, ok)
    return result, ok.view(bool)


def encrypt_batch(keys, nonces, plaintexts, aads=None, mic_len: int = 8, key_index=None, out=None):
    """Encrypt n frames; returns ciphertext-then-MIC frames in the form of ``plaintexts`` (a 2-D array, or
    a ``(buffer, offsets)`` pair).

    ``keys``: ``(16,)`` one key for all; ``(n, 16)`` a key per frame; or ``(k, 16)`` a key table with
    ``key_index`` ``(n,)`` naming each frame's key. ``nonces``: ``(n,
    nonce_len)``. ``aads``: None, a 2-D array or a ``(buffer, offsets)`` pair. ``out``: optionally, the
    array to write into (``(n, length + mic_len)``, or the packed buffer's size for ragged frames).
    """
    result, _ = _run(False, keys, nonces, plaintexts, aads, mic_len, key_index, out)
    return result


def decrypt_batch(keys, nonces, frames, aads=None, mic_len: int = 8, key_index=None, out=None):
    """Decrypt and verify n frames; returns ``(plaintexts, ok)``. A frame whose MIC does not verify (or that
    is shorter than its MIC) is ``False`` in ``ok`` and its plaintext is zeroes; nothing is raised for it.
    Arguments as for :func:`encrypt_batch`, ``frames`` holding ciphertext then MIC."""
    return _run(True, keys, nonces, frames, aads, mic_len, key_index, out)


# --- replay protection ----------------------------------------------------------------------------------

_GROUP_SHIFT = 33   # counters are < 2**32, so group * 2**33 + counter orders by group, then counter


class ReplayWindow:
    """Frame-counter replay check for received frames, per source address, across batches.

    A frame is accepted when its counter is strictly greater than every counter seen before from the same
    source (in earlier batches and earlier in this batch). Vectorised: no Python loop per frame.
    """

    def __init__(self):
        self._sources = np.empty(0, np.uint64)   # sorted
        self._last = np.empty(0, np.int64)

    def __len__(self) -> int:
        return len(self._sources)

    def last_counter(self, source) -> int | None:
        """The highest counter seen from ``source`` (an EUI-64), or None."""
        s = np.uint64(_eui64(source))
        i = int(np.searchsorted(self._sources, s))
        return int(self._last[i]) if i < len(self._sources) and self._sources[i] == s else None

    def check_counters(self, sources, counters) -> np.ndarray:
        """Accept mask (bool, one per frame) for frames from ``sources`` (uint64 EUI-64 values) carrying
        ``counters`` (32-bit frame counters); remembers the highest counter per source."""
        src = np.asarray(sources)
        cnt = np.asarray(counters)
        if src.ndim != 1 or cnt.shape != src.shape:
            raise ParameterError(f"sources and counters must be 1-D of one length, got {src.shape} and "
                                 f"{cnt.shape}")
        if src.size and not (np.issubdtype(src.dtype, np.integer) and np.issubdtype(cnt.dtype, np.integer)):
            raise ParameterError("sources and counters must be integer arrays")
        if cnt.size and (cnt.min() < 0 or cnt.max() >= 1 << 32):
            raise ParameterError("frame counters are 32-bit unsigned values")
        n = src.size
        if n == 0:
            return np.zeros(0, bool)
        if n >= 1 << 30:
            raise ParameterError("at most 2**30 frames per check")
        src = src.astype(np.uint64)
        cnt = cnt.astype(np.int64)
        order = np.argsort(src, kind="stable")
        s, c = src[order], cnt[order]
        new_group = np.empty(n, bool)
        new_group[0] = True
        np.not_equal(s[1:], s[:-1], out=new_group[1:])
        group = np.cumsum(new_group) - 1
        starts = np.flatnonzero(new_group)
        uniq = s[starts]

        pos = np.searchsorted(self._sources, uniq)
        known = pos < len(self._sources)
        known[known] = self._sources[pos[known]] == uniq[known]
        before = np.full(len(uniq), -1, np.int64)
        before[known] = self._last[pos[known]]

        # running maximum of counters within each group (later groups' keys are all larger)
        base = group.astype(np.int64) << _GROUP_SHIFT
        upto = np.maximum.accumulate(base + c) - base
        previous = np.empty(n, np.int64)
        previous[0] = -1
        previous[1:] = upto[:-1]
        previous[new_group] = -1
        accepted_sorted = c > np.maximum(previous, before[group])

        ends = np.r_[starts[1:], n] - 1
        highest = np.maximum(before, upto[ends])
        self._last[pos[known]] = highest[known]
        if not known.all():
            sources_all = np.concatenate([self._sources, uniq[~known]])
            last_all = np.concatenate([self._last, highest[~known]])
            keep = np.argsort(sources_all, kind="stable")
            self._sources, self._last = sources_all[keep], last_all[keep]

        accepted = np.empty(n, bool)
        accepted[order] = accepted_sorted
        return accepted
