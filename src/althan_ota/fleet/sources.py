"""Reading inventory extracts (CSV or Parquet) into columns named as in the schema, with line numbers.

CSV values stay text here so that validation can say exactly what was wrong with each one; Parquet columns
keep their types (validation accepts typed firmware and hardware versions and link-quality columns).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InventoryError
from .csvlines import record_lines, scan_lines
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


# pyarrow's default block; a record longer than the block is read again with a larger one, up to this
_BLOCK_SIZE = 1 << 20
_MAX_BLOCK_SIZE = 1 << 30
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
         b"\xfe\xff": "UTF-16"}


def _read_csv(path: Path) -> tuple[pa.Table, np.ndarray, list[tuple[int, str]]]:
    """Every column as text. Returns (table, the physical line each row starts on, rows that could not be
    split into fields as (line, reason)); see csvlines for why lines, not record numbers."""
    skipped: dict[int, tuple[str, str]] = {}

    def skip(row) -> str:
        skipped[row.number] = (row.text, f"expected {row.expected_columns} fields, found {row.actual_columns}")
        return "skip"

    def read(source, use_threads: bool, newlines_in_values: bool, block_size: int) -> pa.Table:
        options = pacsv.ReadOptions(use_threads=use_threads, block_size=block_size)
        parse = pacsv.ParseOptions(invalid_row_handler=skip, newlines_in_values=newlines_in_values)
        opened = (lambda: pa.BufferReader(source)) if isinstance(source, bytes) else (lambda: source)
        names = pacsv.open_csv(opened(), read_options=options, parse_options=parse).schema.names
        skipped.clear()
        return pacsv.read_csv(
            opened(), read_options=options, parse_options=parse,
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))

    scan = scan_lines(path)
    if not scan.utf8:
        raise InventoryError(_explain_csv_error(path, None))
    source, header_only = path, False
    settings = dict(use_threads=True, newlines_in_values=False, block_size=_BLOCK_SIZE)
    while True:
        try:
            table = read(source, **settings)
            if skipped and settings["use_threads"]:      # record numbers are only known to a single-threaded read
                settings["use_threads"] = False
                table = read(source, **settings)
            break
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "out of sync with chunker" in message and not settings["newlines_in_values"]:
                settings["newlines_in_values"] = True    # a quoted value holds a line break
            elif "straddl" in message and settings["block_size"] < _MAX_BLOCK_SIZE:
                settings["block_size"] *= 4               # a record longer than a block: validation judges it
            elif "Empty CSV file or block" in message and not header_only and source is path:
                source, header_only = _with_final_line_break(path), True
            else:
                raise InventoryError(_explain_csv_error(path, exc)) from None
    lines, bad_lines = record_lines(scan, table.column_names, table,
                                    {n: text for n, (text, _) in skipped.items()})
    return table, lines, [(bad_lines[n], reason) for n, (_, reason) in sorted(skipped.items())]


def _with_final_line_break(path: Path) -> bytes:
    """A file whose last line, the header alone, has no line break: pyarrow needs the break to see it."""
    with pa.input_stream(str(path), compression="detect") as stream:
        data = stream.read(_BLOCK_SIZE + 1)
    if not data.strip():
        raise InventoryError(f"{path}: the file is empty (no header line)")
    if len(data) > _BLOCK_SIZE or data.endswith((b"\n", b"\r")):
        raise InventoryError(f"{path}: cannot read as CSV: no complete header line")
    return data + b"\n"


def _explain_csv_error(path: Path, exc: Exception | None) -> str:
    """Why a CSV cannot be read: an encoding error is located by decoding line by line."""
    with pa.input_stream(str(path), compression="detect") as stream:
        head = stream.read(4)
    for bom, encoding in _BOMS.items():
        if head.startswith(bom):
            return (f"{path}, line 1, byte 1: the file is {encoding} (byte-order mark "
                    f"{bom.hex(' ').upper()}), not UTF-8; save the extract as UTF-8")
    with pa.input_stream(str(path), compression="detect") as stream, io.BufferedReader(stream) as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                return (f"{path}, line {number}, byte {err.start + 1}: not valid UTF-8 "
                        f"({line[max(0, err.start - 8):err.start + 8]!r}); save the extract as UTF-8")
    if exc is None:
        return f"{path}: not valid UTF-8; save the extract as UTF-8"
    if "Empty CSV file" in str(exc):
        return f"{path}: the file is empty (no header line)"
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
    for position, original in enumerate(table.column_names):
        name = canonical_header(original)
        if name is None:
            continue  # extra columns in extracts are common (notes, dates); they are not ours to judge
        if name in seen:
            raise InventoryError(f"{path}: columns {seen[name]!r} and {original!r} both mean {name}"
                                 + (" (the header names it twice)" if seen[name] == original else ""))
        seen[name] = original
        columns.append(table.column(position))
        names.append(name)
    return pa.table(columns, names=names) if columns else pa.table({})
