"""Spread of a metric across replications: mean and a Student-t confidence interval of the mean.

Student's t distribution is computed here (no SciPy needed): for integer degrees of freedom ν the
probability P(|T| <= t) has a finite closed form in θ = atan(t / √ν) (Abramowitz & Stegun 26.7.3-4), which
is inverted by bisection.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..errors import ParameterError


def t_two_sided(t: float, dof: int) -> float:
    """P(|T| <= t) for Student's t with ``dof`` degrees of freedom (A&S 26.7.3 and 26.7.4)."""
    theta = math.atan(t / math.sqrt(dof))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if dof % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(2, dof, 2):                 # products (1·3···(k−1)) / (2·4···k) of cos^k
            term *= c2 * (k - 1) / k
            total += term
        return s * total
    if dof == 1:
        return 2 * theta / math.pi
    term = math.cos(theta)
    total = term
    for k in range(3, dof - 1, 2):                 # products (2·4···(k−1)) / (1·3···k) of cos^k
        term *= c2 * (k - 1) / k
        total += term
    return 2 / math.pi * (theta + s * total)


@lru_cache(maxsize=256)
def t_critical(confidence: float, dof: int) -> float:
    """t such that P(|T| <= t) = confidence."""
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}")
    if dof < 1:
        raise ParameterError(f"degrees of freedom must be >= 1, got {dof}")
    lo, hi = 0.0, 1.0
    while t_two_sided(hi, dof) < confidence:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if t_two_sided(mid, dof) < confidence else (lo, mid)
    return (lo + hi) / 2


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, CI low, CI high, n) over the finite values (a quantile is NaN in a run where nothing
    completed); the interval is NaN with fewer than two values."""
    finite = [v for v in values if math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = math.fsum(finite) / n
    if n == 1:
        return mean, math.nan, math.nan, 1
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1))
    half = t_critical(confidence, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half, n
