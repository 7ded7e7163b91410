"""The physical line each record of a CSV file starts on, as an editor shows it.

pyarrow's CSV reader numbers records: it skips blank lines and keeps a quoted line break inside its record,
so its numbers drift from the file's lines as soon as a file has either. Operators are sent to a line in
their editor, so every message and quarantine row gives the physical line instead, worked out from what
the reader already parsed (how many line breaks each record's values hold) and one streaming pass over the
bytes that counts the lines and finds the blank ones (and checks the encoding); the CSV is never parsed
twice. A line ends at
``\\r\\n``, ``\\n`` or a lone ``\\r``, as for the reader.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_CHUNK = 1 << 24
_LF, _CR = 10, 13


@dataclass
class LineScan:
    lines: int              # physical lines (a last line without a line break counts)
    blank: np.ndarray       # 1-based numbers of the empty lines, ascending
    utf8: bool              # whether the whole file is valid UTF-8


def scan_lines(path) -> LineScan:
    """Count the lines of a (possibly compressed) file, find the empty ones and check that it is UTF-8, a
    chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    blank_parts: list[np.ndarray] = []
    lines = 0
    line_start = 0          # file offset where the current line starts
    offset = 0              # file offset of the chunk's first byte
    carry = b""             # a chunk's last byte when it is a CR: a CRLF may straddle two chunks
    with pa.input_stream(str(path), compression="detect") as stream:
        while True:
            data = stream.read(_CHUNK)
            chunk = carry + data
            if not chunk:
                break
            last = not data
            if utf8:
                try:
                    decoder.decode(data, final=last)
                except UnicodeDecodeError:
                    utf8 = False
            if not last and chunk[-1] == _CR:
                chunk, carry = chunk[:-1], chunk[-1:]
            else:
                carry = b""
            b = np.frombuffer(chunk, np.uint8)
            is_lf = b == _LF
            is_cr = b == _CR
            # a CR followed by LF is part of one line break, which ends at the LF
            cr_alone = is_cr.copy()
            cr_alone[:-1] &= ~is_lf[1:]
            ends = np.flatnonzero(is_lf | cr_alone)
            if len(ends):
                crlf = np.zeros(len(ends), bool)
                inner = ends > 0
                crlf[inner] = is_lf[ends[inner]] & is_cr[ends[inner] - 1]
                starts = np.empty(len(ends), np.int64)
                starts[0] = line_start - offset
                starts[1:] = ends[:-1] + 1
                content = ends - starts - crlf
                empty = np.flatnonzero(content == 0)
                if len(empty):
                    blank_parts.append(lines + 1 + empty)
                lines += len(ends)
                line_start = offset + int(ends[-1]) + 1
            offset += len(chunk)
            if last:
                break
    if offset > line_start:
        lines += 1          # the last line has no line break
    blank = np.concatenate(blank_parts) if blank_parts else np.zeros(0, np.int64)
    return LineScan(lines, blank.astype(np.int64), utf8)


def line_breaks(values) -> np.ndarray:
    """How many line breaks each text value holds (CRLF, LF or a lone CR each count one); 0 for null."""
    text = values if pa.types.is_string(values.type) or pa.types.is_large_string(values.type) else \
        values.cast(pa.string())
    counts = [pc.count_substring(text, "\n"), pc.count_substring(text, "\r"),
              pc.count_substring(text, "\r\n")]
    lf, cr, crlf = (pc.fill_null(c, 0).to_numpy(zero_copy_only=False).astype(np.int64) for c in counts)
    return lf + cr - crlf


def record_lines(scan: LineScan, header: list[str], table: pa.Table,
                 skipped: dict[int, str]) -> tuple[np.ndarray, dict[int, int]]:
    """(start line of each row of ``table``, start line of each skipped record by the reader's record
    number). ``skipped``: record number (the header is record 1) -> raw text, for the records the reader
    could not split into fields; ``table``: the records it read, in file order."""
    records = table.num_rows + len(skipped)
    header_span = 1 + sum(int(line_breaks(pa.array([name]))[0]) for name in header)
    if scan.lines == header_span + records and not len(scan.blank):
        spans = None                    # every record on one line, nothing between them: the common case
    else:
        spans = np.ones(records, np.int64)
        good = np.ones(records, bool)
        if skipped:
            bad = np.array(sorted(skipped), np.int64) - 2
            good[bad] = False
            spans[bad] += line_breaks(pa.array([skipped[n] for n in sorted(skipped)], pa.string()))
        if scan.lines - len(scan.blank) != header_span + records:     # some value spans lines
            breaks = np.zeros(table.num_rows, np.int64)
            for column in table.columns:
                breaks += line_breaks(column)
            spans[good] += breaks
    starts = _starts(scan.blank, header_span, records, spans)
    if skipped:
        numbers = np.array(sorted(skipped), np.int64)
        keep = np.ones(records, bool)
        keep[numbers - 2] = False
        return starts[keep], {int(n): int(starts[n - 2]) for n in numbers}
    return starts, {}


def _starts(blank: np.ndarray, header_span: int, records: int, spans: np.ndarray | None) -> np.ndarray:
    """Physical start lines. Without the blank lines the reader skips, record i would start at
    ``p[i] = first + spans[0] + ... + spans[i-1]``; each skipped blank line moves every later record down
    one. A blank line is skipped unless it falls inside a record's span (an empty line within a quoted
    value), which is decided in those compressed coordinates, blank line by blank line only when some record
    spans several lines."""
    leading = int(np.count_nonzero(blank == np.arange(1, len(blank) + 1)))   # blank lines before the header
    first = 1 + leading + header_span
    if spans is None:
        spans = np.ones(records, np.int64)
    p = first + np.concatenate([[0], np.cumsum(spans)[:-1]]).astype(np.int64)[:records]
    later = blank[blank >= first]
    if (spans == 1).all():
        skipped = later - np.arange(len(later))
    else:
        kept: list[int] = []
        for line in later.tolist():
            c = line - len(kept)
            j = int(np.searchsorted(p, c, "right")) - 1
            if not (j >= 0 and p[j] < c < p[j] + spans[j]):
                kept.append(c)
        skipped = np.array(kept, np.int64)
    return p + np.searchsorted(skipped, p, "right")
