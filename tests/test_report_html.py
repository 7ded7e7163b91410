"""The HTML report opened in a real headless Chromium: it renders, with its figures, and is not blank."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import numpy as np
import pytest

from althan_ota.errors import InventoryError
from althan_ota.fleet import generate_fleet
from althan_ota.report import Session, reconcile
from althan_ota.report.html import render_html, write_html
from althan_ota.testing.campaign_history import write_sample_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium is not installed")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    fleet = generate_fleet(600, seed=4)
    store = tmp / "store.duckdb"
    write_sample_store(store, fleet, seed=4, snapshot_s=40 * 3600)
    session = Session(fleet, store=store, extract_date=dt.date(2026, 1, 15))
    report = session.fleet_report()
    result = reconcile(report, report.slice(10), stale_days=365, as_of=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc))
    return write_html(tmp / "report.html", session, reconciliation=result), tmp


def _chromium(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                           "--user-data-dir=" + str(args[0]), *args[1:]],
                          capture_output=True, text=True, timeout=timeout, check=True)


def test_page_is_self_contained(page):
    text = page[0].read_text()
    assert text.count("<svg") == 9           # fleet, out-of-sync, reconciliation and six campaign figures
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text)
    assert "<script" not in text
    for heading in ("Fleet firmware", "Out-of-sync pairs", "Reconciliation with the Alt HAN Inventory", "Campaign C-0001"):
        assert heading in text


def test_without_store_or_ahi_only_the_fleet_sections():
    text = render_html(Session(generate_fleet(200, seed=1)))
    assert "Out-of-sync pairs" in text and "Campaign" not in text and "Reconciliation" not in text
    assert text.count("<svg") == 2


@needs_chromium
def test_chromium_renders_the_figures(page):
    path, tmp = page
    dom = _chromium(tmp / "profile-dom", "--dump-dom", path.as_uri()).stdout
    assert dom.count("<svg") == 9
    assert len(re.findall(r"<path\b", dom)) > 100         # the figures' drawing reached the DOM
    assert "Devices per state over time" in dom or "Devices per state over time" in path.read_text()


@needs_chromium
def test_chromium_screenshot_is_not_blank(page):
    import matplotlib.image

    path, tmp = page
    shot = tmp / "shot.png"
    _chromium(tmp / "profile-shot", "--window-size=1200,2400", f"--screenshot={shot}", path.as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1200)
    # a rendered page has text, bars and background: many distinct colours and real contrast
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    assert pixels.std() > 0.05
    # the figures' blue bars are drawn (the palette's first colour, #1f5f8b)
    blue = np.all(np.abs(pixels - np.array([0x1F, 0x5F, 0x8B]) / 255) < 0.02, axis=-1)
    assert blue.sum() > 2000


def test_campaign_without_devices_yet(tmp_path):
    from report_data import campaign_row, make_fleet, write_store

    from althan_ota.report import open_store
    from althan_ota.report.campaign_views import campaign_views

    store = tmp_path / "planned.duckdb"
    write_store(store, [campaign_row("C0", 0x01000100, status="planned")], [])
    views = campaign_views(open_store(store))
    assert views.summary["devices"] == 0 and views.summary["completion_s"]["devices"] == 0
    assert views.progress.num_rows == 0 and views.failures.num_rows == 0
    text = render_html(Session(make_fleet({"A": {}}), store=store))
    assert "No devices in this campaign yet" in text and text.count("<svg") == 1


def test_a_campaign_section_built_on_another_thread_gives_the_same_page(tmp_path):
    """What the demo does: the campaign section over its own connection on a second thread, drawn on the
    page's drawing thread, handed to the page as a Future; the page is the one built in line (but for
    matplotlib's random element ids and the generation minute)."""
    from concurrent.futures import ThreadPoolExecutor

    from althan_ota.report.html import Figures, campaign_section
    from althan_ota.report.store_reader import open_store

    fleet = generate_fleet(300, seed=5)
    store = tmp_path / "store.duckdb"
    write_sample_store(store, fleet, seed=5, snapshot_s=30 * 3600)

    def normalised(page: str) -> str:
        page = re.sub(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "Generated X", page)
        return re.sub(r"(id=\"|url\(#|href=\"#)[A-Za-z0-9_]+", r"\1ID", page)

    in_line = render_html(Session(fleet, store=store))
    with Figures() as figures, ThreadPoolExecutor(1) as beside:
        section = beside.submit(lambda: campaign_section(open_store(store), fleet=fleet, figures=figures))
        handed = render_html(Session(fleet, store=store), campaign=section, figures=figures)
    assert "Campaign C-0001" in handed and handed.count("<svg") == in_line.count("<svg") >= 6
    assert normalised(handed) == normalised(in_line)
    # an error while building the section comes out of the page, not lost on the other thread
    with Figures() as figures, ThreadPoolExecutor(1) as beside:
        failing = beside.submit(lambda: campaign_section(open_store(store), "nope", figures=figures))
        with pytest.raises(InventoryError, match="no campaign 'nope'"):
            render_html(Session(fleet, store=store), campaign=failing, figures=figures)
