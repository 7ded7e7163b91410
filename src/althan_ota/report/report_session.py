"""A report session: one DuckDB connection holding the fleet (and a campaign store, when given), so that
several reports over millions of devices load the inventory once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from . import _duck
from .inputs import load_fleet
from .store_reader import Store, open_store


class Session:
    """``fleet``: a fleet file (Parquet from ``althan-ota fleet``, or any CSV/Parquet extract), a Fleet or
    a validated fleet table. ``store``: a campaign store path or Store. ``extract_date``: when the
    inventory was extracted, the ``last_confirmed`` of devices no campaign has verified. ``memory_limit``:
    what DuckDB may hold before its sorts and joins spill to disk (e.g. "1GB"; results do not change)."""

    def __init__(self, fleet, store: Store | str | Path | None = None,
                 extract_date: dt.date | dt.datetime | None = None, memory_limit: str = _duck.REPORT_MEMORY_LIMIT):
        self.store = open_store(store) if isinstance(store, (str, Path)) else store
        self.con = self.store.con if self.store is not None else _duck.connect()
        _duck.bound_memory(self.con, memory_limit)
        self.extract_date = extract_date
        self.fleet = fleet          # as given: the campaign views read its building references
        self.devices = load_fleet(self.con, fleet)
        self._fleet_report: pa.Table | None = None
        self._out_of_sync: list[tuple[object, pa.Table]] = []   # (compatibility given, its pairs)

    def fleet_report(self) -> pa.Table:
        """Computed once per session (the HTML page, supplier reports and reconciliation all start from it)."""
        if self._fleet_report is None:
            from .firmware import fleet_report

            self._fleet_report = fleet_report(self)
        return self._fleet_report

    def write_fleet_report(self, path: str | Path, fmt: str | None = None) -> Path:
        """The fleet report straight from DuckDB to a file (CSV, Parquet or JSON), without holding its rows:
        the same bytes as writing ``fleet_report()`` for CSV and JSON; in Parquet the same values, with the
        columns DuckDB knows to be non-null marked required."""
        from .export import write_query
        from .firmware import fleet_report_sql

        if self._fleet_report is not None:
            from .export import write_table

            return write_table(self._fleet_report, path, fmt)
        return write_query(self.con, fleet_report_sql(self), path, fmt)

    def fleet_overview(self) -> dict:
        """The fleet report's cards and group counts for the HTML page (firmware.fleet_overview)."""
        from .firmware import fleet_overview

        return fleet_overview(self)

    def supplier_reports(self) -> dict[str, pa.Table]:
        from .firmware import supplier_reports

        return supplier_reports(self.fleet_report())

    def out_of_sync(self, compatibility=None) -> pa.Table:
        """Computed once per session and compatibility table (the CSV and the HTML page both show it): a
        join over every device of the fleet, seconds at national scale."""
        from .out_of_sync import out_of_sync

        for given, pairs in self._out_of_sync:
            if given is compatibility:
                return pairs
        pairs = out_of_sync(self, compatibility)
        self._out_of_sync.append((compatibility, pairs))
        return pairs
