"""The HTML report's figures, drawn with matplotlib's object API (no pyplot, no global backend state) and
returned as inline SVG text."""

from __future__ import annotations

import io
import re

import numpy as np
import pyarrow as pa

_PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c",
            "#ccb974", "#64b5cd", "#4c72b0", "#55a868", "#dd8452"]


def _figure(width: float = 7.5, height: float = 3.4):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=96, layout="constrained")
    return fig, fig.subplots()


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]          # drop the XML prolog and DOCTYPE: the SVG goes inline


def warm_up() -> None:
    """Import matplotlib and draw one small figure, discarded: a second of imports and font loading that the
    page's first figure would otherwise pay. The demo runs it on an idle thread while the campaign runs."""
    horizontal_bars(["warm-up"], [1], "warm-up", "")


def _style(ax, title: str, xlabel: str = "", ylabel: str = "") -> None:
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x" if ax.get_xlabel() and not ylabel else "y", alpha=0.3)


def horizontal_bars(labels: list[str], values: list[float], title: str, xlabel: str,
                    colors: list[str] | None = None) -> str:
    fig, ax = _figure(7.5, max(1.6, 0.32 * len(labels) + 0.9))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=colors or _PALETTE[0])
    ax.set_yticks(y, [_short(label) for label in labels], fontsize=8)
    for yi, v in zip(y, values):
        ax.annotate(f"{v:,.0f}", (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    _style(ax, title, xlabel)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def versions_by_model(counts: pa.Table) -> str:
    """counts: model, firmware_version, devices."""
    rows = counts.to_pylist()
    labels = [f"{r['model']}  {r['firmware_version']}" for r in rows]
    models = sorted({r["model"] for r in rows})
    colors = [_PALETTE[models.index(r["model"]) % len(_PALETTE)] for r in rows]
    return horizontal_bars(labels, [r["devices"] for r in rows], "Running firmware by model", "devices", colors)


def before_after(versions: pa.Table) -> str:
    rows = versions.to_pylist()
    fig, ax = _figure()
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["before"] for r in rows], 0.4, label="before", color=_PALETTE[7])
    ax.bar(x + 0.2, [r["after"] for r in rows], 0.4, label="after", color=_PALETTE[0])
    ax.set_xticks(x, [r["version"] for r in rows], fontsize=8)
    ax.legend(frameon=False)
    _style(ax, "Firmware versions before and after the campaign", "version", "devices")
    return _svg(fig)


def progress(table: pa.Table) -> str:
    """table: t_s, state, devices (long format)."""
    states = list(dict.fromkeys(table["state"].to_pylist()))
    t = np.asarray(table["t_s"].to_numpy(), dtype=float).reshape(-1, len(states))[:, 0] / 3600
    counts = np.asarray(table["devices"].to_numpy(), dtype=float).reshape(-1, len(states)).T
    fig, ax = _figure(7.5, 3.8)
    ax.stackplot(t, counts, labels=states, colors=[_PALETTE[i % len(_PALETTE)] for i in range(len(states))])
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, frameon=False)
    ax.set_xlim(0, t[-1] if len(t) else 1)
    _style(ax, "Devices per state over time", "hours since the campaign started", "devices")
    return _svg(fig)


def completion(histogram: pa.Table, quantiles: dict) -> str:
    lower = np.asarray(histogram["lower_s"].to_numpy(), dtype=float) / 3600
    upper = np.asarray(histogram["upper_s"].to_numpy(), dtype=float) / 3600
    fig, ax = _figure()
    ax.bar(lower, histogram["devices"].to_numpy(), width=upper - lower, align="edge", color=_PALETTE[0])
    for name, color in (("p50", _PALETTE[1]), ("p90", _PALETTE[3])):
        if quantiles.get(name) is not None:
            ax.axvline(quantiles[name] / 3600, color=color, linestyle="--", label=f"{name} {quantiles[name] / 3600:.1f} h")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _style(ax, "Time to verified", "hours since the campaign started", "devices")
    return _svg(fig)


def airtime(table: pa.Table) -> str:
    """Total hours per link, one bar group per PPMID variant."""
    rows = table.to_pylist()
    links = list(dict.fromkeys(r["link"] for r in rows))
    variants = list(dict.fromkeys(r["ppmid_variant"] for r in rows))
    fig, ax = _figure()
    x = np.arange(len(links))
    width = 0.8 / max(1, len(variants))
    for k, variant in enumerate(variants):
        total = {r["link"]: r["total_s"] / 3600 for r in rows if r["ppmid_variant"] == variant}
        ax.bar(x + (k - (len(variants) - 1) / 2) * width, [total.get(link, 0) for link in links], width,
               label=variant, color=_PALETTE[k % len(_PALETTE)])
    ax.set_xticks(x, links, fontsize=8)
    ax.legend(frameon=False)
    _style(ax, "Airtime per link, and time spent waiting for the bridge link's duty cycle (all devices)", "",
           "hours")
    return _svg(fig)


def building_completion(table: pa.Table) -> str:
    """table: building_size, median_s, p90_s, max_s (completed buildings per size bucket)."""
    rows = table.to_pylist()
    fig, ax = _figure()
    x = np.arange(len(rows))
    for k, (name, label) in enumerate((("median_s", "median"), ("p90_s", "p90"), ("max_s", "max"))):
        hours = [np.nan if r[name] is None else r[name] / 3600 for r in rows]
        ax.bar(x + (k - 1) * 0.27, hours, 0.27, label=label, color=_PALETTE[k])
    ax.set_xticks(x, [r["building_size"] for r in rows], fontsize=8)
    ax.legend(frameon=False)
    _style(ax, "Building completion time by building size", "installations in the building", "hours")
    return _svg(fig)


def _short(text: str, width: int = 60) -> str:
    text = re.sub(r"\s+", " ", str(text))
    return text if len(text) <= width else text[:width - 1] + "…"
