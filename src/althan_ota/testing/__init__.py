"""Fixtures and references that ship with the package for the demo, the benchmarks and the tests; the
domain packages (image, release, fleet, campaign, emulate, report, ...) never import them.

- :mod:`.release_bundles`: deterministic keys and a complete signed release bundle (``make_test_release``);
  its keys are public knowledge, never trust them outside tests and demos;
- :mod:`.campaign_history`: a seeded, plausible campaign history written as a campaign store
  (``write_sample_store``), for the reports;
- :mod:`.simpy_emulator`: a SimPy model of the emulator's timing rules (``reference_emulate``), the independent
  reference the emulator is checked against in distribution, and the speed baseline; needs ``simpy`` (the
  ``test`` extra).
"""
