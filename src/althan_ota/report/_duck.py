"""DuckDB plumbing shared by the reports: one in-memory connection per report run, Arrow tables in and out."""

from __future__ import annotations

import re

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


# What a report session lets DuckDB hold before its sorts, joins and aggregates spill to disk. DuckDB's own
# default is 80% of the machine's memory, which a national fleet's sorted report would take (2.5 GB at 4 M
# devices) on top of whatever the process already holds; past this limit it spills and the results are
# the same.
REPORT_MEMORY_LIMIT = "1GB"


def bound_memory(con: duckdb.DuckDBPyConnection, limit: str = REPORT_MEMORY_LIMIT) -> None:
    """Cap DuckDB's memory on ``con`` at ``limit`` and let it spill to a directory of its own under the
    system's temporary folder (DuckDB creates it only when it spills, and removes it when ``con`` closes;
    its default would be ``.tmp`` in whatever folder the command was started from)."""
    import os
    import tempfile

    from ..errors import ParameterError

    spill = os.path.join(tempfile.gettempdir(), f"althan-ota-duckdb-{os.getpid()}-{id(con):x}")
    # checked here: DuckDB itself reads a negative size as "no limit"
    if not isinstance(limit, str) or not re.fullmatch(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*", limit, re.IGNORECASE):
        raise ParameterError(f"a report's memory limit is a size such as '1GB' or '512MB', got {limit!r}")
    con.execute(f"SET memory_limit = {quote(limit)}")
    con.execute(f"SET temp_directory = {quote(spill)}")
