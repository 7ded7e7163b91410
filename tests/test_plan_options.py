"""campaign.plan_from_options: the plan ``althan-ota campaign plan|run`` builds from a release, an image or
explicit versions, available to Python callers; the command line builds exactly this plan."""

from __future__ import annotations

import dataclasses
import json

import duckdb
import pytest

from althan_ota.campaign import CampaignPlan, RetryPolicy, plan_from_options, plan_from_release
from althan_ota.cli import main
from althan_ota.errors import ParameterError, ReleaseError
from althan_ota.fleet import generate_fleet
from althan_ota.image import build_zigbee, parse
from althan_ota.release import verify_bundle
from althan_ota.testing.release_bundles import NEW_VERSION, OLD_VERSIONS, make_test_release

OLD = OLD_VERSIONS[0]


@pytest.fixture(scope="module")
def fleet():
    return generate_fleet(300, seed=6)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    directory = tmp_path_factory.mktemp("release")
    bundle = make_test_release(directory / "release.zip", environment="test")
    return bundle, bundle.write_keys(directory)["release.pub.pem"]


def test_a_release_path_is_verified_and_planned_as_plan_from_release(fleet, bundle):
    test_release, key = bundle
    release = verify_bundle(test_release.path, "test", test_release.trusted_keys)
    expected = plan_from_release(release, fleet, name="nb", environment="test", canary_installations=30,
                                 retry=RetryPolicy(backoff_s=60.0))
    got = plan_from_options(fleet, name="nb", release=test_release.path, trusted_keys=[key],
                            plan={"retry": {"backoff_s": 60.0}}, canary_installations=30)
    assert got == expected
    # a release already verified is taken as it is
    assert plan_from_options(fleet, name="nb", release=release, plan={"retry": {"backoff_s": 60.0}},
                             canary_installations=30) == expected


def test_a_release_decides_its_versions_and_is_verified_for_the_plans_environment(fleet, bundle):
    test_release, key = bundle
    with pytest.raises(ParameterError, match="the release decides image_size, target_version"):
        plan_from_options(fleet, release=test_release.path, trusted_keys=[key], target_version=1, image_size=2)
    with pytest.raises(ParameterError, match="the release decides upgrade_paths"):
        plan_from_options(fleet, release=test_release.path, trusted_keys=[key], upgrade_paths=[(OLD, NEW_VERSION)])
    with pytest.raises(ParameterError, match="needs trusted keys"):
        plan_from_options(fleet, release=test_release.path)
    with pytest.raises(ReleaseError, match="production"):
        plan_from_options(fleet, release=test_release.path, trusted_keys=[key], environment="production")


def test_what_if_plans_from_an_image_or_explicit_versions(fleet, tmp_path):
    image = build_zigbee(b"\x5a" * 3000, manufacturer_code=0x1234, image_type=0x0101, file_version=NEW_VERSION)
    path = tmp_path / "image.ota"
    path.write_bytes(image)
    parsed = parse(image)
    plan = plan_from_options(fleet, name="what-if", image=path, upgrade_paths=[(OLD, NEW_VERSION)],
                             pair_order="concurrent")
    assert (plan.target_version, plan.image_size) == (parsed.file_version, parsed.total_size)
    assert plan.upgrade_paths == ((OLD, NEW_VERSION),) and plan.pair_order == "concurrent"
    assert plan_from_options(fleet, name="what-if", image=image, upgrade_paths=[(OLD, NEW_VERSION)],
                             pair_order="concurrent") == plan
    # a base plan (a mapping or a JSON file): flags override it, its name wins over the default
    base = {"name": "from-file", "target_version": NEW_VERSION, "image_size": 9000,
            "upgrade_paths": [[OLD, NEW_VERSION]], "retry": {"max_attempts": {"transfer": 5}}}
    (tmp_path / "plan.json").write_text(json.dumps(base))
    from_file = plan_from_options(fleet, plan=tmp_path / "plan.json", image_size=8000)
    assert from_file == CampaignPlan(name="from-file", target_version=NEW_VERSION, image_size=8000,
                                     upgrade_paths=((OLD, NEW_VERSION),),
                                     retry=RetryPolicy(max_attempts={"transfer": 5}))
    assert plan_from_options(fleet, plan=base, image_size=8000) == from_file
    assert plan_from_options(fleet, plan=from_file) == from_file
    with pytest.raises(ParameterError, match="give an image, or target_version and image_size"):
        plan_from_options(fleet)
    with pytest.raises(ParameterError, match="unknown field.*wave_size"):
        plan_from_options(fleet, plan=base | {"wave_size": 3})
    with pytest.raises(ParameterError, match="unknown retry field.*attempts"):
        plan_from_options(fleet, plan=base | {"retry": {"attempts": 3}})
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ParameterError, match="list.json: expected a JSON object"):
        plan_from_options(fleet, plan=tmp_path / "list.json")


def test_the_command_line_builds_the_same_plan(fleet, bundle, tmp_path, capsys):
    test_release, key = bundle
    path = tmp_path / "fleet.parquet"
    fleet.write(path)
    store = tmp_path / "s.duckdb"
    argv = ["campaign", "run", "--fleet", str(path), "--store", str(store), "--campaign-id", "x", "--name", "nb",
            "--release", str(test_release.path), "--trusted-key", str(key), "--canary", "30",
            "--requests-per-day", "5000", "--json"]
    assert main(argv) == 0
    capsys.readouterr()
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute("SELECT plan_json FROM campaigns WHERE campaign_id = 'x'").fetchall()[0][0]
    con.close()
    expected = plan_from_options(fleet, name="nb", release=test_release.path, trusted_keys=[key],
                                 canary_installations=30, requests_per_day=5000)
    assert CampaignPlan.from_json(stored) == expected
    assert dataclasses.asdict(CampaignPlan.from_json(stored)) == dataclasses.asdict(expected)
    assert main(["campaign", "plan", "--fleet", str(path), "--release", str(test_release.path)]) == 1
    assert "--release needs --trusted-key" in capsys.readouterr().err
