"""Campaigns: plan, run and track firmware rollouts over a fleet (SRV 11.4 / CS05c, CS09, SRV 11.2)."""

from .from_release import plan_from_release
from .outcomes import FAILED, FINAL, IN_PROGRESS, OUTCOME_ROWS, Outcome, Reason, outcome
from .plan import CampaignPlan, RetryPolicy, Targeting, WavePlan, make_waves, target
from .plan_options import plan_from_options
from .runner import RunReport, abort_campaign, create_campaign, pause_campaign, predict, run_campaign
from .states import State
from .store import CampaignStore
from .summary import summarise

__all__ = ["FAILED", "FINAL", "IN_PROGRESS", "OUTCOME_ROWS", "CampaignPlan", "CampaignStore", "Outcome", "Reason",
           "RetryPolicy", "RunReport", "State", "Targeting", "WavePlan", "abort_campaign", "create_campaign",
           "make_waves", "outcome", "pause_campaign", "plan_from_options", "plan_from_release", "predict", "run_campaign", "summarise",
           "target"]
