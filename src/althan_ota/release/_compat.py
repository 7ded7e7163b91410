"""The pair compatibility table and what follows from it: whether an installation whose two bridges run
different firmware still works, and in which order to upgrade the two sides so that it keeps working.

Versions are 4-octet identifiers compared only through the table, never as integers. A pair is looked up as
the 64-bit key ``hub << 32 | meter`` among the table's keys, so a whole fleet is classified with one
``np.isin``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..image import format_version

# the orders plan_pair_order can answer, by code; -1 (no safe order) is "unsafe"
CONCURRENT, METER_FIRST, HUB_FIRST, UNSAFE = 0, 1, 2, -1
ORDER_NAMES = {CONCURRENT: "concurrent", METER_FIRST: "meter_first", HUB_FIRST: "hub_first"}
_MAX_VERSION = 0xFFFFFFFF


class Compatibility:
    """Which hub-side firmware version works with which meter-side version: the set of compatible
    (hub_version, meter_version) pairs. A pair not in the table is incompatible, including two equal
    versions that nobody listed."""

    def __init__(self, pairs: Iterable[tuple[int, int]] = ()):
        keys = set()
        for pair in pairs:
            try:
                hub, meter = pair
            except (TypeError, ValueError):
                raise ParameterError(f"a compatibility row is a (hub_version, meter_version) pair, "
                                     f"not {pair!r}") from None
            keys.add((_version(hub, "hub version") << 32) | _version(meter, "meter version"))
        self._keys = np.array(sorted(keys), dtype=np.uint64)
        self._key_set = frozenset(keys)      # for one pair at a time, without numpy's per-call overhead

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self.pairs)

    def __eq__(self, other) -> bool:
        return isinstance(other, Compatibility) and np.array_equal(self._keys, other._keys)

    def __repr__(self) -> str:
        return f"Compatibility({len(self)} pairs)"

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The compatible pairs, sorted by hub then meter version."""
        return [(int(k) >> 32, int(k) & _MAX_VERSION) for k in self._keys]

    def is_compatible(self, hub_version: int, meter_version: int) -> bool:
        return (_version(hub_version, "hub version") << 32 | _version(meter_version, "meter version")) \
            in self._key_set

    def compatible(self, hub_versions, meter_versions) -> np.ndarray:
        """Element-wise ``is_compatible`` over arrays (broadcast together) of versions."""
        hub, meter = _versions(hub_versions, meter_versions)
        keys = (hub.astype(np.uint64) << np.uint64(32)) | meter.astype(np.uint64)
        # np.isin picks its method by table size: a few vectorised compares for a short table (the usual
        # case: tens of pairs), a sort-based merge for a long one
        return np.isin(keys, self._keys)

    def to_arrow(self):
        """The table as Arrow: columns ``hub_version`` and ``meter_version`` (uint32), one row per pair."""
        import pyarrow as pa

        return pa.table({"hub_version": pa.array((self._keys >> np.uint64(32)).astype(np.uint32)),
                         "meter_version": pa.array((self._keys & np.uint64(_MAX_VERSION)).astype(np.uint32))})

    def describe(self) -> list[str]:
        return [f"{format_version(h)} + {format_version(m)}" for h, m in self.pairs]


def classify_out_of_sync(compat: Compatibility, hub_versions, meter_versions) -> np.ndarray:
    """For the out-of-sync report: True where a pair's two versions work together (benign, upgrade when
    convenient), False where they do not (urgent: the installation is not working)."""
    return compat.compatible(hub_versions, meter_versions)


@dataclass(frozen=True)
class PairOrders:
    """Per installation: ``codes`` (int8: CONCURRENT 0, METER_FIRST 1, HUB_FIRST 2, UNSAFE -1) and the
    ``unsafe`` mask (no order keeps the pair working: it needs an intermediate release or a site visit)."""

    codes: np.ndarray
    unsafe: np.ndarray

    def names(self) -> np.ndarray:
        """The orders as strings ("concurrent", "meter_first", "hub_first"), None where unsafe."""
        lookup = np.array([ORDER_NAMES[CONCURRENT], ORDER_NAMES[METER_FIRST], ORDER_NAMES[HUB_FIRST], None],
                          dtype=object)
        return lookup[self.codes]   # code -1 picks the last element, None


def plan_pair_orders(compat: Compatibility, hub_from, meter_from, hub_to, meter_to) -> PairOrders:
    """In which order to upgrade each installation from (``hub_from``, ``meter_from``) to (``hub_to``,
    ``meter_to``); arrays broadcast together, so the targets may be scalars.

    The states an order passes through are its intermediate state (one side upgraded, the other not) and
    the final state; a state equal to the starting state is not new and is not checked, so a pair that is
    broken today can still be mended. ``meter_first`` passes through (hub_from, meter_to), ``hub_first``
    through (hub_to, meter_from); ``concurrent`` (both requested at once, either may finish first) may pass
    through either. An order is safe when every state it passes through is compatible. The answer is
    ``concurrent`` when it is safe (no ordering constraint), else the one safe sequential order, else unsafe.
    """
    hub_from, meter_from, hub_to, meter_to = _broadcast(
        *(_as_versions(v, name) for v, name in ((hub_from, "hub_from"), (meter_from, "meter_from"),
                                                 (hub_to, "hub_to"), (meter_to, "meter_to"))))
    meter_first_ok, hub_first_ok = _safe_orders(compat.compatible, hub_from, meter_from, hub_to, meter_to)
    codes = np.full(meter_first_ok.shape, UNSAFE, dtype=np.int8)
    codes[hub_first_ok] = HUB_FIRST
    codes[meter_first_ok] = METER_FIRST
    codes[meter_first_ok & hub_first_ok] = CONCURRENT
    return PairOrders(codes, codes == UNSAFE)


def plan_pair_order(compat: Compatibility, hub_from: int, meter_from: int, hub_to: int,
                    meter_to: int) -> str | None:
    """One installation's order: "concurrent", "meter_first", "hub_first", or None when no order keeps the
    pair working (see :func:`plan_pair_orders` for the rule)."""
    versions = [_version(v, name) for v, name in ((hub_from, "hub_from"), (meter_from, "meter_from"),
                                                  (hub_to, "hub_to"), (meter_to, "meter_to"))]
    meter_first_ok, hub_first_ok = _safe_orders(compat.is_compatible, *versions)
    if meter_first_ok and hub_first_ok:
        return ORDER_NAMES[CONCURRENT]
    if meter_first_ok:
        return ORDER_NAMES[METER_FIRST]
    return ORDER_NAMES[HUB_FIRST] if hub_first_ok else None


def _safe_orders(compatible, hub_from, meter_from, hub_to, meter_to):
    """Whether meter-first and hub-first are safe: the rule of :func:`plan_pair_orders`, stated once, for
    scalars (``compatible`` = ``is_compatible``) or element-wise for arrays (``compatible``)."""
    final_ok = compatible(hub_to, meter_to)
    meter_first_ok = final_ok & (compatible(hub_from, meter_to) | (meter_to == meter_from))
    hub_first_ok = final_ok & (compatible(hub_to, meter_from) | (hub_to == hub_from))
    return meter_first_ok, hub_first_ok


def _version(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or \
            not 0 <= int(value) <= _MAX_VERSION:
        raise ParameterError(f"{name} must be a 4-octet version (0 to 0xFFFFFFFF), not {value!r}")
    return int(value)


def _as_versions(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise ParameterError(f"{name}: expected integer versions, got dtype {array.dtype}")
    fits = array.dtype.kind == "u" and array.dtype.itemsize <= 4     # in range whatever the values
    if not fits and array.size and (array.min() < 0 or array.max() > _MAX_VERSION):
        raise ParameterError(f"{name}: versions must lie in 0..0xFFFFFFFF")
    return array.astype(np.uint32, copy=False)


def _versions(hub_versions, meter_versions) -> tuple[np.ndarray, np.ndarray]:
    return _broadcast(_as_versions(hub_versions, "hub versions"), _as_versions(meter_versions, "meter versions"))


def _broadcast(*arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ParameterError(f"version arrays of shapes {shapes} do not broadcast together (one row per "
                             f"installation, or a scalar)") from None
