"""SMI hygiene: bridges recorded as plain PPMID or with no variant (amendments with the variant to set),
bridges not yet installed (12.2 pre-notifications), CAD-joined bridges and one-sided installations (site
visits, one per premises), per supplier; checked on an SMI extract edited here with known faults."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pytest

from althan_ota.cli import main
from althan_ota.errors import InventoryError, ParameterError
from althan_ota.fleet import HUB_SIDE, METER_SIDE, generate_fleet
from althan_ota.report.listing import read_listing
from althan_ota.report.smi_hygiene import known_bridges, smi_hygiene
from althan_ota.testing.release_bundles import make_test_release


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    directory = tmp_path_factory.mktemp("smi")
    bundle = make_test_release(directory / "release.zip")
    known = known_bridges([bundle.path])
    models = {(r["manufacturer"], r["model"]): r["side"] for r in known.to_pylist() if r["side"]}
    fleet = generate_fleet(200, seed=4).table
    path = directory / "fleet.parquet"
    # an SMI extract of the fleet's bridges, with the release's product as their make and model
    rows = [r for r in fleet.to_pylist() if r["ppmid_variant"] in (HUB_SIDE, METER_SIDE)
            and r["smi_status"] == "Commissioned" and r["join_mode"] == "PPMID"]
    by_side = {side: (maker, model) for (maker, model), side in models.items()}
    for r in rows:
        r["manufacturer"], r["model"] = by_side[r["ppmid_variant"]]
        r["firmware_version"] = f"0x{r['firmware_version']:08X}"
    pairs = {}
    for r in rows:
        pairs.setdefault(r["installation_id"], []).append(r)
    insts = [i for i, rs in pairs.items() if len(rs) == 2][:6]
    sides = {(i, r["ppmid_variant"]): r for i in insts for r in pairs[i]}    # taken before the edits below
    first = lambda i, side: sides[(i, side)]  # noqa: E731
    first(insts[0], HUB_SIDE)["ppmid_variant"] = "PPMID"           # amend: hub side (release says)
    first(insts[1], METER_SIDE)["ppmid_variant"] = None             # amend: meter side
    first(insts[2], HUB_SIDE)["smi_status"] = "Pending"             # pre-notify; and the meter is one-sided
    first(insts[3], METER_SIDE)["join_mode"] = "CAD"                # site visit
    first(insts[4], HUB_SIDE)["join_mode"] = "CAD"                  # one visit for both CAD bridges
    first(insts[4], METER_SIDE)["join_mode"] = "CAD"
    rows = [r for r in rows if r is not first(insts[5], METER_SIDE)]    # one side missing
    columns = ["device_id", "smi_status", "manufacturer", "model", "ppmid_variant", "firmware_version", "ch_id",
               "installation_id", "supplier", "join_mode"]
    smi = directory / "smi.csv"
    with open(smi, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return {"dir": directory, "smi": smi, "bundle": bundle, "insts": insts, "pairs": pairs, "first": first,
            "known": known, "fleet_path": path}


def test_each_fault_lands_in_its_list(extract):
    result = smi_hygiene(read_listing(extract["smi"]), extract["known"], visit_cost=120.0)
    insts, first = extract["insts"], extract["first"]
    amend = {r["device_id"]: r for r in result.amendments.to_pylist()}
    assert set(amend) == {first(insts[0], HUB_SIDE)["device_id"], first(insts[1], METER_SIDE)["device_id"]}
    assert amend[first(insts[0], HUB_SIDE)["device_id"]]["variant_to_set"] == HUB_SIDE
    assert amend[first(insts[1], METER_SIDE)["device_id"]]["variant_to_set"] == METER_SIDE
    assert amend[first(insts[1], METER_SIDE)["device_id"]]["recorded_variant"] is None
    pre = result.prenotifications.to_pylist()
    assert [(r["device_id"], r["variant"]) for r in pre] == [(first(insts[2], HUB_SIDE)["device_id"], HUB_SIDE)]
    visits = {r["premises"]: r for r in result.site_visits.to_pylist()}
    assert set(visits) == {insts[2], insts[3], insts[4], insts[5]}
    assert visits[insts[4]]["devices"].count(" ") == 1 and visits[insts[4]]["reason"] == "joined the HAN as CAD"
    assert visits[insts[5]]["reason"] == "one side of the installation is missing from the SMI"
    assert all(v["cost"] == 120.0 for v in visits.values())
    assert result.summary["site_visit_cost"] == 480.0


def test_a_cpl_model_without_a_side_takes_the_partners(extract, tmp_path):
    side = {r["model"]: r["side"] for r in extract["known"].to_pylist() if r["side"]}
    hub_model = next(m for m, s in side.items() if s == HUB_SIDE)
    cpl = tmp_path / "cpl.json"
    cpl.write_text(json.dumps([{"manufacturer_code": 4660, "image_type": 1, "firmware_version": 1,
                                "manufacturer_image_hash": "00" * 32, "model": hub_model}]))
    known = known_bridges(cpl_files=[cpl])
    assert known.to_pylist() == [{"manufacturer": None, "model": hub_model, "side": None, "source": "CPL cpl.json"}]
    result = smi_hygiene(read_listing(extract["smi"]), known, visit_cost=1.0)
    insts, first = extract["insts"], extract["first"]
    rows = result.amendments.to_pylist()
    assert [(r["device_id"], r["variant_to_set"]) for r in rows] == [(first(insts[0], HUB_SIDE)["device_id"],
                                                                     HUB_SIDE)]


def test_the_command_writes_each_suppliers_lists(extract, capsys):
    out = extract["dir"] / "out"
    assert main(["report", "smi-hygiene", "--smi", str(extract["smi"]), "--release", str(extract["bundle"].path),
                 "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["amendments"], summary["prenotifications"], summary["site_visits"]) == (2, 1, 4)
    written = sum(len(list(csv.DictReader(open(f["path"])))) for kinds in summary["suppliers"].values()
                  for f in kinds.values())
    assert written == 7


def test_bad_inputs_are_named(extract, tmp_path, capsys):
    assert main(["report", "smi-hygiene", "--smi", str(extract["smi"]), "--out", str(tmp_path / "o")]) == 1
    assert "needs --release or --cpl" in capsys.readouterr().err
    bad = tmp_path / "smi.csv"
    lines = extract["smi"].read_text().splitlines()
    lines[3] = lines[3].replace("Commissioned", "Comissioned", 1)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InventoryError, match=r"smi.csv.*line 4.*smi_status"):
        read_listing(bad)


def test_prenotifications_as_duis_requests(extract, capsys):
    from lxml import etree

    from althan_ota.duis.parse import parse_tree

    out = extract["dir"] / "duis-out"
    user, dsp = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"
    assert main(["report", "smi-hygiene", "--smi", str(extract["smi"]), "--release", str(extract["bundle"].path),
                 "--out", str(out), "--duis", "--user-id", user, "--target", dsp, "--first-counter", "41"]) == 0
    capsys.readouterr()
    files = sorted(out.glob("*/duis/12.2-*.xml"))
    pending = extract["first"](extract["insts"][2], HUB_SIDE)
    assert [f.name for f in files] == [f"12.2-{pending['device_id']}.xml"]
    message = parse_tree(etree.fromstring(files[0].read_bytes()))
    (record,) = message.records
    assert message.service_reference_variant == "12.2" and message.request_id.counter == 41
    assert (record.device_id, record.manufacturer, record.model) == (pending["device_id"], pending["manufacturer"],
                                                                     pending["model"])
    assert main(["report", "smi-hygiene", "--smi", str(extract["smi"]), "--release", str(extract["bundle"].path),
                 "--out", str(out), "--duis", "--user-id", user, "--target", dsp]) == 1
    assert "--first-counter or --counter-store" in capsys.readouterr().err
