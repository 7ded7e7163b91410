"""The CI performance gate: a run against a saved baseline, by best time or by ratio against the peer."""

from __future__ import annotations

import json

import pytest

from althan_ota.bench import gate
from althan_ota.cli import main
from althan_ota.errors import ParameterError


def row(kernel, impl, seconds, ratio=None, suite="s", peer=None):
    return {"suite": suite, "kernel": kernel, "impl": impl, "seconds": seconds, "ratio": ratio, "baseline": peer}


BASE = [row("k1", "peer", 2.0), row("k1", "althan-ota[avx2]", 1.0, 2.0), row("k2", "althan-ota", 1.0)]


def test_time_gate_fails_a_slower_row_and_a_missing_one():
    now = [row("k1", "peer", 2.0), row("k1", "althan-ota[avx2]", 1.3, 1.5)]
    findings = {f.kernel: f for f in gate.compare(now, BASE, max_slowdown=1.25, gate="time")}
    assert findings["k1"].failed and findings["k1"].factor == pytest.approx(1.3)
    assert findings["k2"].failed and findings["k2"].current is None
    assert not gate.compare(now, BASE[:2], max_slowdown=1.5)[0].failed


def test_ratio_gate_judges_against_the_peer_of_the_same_run():
    # twice as slow a machine: times double, ratios hold; the time gate fails, the ratio gate passes
    now = [row("k1", "peer", 4.0), row("k1", "althan-ota[avx2]", 2.0, 2.0), row("k2", "althan-ota", 2.0)]
    assert all(f.failed for f in gate.compare(now, BASE, gate="time"))
    ratio = gate.compare(now, BASE, gate="ratio")
    assert [(f.kernel, f.failed) for f in ratio] == [("k1", False)]     # k2 has no peer: not judged
    now[1]["ratio"] = 1.5
    assert gate.compare(now, BASE, gate="ratio")[0].factor == pytest.approx(2.0 / 1.5)


def test_ratio_gate_holds_each_ratio_to_its_own_peer():
    # one row of ours compared with two peers appears twice; each ratio is judged against the same peer's
    base = [row("k", "python loop", 4.0), row("k", "duckdb", 0.5), row("k", "althan-ota", 1.0, 4.0, peer="python loop"),
            row("k", "althan-ota", 1.0, 0.5, peer="duckdb")]
    now = [row("k", "python loop", 4.0), row("k", "duckdb", 0.5), row("k", "althan-ota", 1.0, 4.0, peer="python loop"),
           row("k", "althan-ota", 1.0, 0.5, peer="duckdb")]
    assert [f.failed for f in gate.compare(now, base, gate="ratio")] == [False, False]
    now[3]["ratio"] = 0.25
    assert [f.failed for f in gate.compare(now, base, gate="ratio")] == [False, True]


def test_bad_baselines_and_arguments_are_refused(tmp_path):
    (tmp_path / "x.json").write_text('{"not": "rows"}')
    with pytest.raises(ParameterError, match="not a benchmark baseline"):
        gate.load(tmp_path / "x.json")
    with pytest.raises(ParameterError, match="not a benchmark baseline"):
        gate.load(tmp_path / "absent.json")
    with pytest.raises(ParameterError, match="unknown gate"):
        gate.compare([], BASE, gate="speed")
    with pytest.raises(ParameterError, match="at least 1"):
        gate.compare([], BASE, max_slowdown=0.5)


def test_cli_saves_a_baseline_and_gates_on_it(tmp_path, capsys):
    saved = tmp_path / "run.json"
    args = ["bench", "sha256", "--quick"]
    assert main(args + ["--out", str(saved)]) == 0
    rows = json.loads(saved.read_text())
    assert rows and all({"suite", "kernel", "impl", "seconds"} <= set(r) for r in rows)
    capsys.readouterr()
    # a baseline 100x faster than any machine: every row of ours regressed
    fast = tmp_path / "fast.json"
    fast.write_text(json.dumps([dict(r, seconds=r["seconds"] / 100) for r in rows]))
    assert main(args + ["--baseline", str(fast)]) == 1
    assert "FAIL sha256" in capsys.readouterr().out
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps([dict(r, seconds=r["seconds"] * 100) for r in rows]))
    assert main(args + ["--baseline", str(slow)]) == 0
    assert "rows pass" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(args + ["--baseline", str(tmp_path / "bad.json")]) == 1
    assert "not a benchmark baseline" in capsys.readouterr().err
