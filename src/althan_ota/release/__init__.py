"""Release bundles: how Alt HAN Co hands firmware to suppliers (MP170), signed, for one environment.

A bundle is a zip holding ``manifest.json`` (what is released: images for both bridge sides, CPL entries,
upgrade paths, the pair compatibility table, the environment, release ID and date), ``manifest.sig`` (Alt HAN
Co's ECDSA P-256 signature over the exact manifest bytes), the release notes and the images. :func:`pack`
writes one, :func:`verify_bundle` checks one for an environment and returns a :class:`VerifiedRelease`, the
only source a campaign takes images from; :func:`show` lists one without trusting it. The compatibility
table also drives pair planning (:func:`plan_pair_order`) and out-of-sync triage
(:func:`classify_out_of_sync`). ``althan_ota.testing.release_bundles`` makes deterministic keys and bundles.
"""

from ._bundle import ImageInput, ReleaseImage, VerifiedRelease, pack, show, verify_bundle
from ._compat import (CONCURRENT, HUB_FIRST, METER_FIRST, ORDER_NAMES, UNSAFE, Compatibility, PairOrders,
                      classify_out_of_sync, plan_pair_order, plan_pair_orders)
from ._keys import key_id, load_trusted_keys
from ._manifest import ENVIRONMENTS, SCHEMA_VERSION, ImageEntry, Manifest

__all__ = ["CONCURRENT", "Compatibility", "ENVIRONMENTS", "HUB_FIRST", "ImageEntry", "ImageInput",
           "METER_FIRST", "Manifest", "ORDER_NAMES", "PairOrders", "ReleaseImage", "SCHEMA_VERSION", "UNSAFE",
           "VerifiedRelease", "classify_out_of_sync", "key_id", "load_trusted_keys", "pack", "plan_pair_order",
           "plan_pair_orders", "show", "verify_bundle"]
