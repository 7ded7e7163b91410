"""Campaigns: plan, run and track firmware rollouts over a fleet (SRV 11.4 / CS05c, CS09, SRV 11.2)."""

from .states import FAILED, FINAL, IN_PROGRESS, Reason, State

__all__ = ["FAILED", "FINAL", "IN_PROGRESS", "Reason", "State"]
