"""Sharded emulation and sweeps on Dask: bit-for-bit equality with the single-process emulator whatever the
partitions, sweeps equal to in-process runs, outputs, the plot, the CLI, and a worker killed mid-sweep."""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from althan_ota.distributed import emulate_distributed, sweep  # noqa: E402
from althan_ota.distributed import grid as grids  # noqa: E402
from althan_ota.distributed.stats import t_critical  # noqa: E402
from althan_ota.distributed.run_summary import METRICS  # noqa: E402
from althan_ota.emulate import EmulationParams, emulate  # noqa: E402
from althan_ota.errors import ParameterError  # noqa: E402

IMAGE = 12_000          # small image: a few hundred blocks per device keeps every test fast
FLEET = 1_500
GRID = {"block_size": [40, 64], "bridge_per": [0.1, 0.25]}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def all_columns(result) -> dict[str, np.ndarray]:
    from althan_ota._native import _emu

    names = [*_emu.DEVICE_COLUMNS, *_emu.INSTALLATION_COLUMNS]
    return {name: getattr(result, name) for name in names} | {"installation": result.installation,
                                                               "side": result.side}


def assert_identical(a, b) -> None:
    ca, cb = all_columns(a), all_columns(b)
    for name in ca:
        assert ca[name].dtype == cb[name].dtype, name
        assert ca[name].tobytes() == cb[name].tobytes(), f"column {name} differs"
    assert (a.image_size, a.seed) == (b.image_size, b.seed)


# ---------------------------------------------------------------- sharded emulation

@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_emulate_distributed_is_the_single_process_run(client, partitions):
    single = emulate(FLEET, IMAGE, seed=11, n_threads=1)
    sharded = emulate_distributed(FLEET, IMAGE, seed=11, client=client, partitions=partitions)
    assert_identical(sharded, single)
    assert sharded.summary() == single.summary()


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_emulate_distributed_slices_per_installation_arrays(client, partitions):
    rng = np.random.default_rng(3)
    fleet = {"han_per": rng.uniform(0, 0.1, 999), "bridge_per": rng.uniform(0.05, 0.4, 999)}
    single = emulate(fleet, IMAGE, seed=2, n_threads=2, first_installation=5_000)
    sharded = emulate_distributed(fleet, IMAGE, seed=2, client=client, partitions=partitions,
                                  first_installation=5_000)
    assert_identical(sharded, single)
    assert sharded.installation[0] == 5_000 and sharded.installation[-1] == 5_998


def test_emulate_distributed_progress_and_edge_cases(client):
    seen = []
    result = emulate_distributed(10, IMAGE, seed=1, client=client, partitions=25,
                                 progress=lambda done, total: seen.append((done, total)))
    assert_identical(result, emulate(10, IMAGE, seed=1))     # more partitions than installations
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert len(emulate_distributed(0, IMAGE, client=client)) == 0
    with pytest.raises(ParameterError, match="partitions"):
        emulate_distributed(10, IMAGE, client=client, partitions=0)
    with pytest.raises(ParameterError, match="image_size"):
        emulate_distributed(10, 0, client=client)
    with pytest.raises(ParameterError, match="client"):
        emulate_distributed(10, IMAGE, client=42)
    with pytest.raises(ParameterError, match="bridge_per"):
        emulate_distributed({"bridge_per": [0.1, 1.5]}, IMAGE, client=client)


# ---------------------------------------------------------------- sweeps

@pytest.fixture(scope="module")
def serial_sweep():
    return sweep(GRID, FLEET, IMAGE, replications=3, seed=7, client="serial")


@pytest.mark.parametrize("partitions", [1, 3])
def test_sweep_on_dask_equals_serial_whatever_the_partitions(client, serial_sweep, partitions):
    result = sweep(GRID, FLEET, IMAGE, replications=3, seed=7, client=client, partitions=partitions)
    assert result.replications.equals(serial_sweep.replications)
    assert result.points.equals(serial_sweep.points)


def test_sweep_ships_per_installation_arrays_by_slice(client):
    rng = np.random.default_rng(5)
    fleet = {"han_per": rng.uniform(0.0, 0.2, 800)}
    grid = {"bridge_per": [0.1, 0.3], "image_size": [6_000, IMAGE]}
    on_dask = sweep(grid, fleet, IMAGE, replications=2, client=client, partitions=3)
    serial = sweep(grid, fleet, IMAGE, replications=2, client="serial")
    assert on_dask.replications.equals(serial.replications)
    assert on_dask.meta["per_installation_arrays"] == ["han_per"]
    row = serial.replications.to_pylist()[-1]
    params = grids.apply({"bridge_per": 0.3}, EmulationParams(), IMAGE)[0]
    assert row["completion_max_s"] == emulate(fleet, IMAGE, params, seed=1).summary().last_completion_s


def test_sweep_rows_match_independent_single_process_runs(serial_sweep):
    rows = serial_sweep.replications.to_pylist()
    assert len(rows) == 4 * 3
    assert [(r["block_size"], r["bridge_per"], r["seed"]) for r in rows[:4]] == \
        [(40, 0.1, 7), (40, 0.1, 8), (40, 0.1, 9), (40, 0.25, 7)]
    for row in rows[::5]:
        params = EmulationParams()
        params = grids.apply({"block_size": row["block_size"], "bridge_per": row["bridge_per"]}, params, IMAGE)[0]
        assert params.ota.block_size == row["block_size"] and params.bridge.per == row["bridge_per"]
        fleet = emulate(FLEET, IMAGE, params, seed=row["seed"]).summary()
        assert row["rate_completed"] == fleet.outcomes["completed"] / fleet.devices
        assert row["completion_max_s"] == fleet.last_completion_s
        assert row["completion_p90_s"] == pytest.approx(fleet.completion_quantiles_s[0.9], rel=2**-11)
        assert row["airtime_bridge_s"] == pytest.approx(fleet.airtime_bridge_s, rel=1e-12)
        assert row["dc_wait_s"] == pytest.approx(fleet.dc_wait_s, rel=1e-12)


def test_sweep_points_aggregate_the_replications(serial_sweep):
    points = serial_sweep.points.to_pylist()
    per_seed = serial_sweep.replications.to_pylist()
    assert len(points) == 4 and all(p["replications"] == 3 for p in points)
    for p in points:
        mine = [r for r in per_seed if (r["block_size"], r["bridge_per"]) == (p["block_size"], p["bridge_per"])]
        for metric in METRICS:
            values = [r[metric] for r in mine]
            assert p[f"{metric}_mean"] == pytest.approx(np.mean(values), rel=1e-12)
            half = t_critical(0.95, 2) * np.std(values, ddof=1) / math.sqrt(3)
            assert p[f"{metric}_ci_high"] == pytest.approx(p[f"{metric}_mean"] + half, rel=1e-9, abs=1e-12)
    # a harsher bridge link costs airtime at every block size (common seeds make this a paired comparison)
    by = {(p["block_size"], p["bridge_per"]): p for p in points}
    for block in (40, 64):
        assert by[(block, 0.25)]["airtime_bridge_s_mean"] > by[(block, 0.1)]["airtime_bridge_s_mean"]


def test_sweep_with_the_default_local_cluster(serial_sweep):
    result = sweep(GRID, FLEET, IMAGE, replications=3, seed=7, n_workers=2)     # client=None: processes
    assert result.points.equals(serial_sweep.points)


def test_sweep_errors():
    with pytest.raises(ParameterError, match="unknown sweep parameter 'blok_size'"):
        sweep({"blok_size": [40]}, 10, IMAGE, client="serial")
    with pytest.raises(ParameterError, match="both set bridge.per"):
        sweep({"bridge_per": [0.1], "bridge.per": [0.2]}, 10, IMAGE, client="serial")
    with pytest.raises(ParameterError, match="ota.block_size"):
        sweep({"block_size": [40, 500]}, 10, IMAGE, client="serial")
    with pytest.raises(ParameterError, match="per installation"):
        sweep({"bridge_per": [0.1, 0.2]}, {"bridge_per": np.full(10, 0.1)}, IMAGE, client="serial")
    with pytest.raises(ParameterError, match="replications"):
        sweep(GRID, 10, IMAGE, replications=0, client="serial")
    with pytest.raises(ParameterError, match="at least one installation"):
        sweep(GRID, 0, IMAGE, client="serial")
    with pytest.raises(ParameterError, match="unknown band"):
        sweep({"band": ["2.4GHz"]}, 10, IMAGE, client="serial")
    with pytest.raises(ParameterError, match="no values"):
        sweep({"block_size": []}, 10, IMAGE, client="serial")


# ---------------------------------------------------------------- outputs, plot, CLI

def test_outputs_round_trip(serial_sweep, tmp_path):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    serial_sweep.write(tmp_path / "s.parquet")
    back = pq.read_table(tmp_path / "s.parquet")
    assert back.drop_columns([]).equals(serial_sweep.points.replace_schema_metadata(back.schema.metadata))
    assert json.loads(back.schema.metadata[b"althan_ota.sweep"])["seeds"] == [7, 8, 9]
    serial_sweep.write(tmp_path / "s.csv", "replications")
    assert pacsv.read_csv(tmp_path / "s.csv").num_rows == 12
    serial_sweep.write(tmp_path / "s.json")
    doc = json.loads((tmp_path / "s.json").read_text())
    assert len(doc["rows"]) == 4 and doc["meta"]["installations"] == FLEET
    with pytest.raises(ParameterError, match="format"):
        serial_sweep.write(tmp_path / "s.xlsx")


def test_plot(serial_sweep, tmp_path):
    pytest.importorskip("matplotlib")
    serial_sweep.plot(tmp_path / "p90.png")
    assert (tmp_path / "p90.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    serial_sweep.plot(tmp_path / "rate.svg", metric="rate_completed", x="bridge_per")
    assert b"<svg" in (tmp_path / "rate.svg").read_bytes()[:500]
    with pytest.raises(ParameterError, match="not an axis"):
        serial_sweep.plot(tmp_path / "x.png", x="band")
    with pytest.raises(ParameterError, match="unknown metric"):
        serial_sweep.plot(tmp_path / "x.png", metric="p90")


def test_cli_plan_sweep(client, serial_sweep, tmp_path, capsys):
    from althan_ota.cli import main

    (tmp_path / "grid.json").write_text(json.dumps({"block_size": [40, 64]}))
    code = main(["plan", "sweep", "--grid-file", str(tmp_path / "grid.json"), "--grid", "bridge_per=0.1,0.25",
                 "--installations", str(FLEET), "--image-size", str(IMAGE), "--replications", "3", "--seed", "7",
                 "--scheduler", client.scheduler.address, "--partitions", "2", "--out", str(tmp_path / "o.csv"),
                 "--per-seed", str(tmp_path / "r.parquet"), "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["completion_p90_s_mean"] for r in rows] == serial_sweep.points.column("completion_p90_s_mean").to_pylist()
    assert (tmp_path / "o.csv").exists() and (tmp_path / "r.parquet").exists()
    assert main(["plan", "sweep", "--installations", "10", "--serial"]) == 1       # no grid axis
    assert "at least one grid axis" in capsys.readouterr().err
    assert main(["plan", "sweep", "--grid", "block_size=40", "--serial", "--out", str(tmp_path / "o.xlsx")]) == 1
    assert "suffix gives the format" in capsys.readouterr().err          # refused before any emulation


# ---------------------------------------------------------------- a worker dies mid-sweep

class KillOnFirstPartition(distributed.WorkerPlugin):
    """Kills its worker process the first time (across restarts: a marker file) a partition task starts."""

    def __init__(self, marker: str):
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("althan-sweep-part"):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(key).encode())
            os.close(fd)
            os._exit(1)


def test_sweep_survives_a_worker_killed_mid_sweep(serial_sweep, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers cannot import this test module
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") \
            as cluster, distributed.Client(cluster) as c:
        c.register_plugin(KillOnFirstPartition(str(marker)))
        result = sweep(GRID, FLEET, IMAGE, replications=3, seed=7, client=c, partitions=2, retries=2)
    assert marker.read_text().startswith("althan-sweep-part")      # a worker really died running a partition
    assert result.replications.equals(serial_sweep.replications)
    assert result.points.equals(serial_sweep.points)


# ---------------------------------------------------------------- an inventory as the fleet

def test_sweep_over_an_inventory(tmp_path, capsys):
    import pyarrow as pa

    from althan_ota.cli import main
    from althan_ota.distributed.inventory_links import link_arrays
    from althan_ota.fleet import Fleet, generate_fleet

    fleet = generate_fleet(300, seed=4)
    fleet.write(tmp_path / "fleet.parquet")
    arrays, filled = link_arrays(tmp_path / "fleet.parquet")
    _, hub, meter = fleet.pairs()
    assert filled == {"han_per": 0, "bridge_per": 0} and arrays["han_per"].shape == (300,)
    assert np.array_equal(arrays["han_per"], fleet.column("han_per")[hub].astype(np.float64))
    assert np.array_equal(arrays["bridge_per"], fleet.column("bridge_per")[meter].astype(np.float64))
    expected = sweep({"block_size": [40, 64]}, arrays, IMAGE, replications=2, client="serial")
    assert main(["plan", "sweep", "--fleet", str(tmp_path / "fleet.parquet"), "--grid", "block_size=40,64",
                 "--image-size", str(IMAGE), "--replications", "2", "--serial", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["completion_p90_s_mean"] for r in rows] == expected.points.column("completion_p90_s_mean").to_pylist()

    no_han = Fleet(fleet.table.drop_columns(["han_per"]))
    arrays, filled = link_arrays(no_han, EmulationParams())
    assert filled == {"han_per": 300, "bridge_per": 0} and np.all(arrays["han_per"] == EmulationParams().han.per)
    with pytest.raises(ParameterError, match="no P2P"):
        link_arrays(Fleet(fleet.table.filter(pa.compute.equal(fleet.table["ppmid_variant"], "PPMID"))))
