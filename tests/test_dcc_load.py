"""`althan-ota dcc load` on a small fleet: the whole campaign through a real stand-in process and the load
test's own listener on 127.0.0.1; nothing lost, nothing twice."""

from __future__ import annotations

import subprocess
import sys

from dcc_harness import REPO


def test_load_on_2000_installations_loses_and_duplicates_nothing():
    done = subprocess.run([sys.executable, "-m", "althan_ota", "dcc", "load", "--installations", "2000",
                           "--batch", "2000", "--workers", "1"], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "lost 0, duplicated 0, refused 0" in lines
    received = next(line for line in lines if "alerts signed, delivered" in line)
    assert int(received.split()[0].replace(",", "")) > 2000 * 2      # every device hears at least one alert
