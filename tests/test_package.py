import subprocess
import sys

import pytest

import althan_ota
from althan_ota import _backend
from althan_ota.errors import AltHanError, BackendError, ImageFormatError


def test_version_and_cli_entry():
    out = subprocess.run([sys.executable, "-m", "althan_ota", "--version"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == f"althan-ota {althan_ota.__version__}"


def test_cpu_features_are_consistent():
    f = althan_ota.cpu_features()
    # 256-bit VAES / VPCLMULQDQ are only reported when AVX2 state is usable
    assert not f["vaes"] or f["avx2"]
    assert not f["vpclmulqdq"] or f["avx2"]


def test_every_family_offers_portable_first():
    for family, names in althan_ota.tiers().items():
        assert names[0] == "portable", family
        assert althan_ota.backend()[family] in names


def test_unknown_tier_is_a_clear_error():
    for family in _backend.FAMILIES:
        with pytest.raises(BackendError, match="offer"):
            althan_ota.set_backend("no-such-tier", family)


def test_errors_inherit_builtins():
    assert issubclass(ImageFormatError, AltHanError) and issubclass(ImageFormatError, ValueError)
