"""CPU tier selection for every kernel family.

Each native module for a kernel family exposes ``tier_names()`` (index 0 is always ``"portable"``, the rest
are the faster tiers this CPU supports, best last), ``get_tier()`` and ``set_tier(name)``. On first use a
family gets its best tier, unless the environment variable ``ALTHAN_OTA_BACKEND`` says otherwise:

* ``ALTHAN_OTA_BACKEND=portable`` forces the portable C tier for every family;
* ``ALTHAN_OTA_BACKEND=crc=portable,ccm=aes-ni`` chooses per family (unnamed families get their best tier).
"""

from __future__ import annotations

import importlib
import os
import threading
from types import ModuleType

from .errors import BackendError

# family name -> native module implementing it
FAMILIES: dict[str, str] = {
    "aes": "althan_ota._native._aes",        # AES-128, AES-MMO and CCM* share one set of tiers
    "crc": "althan_ota._native._crc",
    "idtext": "althan_ota._native._idtext",  # identifiers in inventory listings, parsed and formatted
    "sha256": "althan_ota._native._sha256",
}

_loaded: dict[str, ModuleType] = {}
_lock = threading.Lock()
ENV_VAR = "ALTHAN_OTA_BACKEND"


def register(family: str, module: str) -> None:
    FAMILIES[family] = module


def _requested_tier(family: str) -> str | None:
    spec = os.environ.get(ENV_VAR, "").strip()
    if not spec or spec in ("auto", "best", "fast"):
        return None
    if "=" not in spec:
        return spec
    for part in spec.split(","):
        name, _, tier = part.partition("=")
        if name.strip() == family:
            return tier.strip()
    return None


def native(family: str) -> ModuleType:
    """Return the native module of a family, with its tier chosen (environment first, else the best)."""
    mod = _loaded.get(family)
    if mod is not None:
        return mod
    with _lock:
        mod = _loaded.get(family)
        if mod is None:
            try:
                mod = importlib.import_module(FAMILIES[family])
            except KeyError:
                raise BackendError(f"unknown kernel family {family!r}; known: {sorted(FAMILIES)}") from None
            wanted = _requested_tier(family)
            _set(mod, family, wanted if wanted is not None else mod.tier_names()[-1])
            _loaded[family] = mod
    return mod


def _set(mod: ModuleType, family: str, tier: str) -> None:
    names = list(mod.tier_names())
    if tier not in names:
        raise BackendError(
            f"{ENV_VAR} asks for tier {tier!r} of {family!r}, but this build and CPU offer {names}")
    mod.set_tier(tier)


def backend() -> dict[str, str]:
    """The tier in use for every kernel family, e.g. ``{"crc": "vpclmulqdq", "sha256": "sha-ni"}``."""
    return {family: native(family).get_tier() for family in FAMILIES}


def tiers() -> dict[str, list[str]]:
    """Every tier available per kernel family on this build and CPU, portable first."""
    return {family: list(native(family).tier_names()) for family in FAMILIES}


def set_backend(tier: str, family: str | None = None) -> None:
    """Force a tier for one family, or for all (``"best"`` restores each family's best tier)."""
    for name in ([family] if family else list(FAMILIES)):
        mod = native(name)
        _set(mod, name, mod.tier_names()[-1] if tier == "best" else tier)
