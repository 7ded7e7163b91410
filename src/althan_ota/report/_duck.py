"""DuckDB plumbing shared by the reports: one in-memory connection per report run, Arrow tables in and out."""

from __future__ import annotations

import duckdb
import pyarrow as pa


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # timestamps are UTC in every file we read and write, whatever the machine's zone
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """The result of ``query`` as an Arrow table (``to_arrow_table`` from DuckDB 1.4, ``arrow`` before)."""
    relation = con.sql(query)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def quote(text: str) -> str:
    """A SQL string literal (for statements that take no parameters, such as ATTACH and COPY)."""
    return "'" + str(text).replace("'", "''") + "'"


def in_list(values) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"
