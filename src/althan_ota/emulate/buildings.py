"""Who shares the air: installations grouped by building and channel (the input of the per-building engine).

The fleet's ``building_id`` groups installations. Within a building, installations are assigned round-robin in
fleet order to ``EmulationParams.han_channels`` 2.4 GHz channels (hub-side bridges and CHs) and
``bridge_channels`` sub-GHz channels (meter-side bridges), unless the fleet has a ``channel`` column: then
installations of one building with the same channel value share both their HAN and their bridge channel. An
installation without a building (null or empty ``building_id``) is a building of its own and never contends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ParameterError
from .params import EmulationParams

NO_BUILDING = -1


@dataclass(frozen=True)
class ChannelAssignment:
    """Per installation: its building code (NO_BUILDING: alone) and its HAN and bridge channel within it."""

    building: np.ndarray          # int64
    han_channel: np.ndarray       # int64
    bridge_channel: np.ndarray    # int64

    def sharing(self, link: str) -> np.ndarray:
        """Per installation: how many installations (itself included) share its ``link`` ("han" or "bridge")
        channel."""
        if link not in ("han", "bridge"):
            raise ParameterError(f"link must be 'han' or 'bridge', got {link!r}")
        channel = self.han_channel if link == "han" else self.bridge_channel
        n = self.building.shape[0]
        out = np.ones(n, dtype=np.int64)
        grouped = self.building != NO_BUILDING
        if grouped.any():
            keys = np.stack([self.building[grouped], channel[grouped]], axis=1)
            _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
            out[grouped] = counts[inverse.reshape(-1)]
        return out


def _building_codes(building_id) -> np.ndarray:
    column = building_id.combine_chunks() if isinstance(building_id, pa.ChunkedArray) else building_id
    if not isinstance(column, pa.Array):
        column = pa.array(np.asarray(building_id, dtype=object), type=pa.string())
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise ParameterError(f"building_id must be a text column, got {column.type}")
    empty = pc.equal(pc.utf8_trim_whitespace(column), "").fill_null(True)
    codes = np.asarray(column.dictionary_encode().indices.fill_null(0), dtype=np.int64)
    codes[np.asarray(empty, dtype=bool)] = NO_BUILDING
    return codes


def round_robin(building: np.ndarray, count: int) -> np.ndarray:
    """Each installation's position among its building's installations (fleet order), modulo count."""
    if count == 1:
        return np.zeros_like(building)
    order = np.argsort(building, kind="stable")
    sorted_b = building[order]
    starts = np.r_[0, np.flatnonzero(sorted_b[1:] != sorted_b[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_b.shape[0]]))
    position = np.empty_like(building)
    position[order] = np.arange(building.shape[0]) - run_start
    return position % count


def assign_channels(building_id, params: EmulationParams, channel=None) -> ChannelAssignment:
    """Groups installations by building and channel. ``building_id``: one text value per installation (an
    Arrow column, or any sequence of str/None); ``channel``: optional non-negative integers, one per
    installation (a fleet's ``channel`` column)."""
    building = _building_codes(building_id)
    n = building.shape[0]
    if channel is not None:
        if isinstance(channel, (pa.Array, pa.ChunkedArray)):
            if channel.null_count:
                row = int(np.flatnonzero(np.asarray(channel.is_null(), dtype=bool))[0])
                raise ParameterError(f"channel[{row}] is empty: a channel is an integer >= 0")
            values = channel.to_numpy(zero_copy_only=False)
        else:
            values = np.asarray(channel)
        if values.shape != (n,):
            raise ParameterError(f"channel has {values.shape[0] if values.ndim else 0} values, building_id {n}")
        if values.dtype.kind == "f":            # whole numbers read from a file as floats are fine
            whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) <= 2.0**62)
            bad = np.flatnonzero(~whole).tolist()
        elif values.dtype.kind not in "iu":
            bad = [i for i, v in enumerate(values.tolist()) if not isinstance(v, int) or isinstance(v, bool)]
        else:
            bad = []
        if bad:
            raise ParameterError(f"channel[{bad[0]}] = {values[bad[0]]}: a channel is an integer >= 0")
        values = values.astype(np.int64)
        if n and values.min() < 0:
            row = int(np.flatnonzero(values < 0)[0])
            raise ParameterError(f"channel[{row}] = {values[row]}: a channel is an integer >= 0")
        return ChannelAssignment(building, values.copy(), values.copy())
    return ChannelAssignment(building, round_robin(building, params.han_channels),
                             round_robin(building, params.bridge_channels))
