"""A campaign plan from a verified release bundle: the only way a campaign gets its image.

The bundle must have been verified for the campaign's own environment (``release.verify_bundle``); the plan
takes from it the target version, the image size, the models and hardware range it covers, the upgrade
paths, and the pair order that the compatibility table allows for the fleet's installations. Pairs that no
order keeps working are left out with reason NO_SAFE_PAIR_ORDER, for a site visit or a later release.
"""

from __future__ import annotations

import numpy as np

from ..errors import CampaignError
from ..fleet import Fleet
from ..release import VerifiedRelease, plan_pair_orders
from ..release._compat import CONCURRENT, HUB_FIRST, METER_FIRST, ORDER_NAMES
from .plan import CampaignPlan


def plan_from_release(release: VerifiedRelease, fleet: Fleet, name: str, environment: str,
                      **options) -> CampaignPlan:
    """``options`` are further CampaignPlan fields (waves, caps, thresholds, ...)."""
    if release.environment != environment:
        raise CampaignError(f"release {release.release_id} is for the {release.environment} environment; "
                            f"a {environment} campaign cannot use it")
    versions = {img.file_version for img in release.images}
    if len(versions) != 1:
        raise CampaignError(f"release {release.release_id} holds several firmware versions "
                            f"{sorted(f'0x{v:08X}' for v in versions)}; plan one campaign per version")
    target = versions.pop()
    models = tuple(sorted({img.model for img in release.images}))
    hardware = [(img.image.min_hardware_version, img.image.max_hardware_version) for img in release.images]
    lows = [lo for lo, _ in hardware if lo is not None]
    highs = [hi for _, hi in hardware if hi is not None]
    order, unsafe = _pair_order(release, fleet, models, target)
    return CampaignPlan(
        name=name, environment=environment, target_version=target,
        image_size=max(len(img.data) for img in release.images),
        image_sha256=",".join(img.sha256.hex() for img in release.images),
        manufacturers=tuple(sorted({img.manufacturer for img in release.images})), models=models,
        hardware_min=min(lows) if lows else None, hardware_max=max(highs) if highs else None,
        upgrade_paths=tuple((a, b) for a, b in release.upgrade_paths if b == target),
        pair_order=order, unsafe_installations=unsafe, **options)


def _pair_order(release: VerifiedRelease, fleet: Fleet, models: tuple[str, ...],
                target: int) -> tuple[str, tuple[str, ...]]:
    """The one order that keeps most of the fleet's pairs of these models working, and the pairs it cannot."""
    installations, hub, meter = fleet.pairs()
    model = fleet.column("model")
    ours = np.isin(model[hub], models) & np.isin(model[meter], models)
    if not ours.any():
        return "meter_first", ()
    version = fleet.column("firmware_version").astype(np.uint32)
    codes = plan_pair_orders(release.compatibility, version[hub[ours]], version[meter[ours]], target,
                             target).codes
    safe = {name: (codes == code) | (codes == CONCURRENT) for code, name in ORDER_NAMES.items()
            if code in (METER_FIRST, HUB_FIRST)}
    best = max(safe, key=lambda name: (int(safe[name].sum()), name == "meter_first"))
    unsafe_ids = np.asarray(installations.to_pylist(), dtype=object)[ours][~safe[best]]
    return best, tuple(sorted(unsafe_ids))
