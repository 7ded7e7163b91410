"""A campaign plan from a verified release bundle: the only way a campaign gets its image.

The bundle must have been verified for the campaign's own environment (``release.verify_bundle``); the plan
takes from it the target version, the image size, the models and hardware range it covers, the upgrade
paths, and the pair order that the compatibility table allows for the fleet's installations. Pairs that no
order keeps working are left out with reason NO_SAFE_PAIR_ORDER, for a site visit or a later release.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import CampaignError
from ..fleet import Fleet
from ..release import VerifiedRelease, plan_pair_orders
from ..release._compat import CONCURRENT, HUB_FIRST, METER_FIRST, ORDER_NAMES
from .plan import CampaignPlan, target


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
    draft = CampaignPlan(
        name=name, environment=environment, target_version=target,
        image_size=max(len(img.data) for img in release.images),
        image_sha256=",".join(img.sha256.hex() for img in release.images),
        manufacturers=tuple(sorted({img.manufacturer for img in release.images})), models=models,
        hardware_min=min(lows) if lows else None, hardware_max=max(highs) if highs else None,
        upgrade_paths=tuple((a, b) for a, b in release.upgrade_paths if b == target), **options)
    order, unsafe = _pair_order(release, fleet, draft)
    return dataclasses.replace(draft, pair_order=order, unsafe_installations=unsafe)


def _pair_order(release: VerifiedRelease, fleet: Fleet, draft: CampaignPlan) -> tuple[str, tuple[str, ...]]:
    """The one order that keeps most of the fleet's pairs of these models working, and the pairs it cannot.
    A side the campaign will not upgrade (CAD-joined, no upgrade path, ...) stays on its version, so a pair
    whose other side alone would move to an incompatible state is unsafe too."""
    installations, hub, meter = fleet.pairs()
    eligible = target(draft, fleet).eligible
    ours = eligible[hub] | eligible[meter]
    if not ours.any():
        return draft.pair_order, ()
    version = fleet.column("firmware_version").astype(np.uint32)
    hub_from, meter_from = version[hub[ours]], version[meter[ours]]
    hub_to = np.where(eligible[hub[ours]], draft.target_version, hub_from).astype(np.uint32)
    meter_to = np.where(eligible[meter[ours]], draft.target_version, meter_from).astype(np.uint32)
    codes = plan_pair_orders(release.compatibility, hub_from, meter_from, hub_to, meter_to).codes
    safe = {name: (codes == code) | (codes == CONCURRENT) for code, name in ORDER_NAMES.items()
            if code in (METER_FIRST, HUB_FIRST)}
    best = max(safe, key=lambda name: (int(safe[name].sum()), name == "meter_first"))
    unsafe_ids = np.asarray(installations.to_pylist(), dtype=object)[ours][~safe[best]]
    return best, tuple(sorted(unsafe_ids))
