"""pytest-benchmark: the demo end to end at 20,000 installations (fleet, release, plan, the campaign against
the emulator, the store, the reports). No peer runs this job; ``althan-ota bench e2e --baseline FILE`` gates
each stage against a recorded run.

Run with ``python -m pytest bench/test_e2e.py --benchmark-enable``.
"""

import pytest

from althan_ota.bench import e2e


@pytest.mark.benchmark(group="e2e: demo 20,000 installations")
def test_demo_end_to_end(benchmark, tmp_path):
    profile = benchmark.pedantic(e2e.profile_demo, args=(e2e.QUICK_INSTALLATIONS, tmp_path / "demo"), rounds=1,
                                 iterations=1)
    assert any(row.stage.endswith("emulate") for row in profile.rows)
