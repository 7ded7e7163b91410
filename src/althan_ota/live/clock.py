"""The live runner's clock in wall-clock mode: emulated seconds since the campaign's first live run, running at
``time_scale`` emulated seconds per wall second (1 against a real DCC; e.g. 5760 against ``dcc serve
--time-scale 5760`` plays an emulated day in 15 s).

Its origin and scale are kept in the store's journal (campaign/journal.py), so a resumed run carries on the
same clock. The request book's times, the plan's timeouts and every received message's time are all read on
this one clock: a message is dated by its ResponseDateTime (the DCC's time of the event, not of a possibly
retried delivery), converted to emulated seconds.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from ..errors import DuisError, ParameterError


class WallClock:
    def __init__(self, origin: float, time_scale: float):
        """``origin``: POSIX seconds at emulated second 0; ``time_scale``: emulated seconds per wall second."""
        if not (math.isfinite(time_scale) and time_scale > 0):
            raise ParameterError(f"time_scale must be a positive number of emulated seconds per wall second, "
                                 f"got {time_scale!r}")
        self.origin, self.time_scale = float(origin), float(time_scale)

    def now(self) -> float:
        """Emulated seconds since the origin, now."""
        return (time.time() - self.origin) * self.time_scale

    def wall_at(self, t: float) -> float:
        """POSIX seconds when the clock shows emulated second ``t``."""
        return self.origin + t / self.time_scale

    def wait_s(self, t: float) -> float:
        """Wall seconds until emulated second ``t`` (0 when it has passed)."""
        return max(0.0, self.wall_at(t) - time.time())

    def of_datetime(self, text: str | None) -> float:
        """An xs:dateTime (a message's ResponseDateTime) in emulated seconds on this clock."""
        return (response_datetime(text).timestamp() - self.origin) * self.time_scale


def response_datetime(text: str | None) -> dt.datetime:
    """A message's ResponseDateTime (xs:dateTime; UTC when it names no zone)."""
    try:
        when = dt.datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        raise DuisError(f"Response/Header/ResponseDateTime: {text!r} is not a date and time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)
