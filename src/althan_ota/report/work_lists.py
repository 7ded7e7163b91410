"""Work-lists per supplier: each energy supplier's devices to investigate, with the reason and the next action,
from the out-of-sync report and (when an AHI extract is given) the reconciliation.

Nothing here words a reason or an action of its own where one exists: an out-of-sync pair carries the cause
and next action of the outcome table (``campaign/outcomes.py`` via report/out_of_sync.py) for the side still
behind; a device the reconciliation flags carries its issues and the proposed AHI update with the
reconciliation's reason (report/reconcile.py). A device with no supplier goes to the ``unknown`` list.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from . import _duck
from .export import write_table
from .firmware import supplier_file_stem

WORK_LIST_SCHEMA = pa.schema([
    ("supplier", pa.string()), ("device_id", pa.string()), ("installation_id", pa.string()),
    ("source", pa.string()), ("reason", pa.string()), ("next_action", pa.string()),
])
UNKNOWN_SUPPLIER = "unknown"
# how a proposed AHI update reads as a task (the reconciliation says why)
_UPDATE_TASKS = {"add": "add to the AHI", "update": "update the AHI", "review": "review with the supplier"}


def work_lists(out_of_sync: pa.Table, reconciliation=None) -> pa.Table:
    """WORK_LIST_SCHEMA rows, by supplier, source and device."""
    con = _duck.connect()
    try:
        con.register("oos", out_of_sync)
        parts = [f"""
            SELECT supplier, device_id, installation_id, 'out-of-sync' AS source, cause AS reason, next_action
            FROM (SELECT *, unnest(CASE side WHEN 'hub-side' THEN [hub_device_id] WHEN 'meter-side'
                                             THEN [meter_device_id] ELSE [hub_device_id, meter_device_id] END)
                            AS device_id FROM oos)"""]
        if reconciliation is not None:
            con.register("rec", reconciliation.devices)
            con.register("upd", reconciliation.updates)
            tasks = " ".join(f"WHEN {_duck.quote(k)} THEN {_duck.quote(v)}" for k, v in _UPDATE_TASKS.items())
            parts.append(f"""
                SELECT r.supplier::VARCHAR, r.device_id, u.installation_id, 'reconciliation',
                       r.class::VARCHAR || coalesce(' (' || nullif(r.issues::VARCHAR, r.class::VARCHAR) || ')', '')
                           || coalesce('; missing from ' || r.missing_from::VARCHAR, ''),
                       coalesce(CASE u.action {tasks} END || ': ' || u.reason, 'investigate: ' || r.class::VARCHAR)
                FROM rec r LEFT JOIN upd u USING (device_id) WHERE r.class <> 'agree'""")
        table = _duck.arrow(con, f"""
            SELECT coalesce(supplier, '{UNKNOWN_SUPPLIER}') AS supplier, device_id, installation_id, source, reason,
                   next_action
            FROM ({" UNION ALL ".join(parts)}) ORDER BY supplier, source, device_id""")
    finally:
        con.close()
    return table.cast(WORK_LIST_SCHEMA)


def write_work_lists(table: pa.Table, directory: str | Path, fmt: str = "csv") -> dict[str, Path]:
    """One file per supplier in ``directory`` ({supplier: path}), named as the supplier reports are."""
    import pyarrow.compute as pc

    directory = Path(directory)
    return {name: write_table(table.filter(pc.equal(table["supplier"], name)),
                              directory / f"{supplier_file_stem(name)}.{fmt}", fmt)
            for name in sorted(pc.unique(table["supplier"]).to_pylist())}
