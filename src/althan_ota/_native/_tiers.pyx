# cython: language_level=3
"""Every kernel family's CPU tiers (csrc/tiers.h), written once for all families, and the tier policy.

The families and their tiers come from the C registry: "portable" first, the best last. Importing
althan_ota._native applies the policy once, before any kernel runs (apply_policy): each family gets its best
tier unless the environment variable ALTHAN_OTA_BACKEND says otherwise. The choice is made in the shared C
core, so C calling C (the emulator's byte pass calling SHA-256, CCM* and the CRC) runs on it too.
"""

import os

from .tiers cimport (ALT_FAMILY_COUNT, alt_tiers_count, alt_tiers_family_name, alt_tiers_get, alt_tiers_name,
                     alt_tiers_reset_used, alt_tiers_set, alt_tiers_used)

from ..errors import BackendError

ENV_VAR = "ALTHAN_OTA_BACKEND"
BEST = ("", "auto", "best", "fast")     # spellings of "every family on its best tier"
FAMILIES = tuple(alt_tiers_family_name(f).decode() for f in range(ALT_FAMILY_COUNT))


cdef int _family(str family) except -1:
    try:
        return FAMILIES.index(family)
    except ValueError:
        raise BackendError(f"unknown kernel family {family!r}; known: {list(FAMILIES)}") from None


def tier_names(str family):
    """The family's tiers on this build and CPU, portable first and the best last."""
    cdef int f = _family(family)
    return tuple(alt_tiers_name(f, t).decode() for t in range(alt_tiers_count(f)))


def get_tier(str family):
    cdef int f = _family(family)
    return alt_tiers_name(f, alt_tiers_get(f)).decode()


def set_tier(str family, str tier):
    """Run the family on tier ("best": its best one)."""
    names = tier_names(family)
    if tier == "best":
        tier = names[-1]
    if tier not in names:
        raise BackendError(f"{family} has no tier {tier!r} here; this build and CPU offer {list(names)}")
    alt_tiers_set(_family(family), names.index(tier))


def used(str family):
    """The tiers whose kernels the C core dispatched to since reset_used(), as C recorded them."""
    cdef int f = _family(family)
    cdef unsigned mask = alt_tiers_used(f)
    return tuple(alt_tiers_name(f, t).decode() for t in range(alt_tiers_count(f)) if mask >> t & 1)


def reset_used():
    alt_tiers_reset_used()


def requested(spec):
    """The tier ALTHAN_OTA_BACKEND-style ``spec`` asks of each family (None: its best): "portable" for every
    family, or "crc=portable,aes=aes-ni" per family."""
    spec = (spec or "").strip()
    if spec in BEST:
        return {family: None for family in FAMILIES}
    if "=" not in spec:
        return {family: spec for family in FAMILIES}
    wanted = {family: None for family in FAMILIES}
    for part in spec.split(","):
        family, _, tier = part.partition("=")
        family, tier = family.strip(), tier.strip()
        if family not in wanted:
            raise BackendError(f"{ENV_VAR} names kernel family {family!r}; known: {list(FAMILIES)}")
        wanted[family] = None if tier in BEST else tier
    return wanted


def apply_policy(spec=None):
    """Put every family on the tier ``spec`` asks for (default: the environment's ALTHAN_OTA_BACKEND)."""
    for family, tier in requested(os.environ.get(ENV_VAR) if spec is None else spec).items():
        names = tier_names(family)
        if tier is not None and tier not in names:
            raise BackendError(f"{ENV_VAR} asks for tier {tier!r} of {family!r}, but this build and CPU offer "
                               f"{list(names)}")
        alt_tiers_set(_family(family), names.index(tier) if tier is not None else len(names) - 1)
