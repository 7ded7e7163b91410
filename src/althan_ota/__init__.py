"""althan-ota: plan, emulate, run and report OTA firmware campaigns for GB point-to-point Alt HAN devices."""

from importlib.metadata import PackageNotFoundError, version as _version

from ._backend import backend, set_backend, tiers
from .errors import AltHanError

try:
    __version__ = _version("althan-ota")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def cpu_features() -> dict[str, bool]:
    """The instruction-set extensions the C core detected on this CPU."""
    from ._native import _cpu

    return _cpu.features()


__all__ = ["AltHanError", "backend", "cpu_features", "set_backend", "tiers", "__version__"]
