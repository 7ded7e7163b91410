"""One self-contained HTML page for people: the fleet's firmware, out-of-sync pairs, reconciliation and the
campaign views, with figures inline as SVG (no scripts, no external assets; it opens offline and prints)."""

from __future__ import annotations

import datetime as dt
import html
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .._files import replacing
from . import plots
from .building_sizes import non_empty
from .campaign_views import AIRTIME_LINKS, DEFAULT_VISIT_COST, campaign_views
from .out_of_sync import summarise

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #1f5f8b;padding-bottom:4px}
.meta{color:#5b6775;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:20px}.card span{color:#5b6775;font-size:12px}
figure{background:#fff;border:1px solid #dde2e8;border-radius:6px;margin:12px 0;padding:8px}
figure svg{max-width:100%;height:auto}
.scroll{overflow-x:auto}table{border-collapse:collapse;background:#fff;font-size:12px;margin:8px 0;width:100%}
th,td{border:1px solid #dde2e8;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.urgent{color:#b3261e;font-weight:600}.note{color:#5b6775;font-size:12px}
"""


def _cards(items: list[tuple[str, object]]) -> str:
    cells = "".join(f"<div class='card'><b>{html.escape(_num(v))}</b><span>{html.escape(k)}</span></div>"
                    for k, v in items)
    return f"<div class='cards'>{cells}</div>"


def _num(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if v % 1 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _table(table: pa.Table, limit: int = 50, caption: str | None = None) -> str:
    rows = table.slice(0, limit).to_pylist()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.column_names)
    body = []
    for row in rows:
        cells = []
        for c in table.column_names:
            v = row[c]
            klass = " class='n'" if isinstance(v, (int, float)) and not isinstance(v, bool) else \
                " class='urgent'" if v == "urgent" else ""
            cells.append(f"<td{klass}>{html.escape('' if v is None else _num(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>First {limit:,} of {table.num_rows:,} rows; the full table is in the CSV/Parquet/JSON " \
           f"output.</p>" if table.num_rows > limit else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<div class='scroll'><table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{more}"


def _figure(svg: str, caption: str = "") -> str:
    cap = f"<figcaption class='note'>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


class Figures:
    """Draws the page's figures on a second thread while this one runs the next section's queries: drawing
    is Python under the GIL (seconds for the page, whatever the fleet's size), DuckDB releases the GIL while
    it works, so the two overlap. One drawing thread: matplotlib objects are never shared between threads,
    and a section built on another thread (``campaign_section``) hands its figures to the same one."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="html-figures")

    def figure(self, draw, *args, caption: str = "") -> Future:
        """A placeholder for ``_figure(draw(*args), caption)`` in the page's parts."""
        return self._pool.submit(lambda: _figure(draw(*args), caption))

    def __enter__(self) -> "Figures":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)


def render_html(session, *, compatibility=None, reconciliation=None, campaign_id: str | None = None,
                visit_cost: float = DEFAULT_VISIT_COST, programme=None,
                title: str = "Alt HAN fleet firmware report", campaign=None, figures: Figures | None = None) -> str:
    """``programme``: a report.programme.Programme, shown as the programme section when given.
    ``campaign``: the campaign section already built or under way (``campaign_section``'s parts, or a Future
    of them), e.g. on another thread while the other reports ran; by default it is built here from the
    session's store. ``figures``: the drawing thread to use (the one the campaign section drew on); by
    default the page starts its own."""
    with ExitStack() as stack:
        if figures is None:
            figures = stack.enter_context(Figures())
        parts = _sections(session, figures, compatibility=compatibility, reconciliation=reconciliation,
                          campaign_id=campaign_id, visit_cost=visit_cost, programme=programme, title=title,
                          campaign=campaign)
        body = _text(parts)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><main>{body}</main></body></html>")


def _text(part) -> str:
    """A part of the page as HTML: text as it is, a Future (a figure being drawn, a section being built) when
    it is done, a list of parts in order."""
    if isinstance(part, Future):
        part = part.result()
    if isinstance(part, str):
        return part
    return "".join(_text(p) for p in part)


def _sections(session, figures: Figures, *, compatibility, reconciliation, campaign_id, visit_cost, programme,
              title, campaign=None) -> list:
    """The page's parts in order: HTML text, a figure still being drawn, or the campaign section."""
    overview = session.fleet_overview()
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Generated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by althan-ota"
             + (f" · campaign store {html.escape(str(session.store.path))}" if session.store else "") + "</p>"]

    parts += ["<h2>Fleet firmware</h2>", _cards(overview["cards"])]
    by_version = overview["by_version"]
    if by_version.num_rows:
        parts.append(figures.figure(plots.versions_by_model, by_version.slice(0, 24),
                                    caption="Devices per model and running firmware version (largest 24 groups)."))
    parts.append(_table(overview["by_supplier"], caption="Bridges per supplier and manufacturer"))

    pairs = session.out_of_sync(compatibility)
    summary = summarise(pairs)
    parts += ["<h2>Out-of-sync pairs</h2>",
              _cards([("pairs out of sync", summary["pairs"])] + [(f"{k}", v) for k, v in summary["urgency"].items()]),
              "<p class='note'>Installations whose hub-side and meter-side bridges run different firmware. "
              "Urgent: the release's compatibility table marks the pair incompatible; benign: compatible; "
              "unknown: not listed" + ("" if compatibility is not None else " (no compatibility table given)") + ".</p>"]
    if summary["pairs"]:
        parts.append(figures.figure(plots.horizontal_bars, list(summary["cause"]), list(summary["cause"].values()),
                                    "Out-of-sync pairs by likely cause", "pairs"))
        parts.append(_table(pairs.select(["installation_id", "supplier", "hub_version", "meter_version", "urgency",
                                          "side", "cause", "next_action"]), limit=25))

    if reconciliation is not None:
        rs = reconciliation.summary()
        parts += ["<h2>Reconciliation with the Alt HAN Inventory</h2>",
                  _cards([("devices", rs["devices"])] + list(rs["class"].items())
                         + [(f"AHI {k}", v) for k, v in rs["ahi_updates"].items()]),
                  f"<p class='note'>Stale: last confirmed more than {rs['stale_days']} days before "
                  f"{rs['as_of'][:10]}. Sources: DCC report {html.escape(rs['sources']['dcc'])}; "
                  f"{len(rs['sources']['suppliers'])} supplier report(s); AHI {html.escape(rs['sources']['ahi'])}.</p>",
                  figures.figure(plots.horizontal_bars, list(rs["class"]), list(rs["class"].values()),
                                 "Devices per reconciliation class", "devices")]
        problems = reconciliation.devices.filter(pc.not_equal(reconciliation.devices["class"], "agree"))
        parts.append(_table(problems.select(["device_id", "class", "issues", "missing_from", "dcc_version",
                                             "supplier_version", "ahi_version", "dcc_status", "ahi_status",
                                             "days_since_confirmed"]), limit=25, caption="Devices that do not agree"))
        parts.append(_table(reconciliation.updates.select(["device_id", "action", "reason"]), limit=25,
                            caption="Proposed AHI updates"))

    if campaign is not None:
        parts.append(campaign)
    elif session.store is not None:
        parts += campaign_section(session.store, campaign_id, visit_cost=visit_cost, fleet=session.fleet,
                                  figures=figures)
    if programme is not None:
        parts += _programme_section(programme, figures)
    return parts


def campaign_section(store, campaign_id: str | None = None, *, visit_cost: float = DEFAULT_VISIT_COST, fleet=None,
                     figures: Figures) -> list:
    """The page's campaign section for ``campaign_id`` of ``store`` (a report Store; by default its latest
    campaign): its parts in order, HTML text or figures being drawn on ``figures``. It reads the store only
    (and the fleet's building references: ``fleet`` as campaign_views takes it), so it can be built on
    another connection while the fleet's reports run."""
    views = campaign_views(store, campaign_id, visit_cost=visit_cost, fleet=fleet)
    s = views.summary
    visits = s["site_visits"]
    parts = [f"<h2>Campaign {html.escape(s['campaign_id'])}: {html.escape(s['name'] or '')}</h2>",
             _cards([("status", s["status"]), ("target", s["target_version"]), ("devices", s["devices"]),
                     ("verified", s["verified"]), ("in progress", s["in_progress"]), ("failed", s["failed"]),
                     ("not eligible", s["not_eligible"]), ("site visits avoided", visits["avoided"]),
                     (f"cost avoided (£{visit_cost:,.0f}/visit)", f"£{visits['cost_avoided']:,.0f}"),
                     ("visits still needed", visits["still_needed"])])]
    if not s["devices"]:
        parts.append("<p class='note'>No devices in this campaign yet.</p>")
    else:
        airtime = views.airtime.filter(pc.is_in(views.airtime["link"], pa.array([k for k, _ in AIRTIME_LINKS])))
        parts += [figures.figure(plots.before_after, views.versions),
                  figures.figure(plots.progress, views.progress),
                  figures.figure(plots.completion, views.completion, s["completion_s"]),
                  figures.figure(plots.airtime, airtime),
                  _table(views.airtime, caption="Airtime per link, seconds per device")]
        by_size = non_empty(views.buildings)
        if by_size.num_rows:
            parts += [figures.figure(plots.building_completion, by_size,
                                     caption="Buildings by how many installations the campaign requested in "
                                             "them: time from a building's first request to its last device's "
                                             "final state."),
                      _table(by_size, caption="Completion time by building size (seconds)")]
    if views.failures.num_rows:
        labels = [f"{r['state']}: {r['reason']}" for r in views.failures.to_pylist()]
        parts.append(figures.figure(plots.horizontal_bars, labels, views.failures["devices"].to_pylist(),
                                    "Devices that did not upgrade, by end state and reason", "devices",
                                    plots._PALETTE[3]))
    return parts


def _programme_section(programme, figures: Figures) -> list:
    s = programme.summary
    parts = ["<h2>Programme</h2>",
             _cards([("campaigns", s["campaigns"]), ("stores", len(s["stores"])), ("devices targeted", s["targeted"]),
                     ("verified", s["verified"]), ("failed", s["failed"]), ("in progress", s["in_progress"]),
                     ("site visits avoided", s["visits_avoided"]),
                     (f"cost avoided (£{s['visit_cost']:,.0f}/visit)", f"£{s['cost_avoided']:,.0f}"),
                     ("devices that changed supplier", s["supplier_changes"]),
                     ("withdrawn (left the plan's scope)", s["withdrawn"])]),
             "<p class='note'>Every campaign of the stores, per energy supplier, model and month; site visits one "
             "per premises per campaign. A device that changed supplier counts under its new supplier.</p>"]
    suppliers = programme.suppliers
    if suppliers.num_rows:
        parts.append(figures.figure(plots.horizontal_bars, suppliers["supplier"].to_pylist(),
                                    suppliers["visits_avoided"].to_pylist(), "Site visits avoided per supplier",
                                    "visits"))
    columns = ["targeted", "verified", "in_progress", "failed", "withdrawn", "visits_avoided", "visits_still_needed",
               "cost_avoided"]
    parts.append(_table(suppliers.select(["supplier", *columns]), caption="Per supplier"))
    parts.append(_table(programme.models.select(["manufacturer", "model", *columns]), caption="Per manufacturer and model"))
    parts.append(_table(programme.months.select(["month", *columns]), caption="Per month"))
    if programme.quota_days.num_rows:
        parts.append(_table(programme.quota_use(), caption="SRV 11.4 requests per campaign and requesting supplier: "
                                                          "the busiest day against each supplier quota"))
    if programme.supplier_changes.num_rows:
        parts.append(_table(programme.supplier_changes, limit=25, caption="Devices that changed supplier (requested_by: "
                                                                          "the supplier its requests were charged to)"))
    if programme.withdrawn.num_rows:
        parts.append(_table(programme.withdrawn, limit=25, caption="Devices a resumed run withdrew because they left "
                                                                   "the plan's scope (reason: supplier_changed or "
                                                                   "left_targets)"))
    return parts


def write_html(path: str | Path, session, **options) -> Path:
    path = Path(path)
    page = render_html(session, **options)
    with replacing(path) as partial:
        partial.write_text(page, encoding="utf-8")
    return path
