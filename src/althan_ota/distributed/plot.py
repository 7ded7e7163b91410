"""A sweep's metric against one swept parameter, with confidence-interval bars (matplotlib, no pyplot)."""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import ParameterError
from .run_summary import METRICS

PLOT_FORMATS = (".png", ".svg", ".pdf")


def plot_points(result, path: str | Path, metric: str = "completion_p90_s", x: str | None = None) -> None:
    """One line per combination of the other axes; times in hours."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ParameterError("plotting needs matplotlib: pip install matplotlib") from exc
    path = Path(path)
    if path.suffix.lower() not in PLOT_FORMATS:
        raise ParameterError(f"cannot tell the image format of {str(path)!r}: use one of {PLOT_FORMATS}")
    if metric not in METRICS:
        raise ParameterError(f"unknown metric {metric!r}; known: {list(METRICS)}")
    axes = result.axes
    if not axes:
        raise ParameterError("the sweep has no grid axis to plot against")
    if x is None:
        x = next((a for a in axes if len(result.meta["grid"][a]) > 1), axes[0])
    if x not in axes:
        raise ParameterError(f"{x!r} is not an axis of this sweep; axes: {axes}")
    rows = result.points.to_pylist()
    scale, unit = (3600.0, " (hours)") if metric.endswith("_s") else (1.0, "")
    others = [a for a in axes if a != x]
    xs_all = result.meta["grid"][x]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs_all)
    position = {v: (v if numeric else i) for i, v in enumerate(xs_all)}

    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    lines: dict[tuple, list[dict]] = {}
    for row in rows:
        lines.setdefault(tuple(row[a] for a in others), []).append(row)
    for key, line in lines.items():
        line.sort(key=lambda r: position[r[x]])
        mean = [r[f"{metric}_mean"] / scale for r in line]
        low = [_gap(r[f"{metric}_mean"], r[f"{metric}_ci_low"]) / scale for r in line]
        high = [_gap(r[f"{metric}_ci_high"], r[f"{metric}_mean"]) / scale for r in line]
        label = ", ".join(f"{a}={v}" for a, v in zip(others, key)) or None
        ax.errorbar([position[r[x]] for r in line], mean, yerr=[low, high], marker="o", capsize=4, label=label)
    if not numeric:
        ax.set_xticks(range(len(xs_all)), [str(v) for v in xs_all])
    confidence = result.meta.get("confidence", 0.95)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{metric}{unit}")
    ax.set_title(f"{metric}: mean over {len(result.meta['seeds'])} seeds, {confidence:.0%} CI")
    ax.grid(True, alpha=0.3)
    if len(lines) > 1:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)


def _gap(a: float, b: float) -> float:
    """Length of an error bar; none where the interval is undefined (a single seed)."""
    d = a - b
    return 0.0 if math.isnan(d) else d
