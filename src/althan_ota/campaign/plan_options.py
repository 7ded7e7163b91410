"""A campaign plan from the options a user gives: a release bundle (a real campaign), or a bare image or
explicit versions (what-if planning), on top of a base plan and field overrides. ``althan-ota campaign
plan|run`` calls exactly this, so a Python caller gets the plan the command line would build."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import ParameterError
from ..fleet import Fleet
from .from_release import plan_from_release
from .plan import CampaignPlan

# what a release decides for its campaign (plan_from_release): not to be given beside one
RELEASE_FIELDS = ("target_version", "image_size", "image_sha256", "manufacturers", "models", "hardware_min",
                  "hardware_max", "upgrade_paths", "pair_order", "unsafe_installations")


def plan_from_options(fleet: Fleet, *, name: str = "campaign", plan: CampaignPlan | Mapping | str | Path | None = None,
                      release=None, trusted_keys=(), image=None, upgrade_paths: Iterable = (),
                      **fields) -> CampaignPlan:
    """The campaign plan for ``fleet``.

    ``plan``: the base plan's fields (a mapping of CampaignPlan fields, a JSON file of them, or a CampaignPlan);
    ``fields`` (CampaignPlan fields) override them; ``name`` names the plan unless the base plan does.

    ``release``: a :class:`~althan_ota.release.VerifiedRelease`, or the path of a bundle, verified here with
    ``trusted_keys`` for the plan's environment (``environment``, else the base plan's, else "test"). The plan
    takes the image, versions, hardware range, upgrade paths and pair order from it (:func:`plan_from_release`);
    giving any of RELEASE_FIELDS, ``image`` or ``upgrade_paths`` too is a ParameterError.

    Without a release (what-if planning): ``image`` (bytes, a file, or a parsed image) gives the target
    version, size and Manufacturer Image hash the plan does not set; ``upgrade_paths`` ((from, to) version
    pairs) replace the base plan's; ``target_version`` and ``image_size`` are then required.
    """
    base = _base_fields(plan)
    paths = [tuple(p) for p in upgrade_paths]
    if release is not None:
        return _from_release(fleet, name, base, fields, release, trusted_keys, image, paths)
    merged = {"name": name} | base
    if image is not None:
        parsed = _parsed(image)
        merged.setdefault("target_version", parsed.file_version)
        merged.setdefault("image_size", parsed.total_size)
        digest = getattr(parsed, "manufacturer_image_hash", None)
        merged.setdefault("image_sha256", digest.hex() if isinstance(digest, bytes) else "")
    merged |= fields
    if paths:
        merged["upgrade_paths"] = paths
    missing = [k for k in ("target_version", "image_size") if k not in merged]
    if missing:
        raise ParameterError(f"campaign plan: give an image, or {' and '.join(missing)}")
    return CampaignPlan.from_dict(merged)


def _from_release(fleet, name, base, fields, release, trusted_keys, image, paths) -> CampaignPlan:
    from ..release import load_trusted_keys, verify_bundle

    clashing = sorted({*base, *fields} & set(RELEASE_FIELDS))
    clashing += ["image"] * (image is not None) + ["upgrade_paths"] * bool(paths)
    if clashing:
        raise ParameterError(f"campaign plan: the release decides {', '.join(clashing)}; do not give them with it")
    environment = fields.pop("environment", None) or base.pop("environment", None) or "test"
    base.pop("environment", None)
    name = base.pop("name", name)
    if isinstance(release, (str, Path)):
        if not trusted_keys:
            raise ParameterError("a release bundle needs trusted keys: the Alt HAN Co release key to verify it with")
        release = verify_bundle(release, environment, load_trusted_keys(trusted_keys))
    return plan_from_release(release, fleet, name=name, environment=environment,
                             **CampaignPlan.typed_fields(base | fields))


def _base_fields(plan) -> dict:
    if plan is None:
        return {}
    if isinstance(plan, CampaignPlan):
        return json.loads(plan.to_json())
    if isinstance(plan, (str, Path)):
        path = Path(plan)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ParameterError(f"campaign plan {path}: cannot read it: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise ParameterError(f"campaign plan {path}: not JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict):
            raise ParameterError(f"campaign plan {path}: expected a JSON object of plan fields")
        return data
    return dict(plan)


def _parsed(image):
    if hasattr(image, "file_version"):
        return image
    from ..image import parse

    return parse(Path(image).read_bytes() if isinstance(image, (str, Path)) else bytes(image))
