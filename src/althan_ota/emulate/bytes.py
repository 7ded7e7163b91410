"""The ``bytes`` fidelity: after the timing run, every block exchange travels as a real frame.

For each device the C pass (csrc/emu_bytes.h states its rules) builds the Image Block Response of every block
exchange the timing run made, in order, from the real image bytes: 802.15.4 MAC, ZigBee NWK protected with AES-CCM*
(MIC 4) under the device's own key and an increasing frame counter, APS, ZCL OTA, FCS (CRC-16/KERMIT). The
frames of the exchanges the timing run lost (it logs where: csrc/emu_lost.h) get bit errors, at their block; the receiver checks FCS, MIC and frame counter, writes accepted data at
its offset, and checks SHA-256 of the reassembled image before it activates. A device whose hash fails ends
as "hash_failure" (old version running, no activation, ``t_end`` at the end of its download): never as a
wrong version reported running. Timing columns are the timing run's, unchanged.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .result import BYTES_COLUMNS, OUTCOMES  # noqa: F401 (BYTES_COLUMNS: re-exported)

_COMPLETED, _ACTIVATION_FAILED, _HASH_FAILURE = (OUTCOMES.index(o) for o in
                                                  ("completed", "activation_failed", "hash_failure"))


@dataclass(frozen=True)
class ByteParams:
    """Parameters of the byte pass. ``corrupt_image_prob``: probability that an installation's CH holds a
    corrupted copy of the image (``corrupt_bytes`` distinct bytes changed before serving, or all of a smaller
    image). ``ber``: bit error
    rate of the frames of repeated exchanges (each gets at least one flipped bit); None derives it per
    installation from the link PERs (the rate at which a full-block frame fails as often as the path's PER)."""

    corrupt_image_prob: float = 0.0
    corrupt_bytes: int = 4
    ber: float | None = None

    def validate(self) -> None:
        p = self.corrupt_image_prob
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ParameterError(f"corrupt_image_prob must be a number in [0, 1], got {p!r}")
        c = self.corrupt_bytes
        if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 64:
            raise ParameterError(f"corrupt_bytes must be an integer in [1, 64], got {c!r}")
        b = self.ber
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float)) or
                              not (math.isfinite(b) and 0.0 < b <= 0.1)):
            raise ParameterError(f"ber must be None or a number in (0, 0.1], got {b!r}")


def frame_ber(byte_params: ByteParams, han_per: float, bridge_per: float, side: int, full_frame_bits: int) -> float:
    """The bit error rate the byte pass gives a device's corrupted frames (csrc/emu_bytes.c path_ber, which
    this mirrors for the frames built in Python): the parameter's, or the rate at which a full-block frame of
    ``full_frame_bits`` fails as often as the device's path (hub side: the HAN; meter side: HAN and bridge
    link), at most 0.1."""
    if byte_params.ber:
        return float(byte_params.ber)
    keep = math.log1p(-han_per) + (math.log1p(-bridge_per) if side else 0.0)
    return min(-math.expm1(keep / full_frame_bits), 0.1)


def image_bytes(image) -> memoryview:
    """The caller's image as a contiguous byte view, without copying."""
    try:
        view = memoryview(image)
    except TypeError:
        raise ParameterError(f"image must be bytes or a buffer of bytes, got {type(image).__name__}") from None
    if not view.c_contiguous:
        raise ParameterError("image must be a contiguous buffer")
    view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    if view.nbytes == 0:
        raise ParameterError("image is empty")
    return view


def make_pass(columns: dict, installations: np.ndarray, image: memoryview, ota, seed: int,
              byte_params: ByteParams, lost: tuple[np.ndarray, np.ndarray]):
    """The C byte pass over a timing run's columns (``ota``: its OtaParams) and ``lost``, where that run lost
    each device's exchanges (``Run.lost_runs()`` of a run with ``record_lost()``): each corrupted frame goes
    exactly where its exchange was lost. It fills BYTES_COLUMNS, which it adds to ``columns``, when executed."""
    from .._native import _emu_bytes

    n = installations.shape[0]
    timing = {"outcome": columns["outcome"].copy(), "exchanges": columns["exchanges"],
              "exchange_retries": columns["exchange_retries"],
              "installation": np.ascontiguousarray(installations, dtype=np.uint64),
              "han_per": columns["han_per"], "bridge_per": columns["bridge_per"]}
    for name, dtype in _emu_bytes.OUTPUT_COLUMNS.items():
        columns[name] = np.zeros(2 * n, dtype=dtype)
    digest = hashlib.sha256(image).digest()
    return _emu_bytes.Pass(image, ota.block_size, digest, seed, float(byte_params.corrupt_image_prob),
                           byte_params.corrupt_bytes, float(byte_params.ber or 0.0), lost[0], lost[1],
                           timing, columns, image_identity(image))


# what the frames say when the image has no OTA header to take them from (raw test bytes)
FALLBACK_IDENTITY = (0x1234, 0x0001, 0x00000002)


def image_identity(image) -> tuple[int, int, int]:
    """(manufacturer code, image type, file version) of a ZigBee OTA / GBCS image, as its header gives them:
    what every Image Block Response and Upgrade End frame carries. Bytes that are not such an image get
    FALLBACK_IDENTITY."""
    from ..errors import ImageFormatError
    from ..image import parse

    try:
        parsed = parse(bytes(image))
    except ImageFormatError:
        return FALLBACK_IDENTITY
    return parsed.manufacturer_code, parsed.image_type, parsed.file_version


def apply_hash_check(columns: dict) -> None:
    """Devices that finished their download with a failed hash did not activate: outcome "hash_failure",
    the old version running, no activation or read-back, t_end when the download ended."""
    done = (columns["outcome"] == _COMPLETED) | (columns["outcome"] == _ACTIVATION_FAILED)
    failed = done & (columns["hash_ok"] == 0)
    columns["outcome"][failed] = _HASH_FAILURE
    columns["new_version"][failed] = 0
    columns["t_activation"][failed] = np.nan
    columns["t_readback"][failed] = np.nan
    columns["t_end"][failed] = columns["t_download_end"][failed]


def device_key(seed: int, installation: int, side: int) -> bytes:
    """The NWK key the byte pass gives a device (Philox stream keyed by (seed, installation, side))."""
    from .._native import _emu_bytes

    return _emu_bytes.device_key(seed, installation, side)
