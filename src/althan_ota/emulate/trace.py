"""Exchange traces: every OTA exchange of a few chosen devices, with the engine's own times.

``emulate(..., trace=True)`` records, for each device of a small run, every exchange its download made, in
order: the CH's Image Notify, the Query Next Image exchange, the Image Block exchanges (kind "wait_for_data"
when the CH answered the block request WAIT_FOR_DATA), the Upgrade End exchange (csrc/emu.h, "The command
set"). Each record says when the client sent the request (for an Image Notify: when the CH sent it), when the
response arrived (for an Image Notify: when it reached the client; or, for a lost exchange, when the client
re-requested: the response timeout, or later if the link-layer attempts took longer; for an exchange an outage
cut, when the path went down), when its last link-layer attempt ended (for a lost exchange usually well before
the client gives up on it), the file offset, the attempt (0: first request of that offset, k: its k-th re-request), what
happened, and whether the request reached the CH (``answered``: the CH's response went on air, whether or not it
arrived; an Image Notify is the CH's own frame, always answered; a lost exchange that was not answered lost its
request). The engine steps traced devices exchange by exchange instead of taking its exact shortcuts, so the
result is bit for bit what an untraced run gives (tests compare them). A download's first record is its Image
Notify (``t_download_start``); the offset of notify and Query Next Image records is 0.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

# enum alt_emu_kind (csrc/emu.h)
KINDS = ("block", "last_block", "upgrade_end", "image_notify", "query_next_image", "wait_for_data")
RESULTS = ("lost", "delivered", "cut")              # enum alt_emu_exchange_result
MAX_TRACED_INSTALLATIONS = 1000
MAX_RECORDS = 1 << 24                               # 512 MiB of records: far beyond any capture worth reading
_NS = 1e-9

EXCHANGE_DTYPE = np.dtype([("t_request", "f8"), ("t_response", "f8"), ("t_attempts_end", "f8"), ("offset", "u4"),
                           ("attempt", "u4"), ("kind", "u1"), ("result", "u1"), ("answered", "?")])


class ExchangeTrace:
    """The exchanges of every device row of a traced run (:meth:`device` gives one device's)."""

    def __init__(self, records: np.ndarray, first: np.ndarray, count: np.ndarray):
        self._records, self._first, self._count = records, first, count

    def __len__(self) -> int:
        return self._count.shape[0]

    def count(self, row: int) -> int:
        return int(self._count[self._row(row)])

    def device(self, row: int) -> np.ndarray:
        """Device ``row``'s exchanges in order (EXCHANGE_DTYPE: times in seconds from the campaign start; kind
        indexes KINDS, result RESULTS)."""
        row = self._row(row)
        raw = self._records[self._first[row]:self._first[row] + self._count[row]]
        out = np.empty(raw.shape[0], dtype=EXCHANGE_DTYPE)
        for name in ("t_request", "t_response", "t_attempts_end"):
            out[name] = raw[name] * _NS
        for name in ("offset", "attempt", "kind", "result", "answered"):
            out[name] = raw[name]
        return out

    def _row(self, row) -> int:
        if not isinstance(row, (int, np.integer)) or not 0 <= row < len(self):
            raise ParameterError(f"row must be a device row in [0, {len(self)}), got {row!r}")
        return int(row)


def initial_capacity(blocks: int, devices: int) -> np.ndarray:
    """Records to allow each device at first: the notify, the query, every block and the Upgrade End, with room
    for a quarter of them again as re-requests or WAIT_FOR_DATA answers (a device that needs more is traced
    again with exactly what it needs)."""
    return np.full(devices, (blocks + 3) * 5 // 4 + 64, dtype=np.uint64)


def buffers(capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(records, first, capacity, count) for ``Run.set_trace``."""
    from .._native import _emu

    total = int(capacity.sum(dtype=np.uint64))
    if total > MAX_RECORDS:
        raise ParameterError(f"the traced devices made {total} exchanges: more than the {MAX_RECORDS} a trace "
                             f"holds; trace fewer installations or a smaller image")
    first = np.zeros_like(capacity)
    np.cumsum(capacity[:-1], out=first[1:])
    return np.zeros(max(total, 1), dtype=_emu.RECORD_DTYPE), first, capacity, np.zeros_like(capacity)
