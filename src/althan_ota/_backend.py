"""CPU tier selection for every kernel family.

The families ("aes", "crc", "idtext", "sha256") and their tiers are defined once, in the C core's registry
(csrc/tiers.h); tier 0 is always ``"portable"``, the rest are the faster tiers this build and CPU support, best
last. When the core loads (the first import of ``althan_ota._native``) every family gets its best tier, unless
the environment variable ``ALTHAN_OTA_BACKEND`` says otherwise:

* ``ALTHAN_OTA_BACKEND=portable`` forces the portable C tier for every family;
* ``ALTHAN_OTA_BACKEND=crc=portable,aes=aes-ni`` chooses per family (unnamed families get their best tier).

The choice lives in the shared C core, so C calling C (the emulator's byte pass calling SHA-256, CCM* and the
CRC) honours it as well. Importing ``althan_ota`` itself does not load the core.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def _tiers() -> ModuleType:
    from ._native import _tiers

    return _tiers


def families() -> tuple[str, ...]:
    """The kernel families, as the C core lists them."""
    return _tiers().FAMILIES


def native(family: str) -> ModuleType:
    """The native module of a kernel family (``althan_ota._native._<family>``), on the tier the policy chose."""
    if family not in families():
        from .errors import BackendError

        raise BackendError(f"unknown kernel family {family!r}; known: {list(families())}")
    return importlib.import_module(f"{__package__}._native._{family}")


def backend() -> dict[str, str]:
    """The tier in use for every kernel family, e.g. ``{"crc": "vpclmulqdq", "sha256": "sha-ni"}``."""
    tiers = _tiers()
    return {family: tiers.get_tier(family) for family in tiers.FAMILIES}


def tiers() -> dict[str, list[str]]:
    """Every tier available per kernel family on this build and CPU, portable first."""
    tiers = _tiers()
    return {family: list(tiers.tier_names(family)) for family in tiers.FAMILIES}


def set_backend(tier: str, family: str | None = None) -> None:
    """Force a tier for one family, or for all (``"best"`` restores each family's best tier)."""
    tiers = _tiers()
    for name in [family] if family else tiers.FAMILIES:
        tiers.set_tier(name, tier)
