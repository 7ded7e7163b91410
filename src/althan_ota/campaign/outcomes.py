"""The outcome table: every way a device's campaign can move, in one place.

One row per outcome key. Keys come from three producers:

- the emulator: the C engine's outcome enum (``althan_ota.emulate.result.OUTCOMES``, named in csrc/emu.h);
- the DUIS message layer: what a parsed response or alert says happened to a device (``record.outcome``);
- the campaign itself: the targeting's exclusions, the stages a request passes through, an operator's abort.

Each row gives the device's state and reason (what the campaign store records), the retry class (the key of
``RetryPolicy.max_attempts``; None: never retried automatically), the out-of-sync cause (a key of CAUSES,
which holds the text and the next action), the report category and whether the device needs a site visit.
Everything else that used to list outcomes derives from this table: the emulator adaptor, the retry policy's
classes, the state sets (FAILED, IN_PROGRESS, FINAL), the out-of-sync causes, the campaign views, the site
visits and the sample store. Adding a failure class: a value in the C enum (csrc/emu.h) and a row here
(with a new Reason member or Cause if it needs one).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum

from ..errors import CampaignError
from .states import State


class Reason(IntEnum):
    """Why a device is where it is; stored as a uint8 beside its State. Codes are never reused."""

    NONE = 0
    # why a device is not eligible (it is never requested)
    JOINED_AS_CAD = 1          # joined the HAN as a CAD: cannot take OTA firmware; needs a site visit
    SUSPENDED = 2
    DECOMMISSIONED = 3
    NOT_COMMISSIONED = 4
    HARDWARE_MISMATCH = 5
    NO_UPGRADE_PATH = 6        # running version may not be followed by the campaign's version
    ALREADY_CURRENT = 7
    EXCLUDED = 8               # an operator's exclusion list
    NO_SAFE_PAIR_ORDER = 9     # no upgrade order keeps this pair compatible throughout (release table)
    DCC_NOT_APPLICABLE = 10    # the DCC found the image not applicable to the device (ID, firmware or GBCS version)
    # why a transfer or activation failed
    WAN_FAILURE = 20           # the image never reached the Communications Hub
    CH_OFFLINE = 21            # (no producer writes this today)
    DEVICE_OFFLINE = 22        # (no producer writes this today)
    HAN_LINK = 23              # too many consecutive block-exchange failures on the HAN
    BRIDGE_LINK = 24           # ... on the bridge link
    TIMEOUT = 25               # the campaign's per-device timeout ran out
    HASH_FAILURE = 26          # the reassembled image did not match its hash
    ACTIVATION_FAILURE = 27    # activation left the old version running
    READBACK_MISMATCH = 28     # SRV 11.2 read back a version other than the campaign's
    IMAGE_DISCARDED = 29       # the Communications Hub discarded the image (its hash did not verify)
    DCC_REJECTED = 30          # the DCC refused the request (an E response code)
    OTHER_REQUEST_IN_PROGRESS = 31   # the DCC had another request in progress for the device
    # operator actions
    ABORTED = 40               # the campaign was aborted (threshold or operator)
    RETRY_LIMIT = 41           # (no producer writes this today)
    # why a device left a campaign before it was requested (a resumed run on a later fleet extract)
    SUPPLIER_CHANGED = 42      # it moved to a supplier the plan does not cover
    LEFT_TARGETS = 43          # it no longer matches the plan's target filter (variant, manufacturer, model)

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Cause:
    """Why an out-of-sync pair's side is behind, and what to do next. ``action`` has a ``{side}`` slot
    ("the hub-side", "the meter-side" or "both sides"); ``shows_reason``: the reason code is appended to the
    text in brackets (the cause covers several reasons)."""

    key: str
    text: str
    action: str
    shows_reason: bool = False


# out-of-sync causes, most serious first (a pair whose two sides are both behind takes the more serious)
CAUSES = (
    Cause("joined_as_cad", "joined the HAN as a CAD: cannot take firmware over the air",
          "site visit: re-join {side} as PPMID"),
    Cause("hash", "image hash failure", "check the image's hash against the CPL, then retry SRV 11.4 for {side}"),
    Cause("activation", "activation failure", "read the version back with SRV 11.2 and retry SRV 11.4 for {side}; "
                                              "site visit if it fails again", shows_reason=True),
    Cause("link", "HAN or bridge-link failure", "retry SRV 11.4 for {side} off-peak; site visit if it fails again",
          shows_reason=True),
    Cause("wan_ch", "WAN or Communications Hub trouble", "check the Communications Hub's WAN connection, then retry "
                                                         "SRV 11.4 for {side}", shows_reason=True),
    Cause("dcc_rejected", "the DCC rejected the request", "read the DCC's response code, correct the request, then "
                                                          "send SRV 11.4 for {side} again"),
    Cause("failed_other", "transfer failed", "retry SRV 11.4 for {side}", shows_reason=True),
    Cause("stopped", "campaign stopped before the upgrade finished", "retry SRV 11.4 for {side} in the next campaign",
          shows_reason=True),
    Cause("withdrawn", "withdrawn from the campaign: left its scope before it was requested",
          "target {side} in a campaign of the supplier it has now (SRV 11.4)", shows_reason=True),
    Cause("suspended", "SMI status Suspended", "resolve the suspension with the supplier, then retry SRV 11.4 for {side}"),
    Cause("not_commissioned", "not commissioned in the SMI", "commission {side} in the SMI, then retry SRV 11.4"),
    Cause("not_eligible", "not eligible for the campaign", "review the eligibility of {side}, then retry SRV 11.4",
          shows_reason=True),
    Cause("both_verified", "both sides verified on different releases",
          "check the release's pair compatibility for these two versions"),
    Cause("never_targeted", "missed by the rollout: never targeted by a campaign",
          "target {side} in the next campaign (SRV 11.4)"),
    Cause("in_progress", "upgrade still in progress", "wait for the campaign to finish {side}"),
)
CAUSE_KEYS = tuple(c.key for c in CAUSES)
VERIFIED_CAUSE = "verified"    # a side that is not behind: the pair takes the other side's cause

# report categories, in the order the reports list them; every State belongs to exactly one
CATEGORIES = ("verified", "in_progress", "failed", "not_eligible", "cancelled")

EMULATOR, DUIS, CAMPAIGN = "emulator", "duis", "campaign"


@dataclass(frozen=True)
class Outcome:
    """One row of the table. ``state`` None: the outcome moves no device (e.g. an emulator slot that was not
    requested). ``meter_reason``: the reason on a meter-side bridge when it differs (an emulator abort there
    is the bridge link's)."""

    key: str
    source: str
    state: State | None
    reason: Reason
    retry: str | None
    cause: str | None
    category: str | None
    site_visit: bool
    meter_reason: Reason | None = None

    def reason_on(self, side: int) -> Reason:
        """The reason on side 0 (hub-side) or 1 (meter-side)."""
        return self.meter_reason if side == 1 and self.meter_reason is not None else self.reason


def _rows(source: str, *rows: tuple) -> tuple[Outcome, ...]:
    return tuple(Outcome(key, source, *rest) for key, *rest in rows)


S, R, _ = State, Reason, None
OUTCOME_ROWS = (
    # key, state, reason, retry class, out-of-sync cause, report category, site visit needed (, meter-side reason)
    *_rows(EMULATOR,
        ("completed",                S.VERIFIED,          R.NONE,                      _,             "verified",         "verified",     False),
        ("aborted",                  S.TRANSFER_FAILED,   R.HAN_LINK,                  "transfer",    "link",             "failed",       True,
         R.BRIDGE_LINK),
        ("wan_failed",               S.TRANSFER_FAILED,   R.WAN_FAILURE,               "unreachable", "wan_ch",           "failed",       True),
        ("activation_failed",        S.ACTIVATION_FAILED, R.ACTIVATION_FAILURE,        "activation",  "activation",       "failed",       True),
        ("timeout",                  S.UNREACHABLE,       R.TIMEOUT,                   "unreachable", "link",             "failed",       True),
        ("not_requested",            _,                   R.NONE,                      _,             _,                  _,              False),
        ("hash_failure",             S.HASH_MISMATCH,     R.HASH_FAILURE,              "hash",        "hash",             "failed",       True),
    ),
    *_rows(DUIS,
        ("duis_acknowledged",        S.REQUESTED,         R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("duis_rejected",            S.TRANSFER_FAILED,   R.DCC_REJECTED,              _,             "dcc_rejected",     "failed",       False),
        ("duis_not_applicable",      S.NOT_ELIGIBLE,      R.DCC_NOT_APPLICABLE,        _,             "not_eligible",     "not_eligible", False),
        ("duis_not_commissioned",    S.NOT_ELIGIBLE,      R.NOT_COMMISSIONED,          _,             "not_commissioned", "not_eligible", False),
        ("duis_request_in_progress", S.TRANSFER_FAILED,   R.OTHER_REQUEST_IN_PROGRESS, "unreachable", "failed_other",     "failed",       False),
        ("csp_delivered",            S.IMAGE_AT_CH,       R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("csp_delivery_failed",      S.TRANSFER_FAILED,   R.WAN_FAILURE,               "unreachable", "wan_ch",           "failed",       True),
        ("ch_transfer_success",      S.DOWNLOADED,        R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("ch_image_discarded",       S.HASH_MISMATCH,     R.IMAGE_DISCARDED,           "hash",        "hash",             "failed",       True),
        ("ch_hardware_mismatch",     S.NOT_ELIGIBLE,      R.HARDWARE_MISMATCH,         _,             "not_eligible",     "not_eligible", False),
        ("ch_transfer_failure",      S.TRANSFER_FAILED,   R.HAN_LINK,                  "transfer",    "link",             "failed",       True,
         R.BRIDGE_LINK),     # a meter-side bridge's transfer crosses the bridge link, as the emulator's abort
        ("ppmid_activation_success", S.ACTIVATED,         R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("ppmid_activation_failure", S.ACTIVATION_FAILED, R.ACTIVATION_FAILURE,        "activation",  "activation",       "failed",       True),
        ("readback_current",         S.VERIFIED,          R.NONE,                      _,             "verified",         "verified",     False),
        ("readback_mismatch",        S.ACTIVATION_FAILED, R.READBACK_MISMATCH,         "activation",  "activation",       "failed",       True),
        ("duis_no_response",         S.UNREACHABLE,       R.TIMEOUT,                   "unreachable", "link",             "failed",       True),
    ),
    *_rows(CAMPAIGN,
        # targeting's exclusions (never requested)
        ("joined_as_cad",            S.NOT_ELIGIBLE,      R.JOINED_AS_CAD,             _,             "joined_as_cad",    "not_eligible", True),
        ("suspended",                S.NOT_ELIGIBLE,      R.SUSPENDED,                 _,             "suspended",        "not_eligible", False),
        ("decommissioned",           S.NOT_ELIGIBLE,      R.DECOMMISSIONED,            _,             "not_commissioned", "not_eligible", False),
        ("not_commissioned",         S.NOT_ELIGIBLE,      R.NOT_COMMISSIONED,          _,             "not_commissioned", "not_eligible", False),
        ("hardware_mismatch",        S.NOT_ELIGIBLE,      R.HARDWARE_MISMATCH,         _,             "not_eligible",     "not_eligible", False),
        ("no_upgrade_path",          S.NOT_ELIGIBLE,      R.NO_UPGRADE_PATH,           _,             "not_eligible",     "not_eligible", False),
        ("already_current",          S.NOT_ELIGIBLE,      R.ALREADY_CURRENT,           _,             "not_eligible",     "not_eligible", False),
        ("excluded",                 S.NOT_ELIGIBLE,      R.EXCLUDED,                  _,             "not_eligible",     "not_eligible", False),
        ("no_safe_pair_order",       S.NOT_ELIGIBLE,      R.NO_SAFE_PAIR_ORDER,        _,             "not_eligible",     "not_eligible", False),
        # the stages a requested device passes through
        ("targeted",                 S.TARGETED,          R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("requested",                S.REQUESTED,         R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("image_at_ch",              S.IMAGE_AT_CH,       R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("downloading",              S.DOWNLOADING,       R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("downloaded",               S.DOWNLOADED,        R.NONE,                      _,             "in_progress",      "in_progress",  False),
        ("activated",                S.ACTIVATED,         R.NONE,                      _,             "in_progress",      "in_progress",  False),
        # an abort (by a threshold or an operator) cancels what was not requested yet
        ("cancelled",                S.CANCELLED,         R.ABORTED,                   _,             "stopped",          "cancelled",    False),
        # a resumed run on a later fleet extract withdraws, before requesting them, the devices that left the
        # plan's scope since it was planned (the campaign goes on without them; counted with the cancelled)
        ("withdrawn_supplier_changed", S.WITHDRAWN,       R.SUPPLIER_CHANGED,          _,             "withdrawn",        "cancelled",    False),
        ("withdrawn_left_targets",   S.WITHDRAWN,         R.LEFT_TARGETS,              _,             "withdrawn",        "cancelled",    False),
    ),
)
del S, R, _

BY_KEY = {row.key: row for row in OUTCOME_ROWS}
# the retry policy's failure classes, in table order
FAILURE_CLASSES = tuple(dict.fromkeys(row.retry for row in OUTCOME_ROWS if row.retry is not None))


def outcome(key: str) -> Outcome:
    """The row of ``key``; CampaignError naming the known keys if there is none."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise CampaignError(f"no outcome {key!r} in the outcome table (campaign/outcomes.py); "
                            f"known: {', '.join(BY_KEY)}") from None


def _states_of(category: str) -> frozenset[State]:
    return frozenset(row.state for row in OUTCOME_ROWS if row.category == category)


IN_PROGRESS = _states_of("in_progress")
FAILED = _states_of("failed")
FINAL = frozenset(row.state for row in OUTCOME_ROWS if row.state is not None) - IN_PROGRESS
STATE_CATEGORY = {row.state: row.category for row in OUTCOME_ROWS if row.state is not None}


def state_pairs() -> dict[tuple[int, int], Outcome]:
    """(state, reason) -> the first row recording it, for every pair a producer may write to the store (rows
    that share a pair agree on everything the reports read: see check_table)."""
    pairs: dict[tuple[int, int], Outcome] = {}
    for row in OUTCOME_ROWS:
        if row.state is None:
            continue
        for reason in {row.reason, row.reason_on(1)}:
            pairs.setdefault((int(row.state), int(reason)), row)
    return pairs


def check_table(emulator_outcomes: tuple[str, ...] | None = None) -> None:
    """CampaignError naming every inconsistency: a C emulator outcome without a row (or a row the C enum does
    not have), duplicate keys, an unknown cause or category, a retry class the policy cannot hold, a state in
    two categories, or two rows that record the same (state, reason) but disagree on what it means."""
    from ..emulate.result import OUTCOMES

    emulator_outcomes = OUTCOMES if emulator_outcomes is None else emulator_outcomes
    problems = []
    keys = [row.key for row in OUTCOME_ROWS]
    problems += [f"key {k!r} appears {keys.count(k)} times" for k in sorted(set(keys)) if keys.count(k) > 1]
    ours = [row.key for row in OUTCOME_ROWS if row.source == EMULATOR]
    problems += [f"the C engine's outcome {k!r} (csrc/emu.h) has no row" for k in emulator_outcomes if k not in ours]
    problems += [f"emulator row {k!r} is not an outcome of the C engine" for k in ours if k not in emulator_outcomes]
    category_of: dict[State, str] = {}
    meaning_of: dict[tuple[int, int], tuple] = {}
    for row in OUTCOME_ROWS:
        where = f"row {row.key!r}"
        if row.source not in (EMULATOR, DUIS, CAMPAIGN):
            problems.append(f"{where}: unknown source {row.source!r}")
        if row.state is None:
            if row.cause is not None or row.category is not None or row.retry is not None or row.site_visit:
                problems.append(f"{where}: moves no device, so it has no cause, category, retry class or visit")
            continue
        if row.cause not in CAUSE_KEYS and not (row.cause == VERIFIED_CAUSE and row.category == "verified"):
            problems.append(f"{where}: unknown out-of-sync cause {row.cause!r}")
        if row.category not in CATEGORIES:
            problems.append(f"{where}: unknown report category {row.category!r}")
        if category_of.setdefault(row.state, row.category) != row.category:
            problems.append(f"{where}: state {row.state.label} is in category {category_of[row.state]!r} "
                            f"elsewhere, {row.category!r} here")
        for reason in {row.reason, row.reason_on(1)}:
            meaning = (row.cause, row.category, row.retry, row.site_visit)
            first = meaning_of.setdefault((int(row.state), int(reason)), meaning)
            if first != meaning:
                problems.append(f"{where}: ({row.state.label}, {reason.label}) means {meaning} here and {first} "
                                "in an earlier row")
    missing = [s.label for s in State if s not in category_of]
    if missing:
        problems.append(f"state(s) {', '.join(missing)} in no row (so in no report category)")
    if problems:
        raise CampaignError("outcome table (campaign/outcomes.py): " + "; ".join(problems))


@functools.cache
def emulator_rows() -> tuple[Outcome, ...]:
    """The rows of the C engine's outcomes, indexed by outcome code (checked against the table first)."""
    from ..emulate.result import OUTCOMES

    check_table()
    return tuple(BY_KEY[name] for name in OUTCOMES)
