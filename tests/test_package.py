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
    for family in _backend.families():
        with pytest.raises(BackendError, match="offer"):
            althan_ota.set_backend("no-such-tier", family)


def test_errors_inherit_builtins():
    assert issubclass(ImageFormatError, AltHanError) and issubclass(ImageFormatError, ValueError)


def test_every_extension_shares_one_c_core():
    """Tier choices live in one shared library, so a tier set through one family's module is the tier every
    other extension (frames, emulator, ...) calls into."""
    import ctypes
    import pathlib

    import althan_ota._native as native_pkg

    libs = list(pathlib.Path(native_pkg.__file__).parent.glob("libalthan_ota_core*.so*"))
    if not libs:  # editable installs keep the library in the build tree
        from althan_ota._native import _aes
        libs = [pathlib.Path(_aes.__file__).parent / "libalthan_ota_core.so"]
    core = ctypes.CDLL(str(libs[0]))
    before = althan_ota.backend()["aes"]
    try:
        for tier in althan_ota.tiers()["aes"]:
            althan_ota.set_backend(tier, "aes")
            assert core.alt_tiers_get(_backend.families().index("aes")) == althan_ota.tiers()["aes"].index(tier)
    finally:
        althan_ota.set_backend(before, "aes")


def test_domain_packages_do_not_import_the_test_fixtures():
    """althan_ota.testing (fixtures, the SimPy reference) serves the demo, the benchmarks and the tests; the
    domain packages must not depend on it."""
    import ast
    import pathlib

    root = pathlib.Path(althan_ota.__file__).parent
    allowed = {"cli", "bench", "testing"}
    offenders = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in allowed:
            continue
        package = ["althan_ota", *parts[:-1]]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                names = [".".join(base + ([node.module] if node.module else []))]
                names += [f"{names[0]}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n == "althan_ota.testing" or n.startswith("althan_ota.testing.") for n in names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not offenders
