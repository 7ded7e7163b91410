"""A DCC stand-in for load tests and deterministic campaign runs over DUIS (``althan-ota dcc serve``): it
verifies signed requests, answers them, and delivers each device's alerts at the times the C engine gives
(:mod:`.emulated`), signed with the DSP's key, retrying until the user's endpoint takes them (:mod:`.server`,
:mod:`.state`). :mod:`.load` drives a whole campaign through it (``althan-ota dcc load``)."""
