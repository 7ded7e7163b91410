"""Asking a running campaign to pause or abort from another process.

DuckDB lets one process write a database file at a time, so ``althan-ota campaign pause`` cannot write the
store while ``campaign run`` holds it. It leaves a request in a small JSON file beside the store instead;
the runner reads it before each wave and applies it through the store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ACTIONS = ("pause", "abort")


def control_path(store_path: str) -> Path | None:
    return None if store_path in (":memory:", "") else Path(store_path + ".control.json")


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def request(store_path: str, campaign_id: str, action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    path = control_path(store_path)
    if path is None:
        return
    data = _load(path)
    data[campaign_id] = action
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)      # atomic: a reader sees the old or the new request, never half of one


def requested(store_path: str, campaign_id: str) -> str | None:
    path = control_path(store_path)
    return None if path is None else _load(path).get(campaign_id)


def clear(store_path: str, campaign_id: str) -> None:
    path = control_path(store_path)
    if path is None:
        return
    data = _load(path)
    if data.pop(campaign_id, None) is not None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
