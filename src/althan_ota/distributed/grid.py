"""Parameter grids for sweeps: axis names, values from the command line or a file, and applying a grid point
to :class:`~althan_ota.emulate.EmulationParams`.

An axis is ``image_size``, ``band``, one of the short ALIASES, or any dotted path into EmulationParams
(``bridge.per``, ``ota.response_timeout_s``, ``outages.ch_mean_down_s``, ``wan_failure_prob``, ...).
``band`` names a sub-GHz band and sets the bridge's duty-cycle limit from BANDS. ``channel`` is the number
of channels each building's installations share on each link (the contention engine's ``han_channels`` and
``bridge_channels``, contention on; ``han_channels`` and ``bridge_channels`` alone turn it on too).
``building_concurrency`` caps the installations of one building
downloading at once, as a campaign plan does (campaign/building_places.py; the sweep needs the buildings).
Setting ``pair_order`` (without sweeping ``ch_concurrency`` too) sets ``ota.ch_concurrency`` to match: 1 for
'meter_first' and 'hub_first', 2 for 'concurrent'.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

from ..emulate import EmulationParams, MAX_BLOCK
from ..errors import ParameterError

ALIASES = {
    "block_size": "ota.block_size",
    "min_block_period": "ota.min_block_period_s",
    "pair_order": "ota.pair_order",
    "ch_concurrency": "ota.ch_concurrency",
    "han_per": "han.per",
    "bridge_per": "bridge.per",
    "duty_cycle": "bridge.duty_cycle",
    "bridge_bit_rate": "bridge.bit_rate_bps",
}

# ERC/REC 70-03 Annex 1 (non-specific short range devices) sub-GHz bands: duty-cycle limit per transmitter
BANDS = {
    "868.0-868.6": 0.01,      # h1.3, 25 mW, <= 1%
    "868.7-869.2": 0.001,     # h1.4, 25 mW, <= 0.1%
    "869.4-869.65": 0.10,     # h1.5, 500 mW, <= 10%
    "869.7-870.0": 1.0,       # h1.6, 5 mW, no duty-cycle limit
}
SPECIAL = ("image_size", "band", "channel", "building_concurrency")
# the contention engine's fields that ``channel`` sets (channels per building on each link, shared air on)
CHANNEL_FIELDS = ("contention", "han_channels", "bridge_channels")


def target(name: str) -> str:
    """The dotted EmulationParams path (or special name) an axis sets."""
    if name in SPECIAL:
        return {"band": "bridge.duty_cycle"}.get(name, name)
    path = ALIASES.get(name, name)
    obj = EmulationParams()
    for part in path.split("."):
        if not dataclasses.is_dataclass(obj) or part not in {f.name for f in dataclasses.fields(obj)}:
            known = sorted([*SPECIAL, *ALIASES]) + sorted(f.name for f in dataclasses.fields(EmulationParams))
            raise ParameterError(f"unknown sweep parameter {name!r}; use one of {known} or a dotted path into "
                                 "EmulationParams such as 'bridge.per' or 'ota.response_timeout_s'")
        obj = getattr(obj, part)
    return path


def parse_value(text: str):
    """A command-line value: an integer, a number, none/null, true/false, or else a string."""
    text = text.strip()
    if text.lower() in ("none", "null"):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_flag(flag: str) -> tuple[str, list]:
    """``name=v1,v2,...`` (a --grid flag) -> (name, values)."""
    name, sep, values = flag.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise ParameterError(f"a grid axis is written name=v1,v2,..., got {flag!r}")
    return name.strip(), [parse_value(v) for v in values.split(",")]


def load_grid_file(path: str | Path) -> dict[str, list]:
    """A JSON (or, with PyYAML installed, YAML) mapping of axis name to a list of values (or one value)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParameterError(f"cannot read the grid file {str(path)!r}: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise ParameterError("a YAML grid file needs PyYAML (pip install pyyaml); or write it as JSON") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: a grid file holds a mapping of parameter name to values")
    return {str(k): v if isinstance(v, list) else [v] for k, v in data.items()}


def normalize(grid: dict) -> dict[str, list]:
    """Checks axis names and values; returns the grid with each axis a non-empty list."""
    if not isinstance(grid, dict):
        raise ParameterError(f"a grid is a mapping of parameter name to a list of values, got {type(grid).__name__}")
    out: dict[str, list] = {}
    seen: dict[str, str] = {}
    for name, values in grid.items():
        path = target(name)
        if path in seen:
            raise ParameterError(f"grid axes {seen[path]!r} and {name!r} both set {path}")
        seen[path] = name
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise ParameterError(f"grid axis {name!r} has no values")
        if name == "band":
            unknown = [v for v in values if v not in BANDS]
            if unknown:
                raise ParameterError(f"unknown band(s) {unknown}; known: {sorted(BANDS)}")
        if len(set(map(repr, values))) != len(values):
            raise ParameterError(f"grid axis {name!r} repeats a value: {values}")
        out[name] = values
    return out


def points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the axes' values, the first axis varying slowest."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*grid.values())]


def apply(point: dict, params: EmulationParams, image_size: int) -> tuple[EmulationParams, int]:
    """The parameters and image size of one grid point (validated)."""
    paths = {target(name): name for name in point}
    for name, value in point.items():
        path = target(name)
        if path == "image_size":
            image_size = value
            continue
        if name == "band":
            value = BANDS[value]
        if name == "channel":
            params = with_channels(params, value, point)
            continue
        if name == "building_concurrency":
            building_cap(point)
            continue
        params = _set(params, path.split("."), _frozen(value), name)
        if path in CHANNEL_FIELDS[1:]:        # channels per building mean shared air, as ``channel`` does
            params = dataclasses.replace(params, contention=True)
    if "ota.pair_order" in paths and "ota.ch_concurrency" not in paths:
        concurrency = 2 if params.ota.pair_order == "concurrent" else 1
        params = dataclasses.replace(params, ota=dataclasses.replace(params.ota, ch_concurrency=concurrency))
    try:
        params.validate(MAX_BLOCK)
    except ParameterError as exc:
        raise ParameterError(f"grid point {point}: {exc}") from None
    if not isinstance(image_size, int) or isinstance(image_size, bool) or not 0 < image_size < 2**32:
        raise ParameterError(f"grid point {point}: image_size must be a positive number of bytes, "
                             f"got {image_size!r}")
    return params, image_size


def building_cap(point: dict) -> int | None:
    """The grid point's cap on installations of one building downloading at once (None: no cap)."""
    cap = point.get("building_concurrency")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise ParameterError(f"grid point {point}: building_concurrency must be a whole number >= 1 or none, "
                             f"got {cap!r}")
    return cap


def with_channels(params: EmulationParams, channels, point: dict | None = None) -> EmulationParams:
    """``params`` with every building's installations sharing ``channels`` channels on each link (the HAN's
    2.4 GHz and the bridge link's sub-GHz), contention on. Needs the contention engine's fields."""
    where = f"grid point {point}: " if point is not None else ""
    if not set(CHANNEL_FIELDS) <= {f.name for f in dataclasses.fields(EmulationParams)}:
        raise ParameterError(f"{where}'channel' needs the contention engine (EmulationParams."
                             f"{', '.join(CHANNEL_FIELDS)}), which this build does not have")
    if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
        raise ParameterError(f"{where}channel must be a whole number of channels >= 1, got {channels!r}")
    return dataclasses.replace(params, contention=True, han_channels=channels, bridge_channels=channels)


def _set(obj, parts: list[str], value, name: str):
    head = parts[0]
    if len(parts) == 1:
        current = getattr(obj, head)
        if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        return dataclasses.replace(obj, **{head: value})
    child = getattr(obj, head)
    if child is None:
        raise ParameterError(f"cannot set {name!r}: {head} is None in the base parameters; give it a value "
                             "there first")
    return dataclasses.replace(obj, **{head: _set(child, parts[1:], value, name)})


def _frozen(value):
    """JSON lists -> tuples, as the frozen parameter dataclasses hold them (e.g. outage windows)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value
