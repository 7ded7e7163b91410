"""Shared set-up of the tests (tests/) and the pytest-benchmark files (bench/).

A test or benchmark that takes an argument named ``<family>_tier`` (``crc_tier``, ``sha256_tier``, ``aes_tier``,
``ccm_tier``, ...) runs once per CPU tier of that kernel family, with that tier forced for its duration.
When ALTHAN_OTA_BACKEND pins the tiers (CI's portable run), only the pinned tier is used.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from althan_ota import _backend
from althan_ota._native import _tiers

# Timing is not what these tests check, and CI shares two cores: no per-example deadline anywhere.
settings.register_profile("althan-ota", deadline=None)
settings.load_profile("althan-ota")


def _tiers_for(family: str) -> list[str]:
    if os.environ.get(_tiers.ENV_VAR, "").strip() not in _tiers.BEST:
        return [_tiers.get_tier(family)]
    return _backend.tiers()[family]


def pytest_generate_tests(metafunc):
    for name in metafunc.fixturenames:
        if name.endswith("_tier") and name[: -len("_tier")] in _tiers.FAMILIES:
            metafunc.parametrize(name, _tiers_for(name[: -len("_tier")]))


@pytest.fixture(autouse=True)
def _force_tiers(request):
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    forced = {k[: -len("_tier")]: v for k, v in params.items()
              if k.endswith("_tier") and k[: -len("_tier")] in _tiers.FAMILIES}
    before = {family: _tiers.get_tier(family) for family in forced}
    for family, tier in forced.items():
        _backend.set_backend(tier, family)
    yield
    for family, tier in before.items():
        _backend.set_backend(tier, family)
