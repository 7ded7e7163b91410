"""Writing report tables for machines: CSV (with a header), Parquet, or JSON (one array of records).
DuckDB's COPY writes all three, in parallel, straight from the Arrow table, to a temporary file beside the
target that replaces it only when complete: an interrupted run leaves the previous report whole."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from .._files import replacing
from ..errors import ParameterError
from . import _duck

FORMATS = ("csv", "parquet", "json")
_OPTIONS = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet", "json": "FORMAT json, ARRAY true"}


def format_of(path: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name implies."""
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt == "pq":
        fmt = "parquet"
    if fmt not in FORMATS:
        raise ParameterError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
    return fmt


def write_table(table: pa.Table, path: str | Path, fmt: str | None = None) -> Path:
    con = _duck.connect()
    try:
        con.register("report_rows", table)
        return write_query(con, "SELECT * FROM report_rows", path, fmt)
    finally:
        con.close()


def write_query(con, query: str, path: str | Path, fmt: str | None = None) -> Path:
    """The rows of ``query`` on ``con`` straight to the file: a report of millions of rows is never held
    in memory whole."""
    path = Path(path)
    fmt = format_of(path, fmt)
    with replacing(path) as partial:
        con.execute(f"COPY ({query}) TO {_duck.quote(partial)} ({_OPTIONS[fmt]})")
    return path
