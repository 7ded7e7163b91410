"""The link quality an inventory states for each installation: one rule for every planner (campaigns, the
emulator's fleet arrays, Dask sweeps)."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError


def installation_link_per(fleet, hub_rows: np.ndarray, meter_rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each installation's HAN and bridge-link PER as the inventory states them (NaN where it does not).

    ``hub_rows``/``meter_rows`` are the fleet rows of each installation's hub-side and meter-side bridge; a
    meter row of -1 means there is none (a plain PPMID, given in ``hub_rows``: its own row holds its PERs).

    - HAN: the OTA hop on the HAN is CH <-> hub-side bridge, so the hub-side row's ``han_per`` is the one.
    - Bridge link: one radio link shared by both bridges, so both rows describe it. They agree in a synthetic
      fleet, but a real extract's rows can differ (measured at either end, at different times). The worse
      (higher) PER is authoritative: it is the conservative figure for planning, since overestimating a link
      only costs slack while underestimating it hides the installations likely to fail. A row without a
      figure defers to the other row.
    """
    hub_rows = np.asarray(hub_rows, dtype=np.int64)
    meter_rows = np.asarray(meter_rows, dtype=np.int64)
    if hub_rows.shape != meter_rows.shape:
        raise ParameterError(f"hub_rows and meter_rows must have the same shape, got {hub_rows.shape} and "
                             f"{meter_rows.shape}")

    def stated(name: str, *rows_per_side: np.ndarray) -> list[np.ndarray]:
        column = fleet.column(name).astype(np.float64) if name in fleet.table.column_names else None
        out = []
        for rows in rows_per_side:
            values = np.full(rows.shape, np.nan)
            if column is not None:
                values[rows >= 0] = column[rows[rows >= 0]]
            out.append(values)
        return out

    (han,) = stated("han_per", hub_rows)
    return {"han_per": han, "bridge_per": np.fmax(*stated("bridge_per", hub_rows, meter_rows))}
