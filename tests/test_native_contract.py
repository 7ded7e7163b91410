"""The contract between the C core and Python (src/althan_ota/_native): every native module has a stub whose
public names are exactly the module's; every C status has its errors.py exception; the emulator's outcomes
come from the C enum; and the tier policy (ALTHAN_OTA_BACKEND) reaches every kernel family when the core loads,
checked from C: the core records which tier each family's dispatch handed out."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import althan_ota
from althan_ota import ccm
from althan_ota._native import _emu, _status, _tiers
from althan_ota.emulate import OUTCOMES, emulate
from althan_ota.errors import BackendError, InvalidTag, ParameterError

NATIVE = Path(althan_ota.__file__).parent / "_native"
MODULES = sorted({p.stem for p in NATIVE.glob("_*.pyx")} | {p.stem for p in NATIVE.glob("_*.pyi")})


def stub_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def runtime_names(mod: types.ModuleType) -> set[str]:
    """Public names the module defines: not its imports (modules, and classes or functions from elsewhere)."""
    names = set()
    for name in dir(mod):
        value = getattr(mod, name)
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if (isinstance(value, type) or callable(value)) and getattr(value, "__module__", None) != mod.__name__:
            continue
        names.add(name)
    return names


def test_there_are_native_modules_to_check():
    assert {"_aes", "_crc", "_emu", "_status", "_tiers"} <= set(MODULES)
    assert (NATIVE.parent / "py.typed").is_file()


@pytest.mark.parametrize("name", MODULES)
def test_stub_lists_exactly_what_the_module_exports(name):
    stub = NATIVE / f"{name}.pyi"
    assert stub.is_file(), f"{name}.pyx has no stub {stub.name}"
    mod = importlib.import_module(f"althan_ota._native.{name}")
    assert stub_names(stub) == runtime_names(mod)


def test_every_c_status_has_an_exception():
    statuses = _status.statuses()
    assert set(statuses.values()) == set(_status.EXCEPTIONS)
    assert statuses[-6] == "ALT_EINTR" and _status.EXCEPTIONS["ALT_EINTR"] is KeyboardInterrupt


def test_statuses_raise_their_exceptions():
    key, nonce = bytes(16), bytes(13)
    sealed = ccm.encrypt(key, nonce, b"payload", b"", 4)
    with pytest.raises(InvalidTag, match="does not verify"):                        # ALT_EAUTH
        ccm.decrypt(key, nonce, sealed[:-1] + bytes([sealed[-1] ^ 1]), b"", 4)
    with pytest.raises(ParameterError, match="nonce"):                              # ALT_EINVAL
        ccm.encrypt(key, bytes(6), b"payload", b"", 4)
    with pytest.raises(ParameterError, match="shorter than 2\\*\\*16"):            # ALT_ERANGE
        ccm.encrypt(key, bytes(13), bytes(1 << 16), b"", 4)


def test_outcomes_are_the_c_enum():
    assert OUTCOMES is _emu.OUTCOMES
    assert OUTCOMES == ("completed", "aborted", "wan_failed", "activation_failed", "timeout", "not_requested",
                        "hash_failure")


def test_policy_spellings():
    assert _tiers.requested("") == dict.fromkeys(_tiers.FAMILIES)
    assert _tiers.requested("portable") == dict.fromkeys(_tiers.FAMILIES, "portable")
    assert _tiers.requested(" crc = portable , aes=best") == {**dict.fromkeys(_tiers.FAMILIES), "crc": "portable"}
    with pytest.raises(BackendError, match="'sha'"):
        _tiers.requested("sha=portable")     # a typo must not leave SHA-256 on its best tier unnoticed


def run_python(code: str, backend: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != _tiers.ENV_VAR}
    if backend is not None:
        env[_tiers.ENV_VAR] = backend
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_bad_policy_fails_when_the_core_loads_but_not_before():
    out = run_python("import althan_ota._native", "crc=no-such-tier")
    assert out.returncode != 0 and "BackendError" in out.stderr and "no-such-tier" in out.stderr
    out = run_python("import althan_ota; print(althan_ota.__version__)", "crc=no-such-tier")
    assert out.returncode == 0, out.stderr


# A bytes-fidelity emulation (the byte pass calls SHA-256, CCM* and the CRC from C, never through Python), an
# emulated capture, and an identifier column: between them every kernel family runs. The tiers they ran on are
# read back from the C core's record.
EVERY_FAMILY = """
    import json
    import numpy as np
    from althan_ota import capture
    from althan_ota._native import _tiers
    from althan_ota.emulate import emulate
    from althan_ota.fleet import ids

    chosen = {family: _tiers.get_tier(family) for family in _tiers.FAMILIES}
    _tiers.reset_used()
    image = np.random.default_rng(1).integers(0, 256, 3_000, dtype=np.uint8).tobytes()
    emulate(6, params=None, seed=2, fidelity="bytes", image=image, n_threads=2)
    capture.emulated_capture(image, [1, 4], seed=2)
    ids.parse_eui64(["00-0D-6F-00-00-00-00-01", "00-0D-6F-00-00-00-00-02"])
    print(json.dumps({"chosen": chosen, "used": {f: _tiers.used(f) for f in _tiers.FAMILIES}}))
"""


def tiers_run(backend: str | None) -> dict:
    out = run_python(EVERY_FAMILY, backend)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_portable_policy_reaches_every_family_from_c():
    got = tiers_run("portable")
    assert got["chosen"] == dict.fromkeys(_tiers.FAMILIES, "portable")
    assert got["used"] == {family: ["portable"] for family in _tiers.FAMILIES}


def test_best_tiers_run_without_a_policy():
    """The same run with no policy: every family runs on its best tier only (on a CPU with faster tiers this
    is not "portable", so the record above is not a foregone conclusion)."""
    got = tiers_run(None)
    best = {family: names[-1] for family, names in althan_ota.tiers().items()}
    assert got["used"] == {family: [best[family]] for family in _tiers.FAMILIES}


def test_per_family_policy():
    got = tiers_run("crc=portable")
    best = {family: names[-1] for family, names in althan_ota.tiers().items()}
    assert got["used"] == {**{family: [best[family]] for family in _tiers.FAMILIES}, "crc": ["portable"]}
