"""Thin Cython wrappers over the C core in csrc/. Import through the Python API, not directly.

Importing this package loads the core and applies the tier policy (ALTHAN_OTA_BACKEND, see _tiers) to every
kernel family, once, before any kernel can run.
"""

from ._tiers import apply_policy as _apply_policy

_apply_policy()
