"""Writing sweep tables: CSV, Parquet or JSON records, chosen by the file's suffix."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .._files import replacing
from ..errors import ParameterError

FORMATS = (".csv", ".parquet", ".json")


def write_table(table, path: str | Path, meta: dict | None = None) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ParameterError(f"cannot tell the format of {str(path)!r}: use one of {', '.join(FORMATS)}")
    with replacing(path) as partial:
        if suffix == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, partial)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            if meta is not None:   # how the sweep was made travels with the numbers
                table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                                       b"althan_ota.sweep": json.dumps(meta).encode()})
            pq.write_table(table, partial)
        else:
            rows = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                    for row in table.to_pylist()]
            partial.write_text(json.dumps({"meta": meta or {}, "rows": rows}, indent=1) + "\n")
