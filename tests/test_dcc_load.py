"""`althan-ota dcc load` on a small fleet: the whole campaign through a real stand-in process and the load
test's own listener on 127.0.0.1; nothing lost, nothing twice."""

from __future__ import annotations

import subprocess
import sys

from cryptography import x509

from althan_ota.duis.trust import entity_id_of
from althan_ota.testing.duis_identities import write_test_identities


def test_load_on_2000_installations_loses_and_duplicates_nothing(tmp_path):
    # run outside the repository: the load test makes its own throwaway identities
    done = subprocess.run([sys.executable, "-m", "althan_ota", "dcc", "load", "--installations", "2000",
                           "--batch", "2000", "--workers", "1"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "lost 0, duplicated 0, refused 0" in lines
    received = next(line for line in lines if "alerts signed, delivered" in line)
    assert int(received.split()[0].replace(",", "")) > 2000 * 2      # every device hears at least one alert
    if sys.platform == "linux":
        # where the CPU went, per process group: each of them did part of the work
        cpu = next(line for line in lines if line.startswith("CPU per message: "))
        parts = dict(part.rsplit(" ", 2)[:2] for part in cpu.split(": ", 1)[1].split("; ")[0].split(", "))
        assert parts.keys() == {"stand-in main", "stand-in signing", "listener main", "listener verifying"}
        assert all(float(us) > 0 for us in parts.values()), cpu


def test_some_identity_flags_without_the_rest_are_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "althan_ota", "dcc", "load", "--installations", "10",
                           "--key", "dsp.key"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "give all of --certs" in done.stderr


def test_throwaway_identities_carry_their_eui64_as_smki_certificates_do(tmp_path):
    made = write_test_identities(tmp_path, "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02")
    assert [entity_id_of(x509.load_pem_x509_certificate(p.read_bytes())) for p in (made.user.cert, made.dsp.cert)] \
        == ["90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"]
    assert sorted(p.name for p in made.certs.iterdir()) == ["dsp.pem", "user.pem"]
