"""Reading inventory extracts (CSV or Parquet) into columns named as in the schema, with line numbers.

CSV values stay text here so that validation can say exactly what was wrong with each one; Parquet columns
keep their types (validation accepts typed firmware and hardware versions and link-quality columns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InventoryError
from .schema import canonical_header


def read_extract(path: str | Path) -> tuple[pa.Table, np.ndarray, list[tuple[int, str]]]:
    """Returns (table with canonical column names, 1-based source line (CSV) or row (Parquet) of
    each row, rows that could not be split into fields as (line, reason))."""
    path = Path(path)
    if not path.exists():
        raise InventoryError(f"{path}: no such file")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table = _read_parquet(path)
        lines, malformed = np.arange(1, table.num_rows + 1, dtype=np.int64), []
    elif suffix in (".csv", ".txt", ".csv.gz"):
        table, lines, malformed = _read_csv(path)
    else:
        raise InventoryError(f"{path}: unknown extract type {suffix!r} (expected .csv, .csv.gz or .parquet)")
    return _canonical_names(table, path), lines, malformed


def _read_csv(path: Path) -> tuple[pa.Table, np.ndarray, list[tuple[int, str]]]:
    skipped: list[tuple[int | None, str]] = []

    def skip(row) -> str:
        skipped.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}"))
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        parse = pacsv.ParseOptions(invalid_row_handler=skip)
        names = pacsv.open_csv(path, parse_options=parse).schema.names
        skipped.clear()
        return pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(use_threads=use_threads), parse_options=parse,
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))

    try:
        table = read(use_threads=True)
        if skipped:  # row numbers are only known to a single-threaded parse
            table = read(use_threads=False)
    except pa.ArrowInvalid as exc:
        raise InventoryError(_explain_csv_error(path, exc)) from None
    # a single-threaded parse numbers rows by file line (the header is line 1)
    bad_lines = sorted(int(number) for number, _ in skipped)
    total = table.num_rows + len(bad_lines)
    keep = np.ones(total, dtype=bool)
    keep[np.asarray(bad_lines, dtype=np.int64) - 2] = False
    lines = np.arange(2, total + 2, dtype=np.int64)[keep]
    return table, lines, [(int(number), reason) for number, reason in skipped]


def _explain_csv_error(path: Path, exc: Exception) -> str:
    """Find the line a CSV read failed on: an encoding error is located by decoding line by line."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                return (f"{path}, line {number}, byte {err.start + 1}: not valid UTF-8 "
                        f"({line[max(0, err.start - 8):err.start + 8]!r}); save the extract as UTF-8")
    return f"{path}: cannot read as CSV: {exc}"


def _read_parquet(path: Path, keep=None) -> pa.Table:
    """``keep``: a predicate on column names; only those columns are read (all when None)."""
    import pyarrow.parquet as pq

    try:
        columns = None if keep is None else [n for n in pq.read_schema(path).names if keep(n)]
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InventoryError(f"{path}: cannot read as Parquet: {exc}") from None
    return table


def _canonical_names(table: pa.Table, path: Path) -> pa.Table:
    columns, names, seen = [], [], {}
    for original in table.column_names:
        name = canonical_header(original)
        if name is None:
            continue  # extra columns in extracts are common (notes, dates); they are not ours to judge
        if name in seen:
            raise InventoryError(f"{path}: columns {seen[name]!r} and {original!r} both mean {name}")
        seen[name] = original
        columns.append(table[original])
        names.append(name)
    return pa.table(columns, names=names) if columns else pa.table({})
