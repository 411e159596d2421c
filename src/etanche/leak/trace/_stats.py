"""Null distributions of the trace tests, as log10 p-values (tiny ones stay finite).

Fingerprint agreement: under innocence an export's choice among ``k`` writings is
uniform and independent of what was found, so each observed mark agrees with
probability exactly 1/k whatever the found file did; the number of agreements
is a sum of binomials (one per k), its upper tail computed exactly while it is
representable, then by the Chernoff bound (always an upper bound: conservative).

A trial may also be a set of ``m`` distinct writings of one value seen in the
file (several rows of one patient): it agrees with probability ``m/k``.

Fully agreeing rows: a row (or a patient's rows) whose every observed writing
is the export's choice has, under innocence, probability at most ``q`` (the
product of the ``1/k``, summed over the patient's distinct rows); the weighted
count ``sum -ln q`` over such patients is bounded by Chernoff's inequality.

Row order: under innocence the export's keyed order of the found rows is a
uniformly random permutation, so the number of inversions between file order and
keyed order follows the Mahonian distribution: exact up to ``EXACT_ORDER`` rows,
beyond that a sub-Gaussian bound (Kendall's S is a sum of independent discrete
uniforms, each strictly sub-Gaussian): P(S >= s) <= exp(-s^2 / (2 Var S)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXACT_ORDER",
    "LOG10_FLOOR",
    "agreement_log10p",
    "fisher_log10p",
    "inversions",
    "order_log10p",
    "set_agreement_log10p",
    "weighted_hits_log10p",
]

EXACT_ORDER = 150
LOG10_FLOOR = -300.0
_LN10 = math.log(10.0)
_VECTOR_INVERSIONS = 1500

FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=64)
def _log_factorials(n: int) -> FloatArray:
    return np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))))


def _binomial_pmf(n: int, p: float) -> FloatArray:
    lf = _log_factorials(n)
    j = np.arange(n + 1, dtype=np.float64)
    log_pmf = lf[n] - lf[: n + 1] - lf[n::-1] + j * math.log(p) + (n - j) * math.log1p(-p)
    pmf: FloatArray = np.exp(log_pmf)
    return pmf


def _chernoff_log10(groups: Mapping[float, int], x: int) -> float:
    """log10 of min_t exp(-t x) prod (1 - p + p e^t)^n  (trials of probability p)."""
    n_total = sum(groups.values())
    if x >= n_total:
        return sum(n * math.log10(p) for p, n in groups.items())

    def log_mgf(t: float) -> float:
        return sum(n * math.log1p((math.exp(t) - 1.0) * p) for p, n in groups.items())

    def slope(t: float) -> float:
        e = math.exp(t)
        return sum(n * (e * p) / (1.0 - p + e * p) for p, n in groups.items()) - x

    lo, hi = 0.0, 1.0
    while slope(hi) < 0 and hi < 700:
        hi *= 2
    for _ in range(80):
        mid = (lo + hi) / 2
        if slope(mid) < 0:
            lo = mid
        else:
            hi = mid
    t = (lo + hi) / 2
    return min(0.0, (log_mgf(t) - t * x) / _LN10)


def _tail_log10(trials: Mapping[float, int], x: int) -> float:
    """log10 P(sum of independent Bernoulli(p), n of each p, >= x)."""
    mean = sum(n * p for p, n in trials.items())
    if x <= mean:
        return 0.0  # not above what chance gives: reported as p = 1 (conservative)
    pmf: FloatArray = np.ones(1)
    for p, n in sorted(trials.items()):
        pmf = np.convolve(pmf, _binomial_pmf(n, p))
    tail = float(pmf[x:].sum())
    if tail > 1e-300:
        return min(0.0, math.log10(tail))
    return max(LOG10_FLOOR * 10, _chernoff_log10(trials, x))


def agreement_log10p(groups: Mapping[int, tuple[int, int]]) -> float:
    """log10 P(agreements >= observed) for {k: (trials, agreements)} under innocence."""
    return set_agreement_log10p({(1, k): t for k, t in groups.items()})


def set_agreement_log10p(groups: Mapping[tuple[int, int], tuple[int, int]]) -> float:
    """The same for {(m, k): (trials, agreements)}: each trial agrees with probability m/k."""
    trials: dict[float, int] = {}
    for (m, k), (n, _) in groups.items():
        if n > 0 and m < k:
            trials[m / k] = trials.get(m / k, 0) + n
    x = sum(a for (m, k), (_, a) in groups.items() if m < k)
    if not trials or x == 0:
        return 0.0
    return _tail_log10(trials, x)


def weighted_hits_log10p(chances: Sequence[float], hits: Sequence[bool]) -> float:
    """log10 P(S >= s), S = sum of -ln q_i over independent events of probability <= q_i.

    ``chances`` are the q_i (0 < q_i <= 1), ``hits`` which events happened. The
    bound is Chernoff's: min over t of exp(-t s) prod (1 - q + q^(1 - t)); an
    upper bound, so conservative.
    """
    q = np.array([c for c in chances if c < 1.0], dtype=np.float64)
    w = -np.log(q)
    s = float(sum(-math.log(c) for c, h in zip(chances, hits, strict=True) if h and c < 1.0))
    if s <= 0 or not len(q) or s <= float(np.dot(q, w)):
        return 0.0

    def bound(t: float) -> float:
        return float(np.sum(np.log1p(q ** (1.0 - t) - q))) - t * s

    lo, hi = 0.0, 30.0  # convex in t: golden-section search
    for _ in range(40):
        a = lo + (hi - lo) * 0.382
        b = lo + (hi - lo) * 0.618
        if bound(a) < bound(b):
            hi = b
        else:
            lo = a
    best = min(0.0, bound((lo + hi) / 2))
    return max(LOG10_FLOOR * 10, best / _LN10)


def inversions(values: Sequence[int]) -> int:
    """Pairs i < j with values[i] > values[j] (vectorised when small, else merge sort)."""
    if len(values) <= _VECTOR_INVERSIONS:
        a = np.array(values, dtype=np.uint64)
        return int(np.count_nonzero(np.triu(a[:, None] > a[None, :], 1)))

    def sort(items: list[int]) -> tuple[list[int], int]:
        if len(items) <= 1:
            return items, 0
        middle = len(items) // 2
        left, a = sort(items[:middle])
        right, b = sort(items[middle:])
        merged: list[int] = []
        count = a + b
        i = j = 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                count += len(left) - i
                j += 1
        merged.extend(left[i:])
        merged.extend(right[j:])
        return merged, count

    return sort(list(values))[1]


@lru_cache(maxsize=1)
def _mahonian_cdfs() -> tuple[FloatArray, ...]:
    """P(inversions <= i) for a uniform permutation of m items, m = 0..EXACT_ORDER."""
    out: list[FloatArray] = [np.ones(1), np.ones(1)]
    dist: FloatArray = np.ones(1)
    for m in range(2, EXACT_ORDER + 1):
        # add the m-th item: it creates 0..m-1 new inversions, uniformly
        cum = np.concatenate(([0.0], np.cumsum(dist)))
        size = len(dist) + m - 1
        idx = np.arange(size)
        upper = np.minimum(idx, len(dist) - 1) + 1
        lower = np.maximum(idx - (m - 1), 0)
        dist = (cum[upper] - cum[lower]) / m
        out.append(np.cumsum(dist))
    return tuple(out)


def order_log10p(m: int, found_inversions: int) -> float:
    """log10 P(inversions <= observed) for m rows in random order (few inversions = agreement)."""
    if m < 2:
        return 0.0
    if m <= EXACT_ORDER:
        cdf = _mahonian_cdfs()[m]
        value = float(min(1.0, cdf[min(found_inversions, len(cdf) - 1)]))
        return math.log10(value) if value > 0 else LOG10_FLOOR
    pairs = m * (m - 1) // 2
    s = pairs - 2 * found_inversions  # Kendall's S
    if s <= 0:
        return 0.0
    variance = m * (m - 1) * (2 * m + 5) / 18
    return -(s * s) / (2 * variance) / _LN10


def fisher_log10p(log10_ps: Sequence[float]) -> float:
    """Fisher's combination of independent p-values: P(X >= -2 ln prod p), X ~ chi2(2n).

    Closed form: P = q * sum_{j<n} (-ln q)^j / j!, q = prod p. Discrete p-values
    (binomial, Mahonian) are conservative, so the combination is too.
    """
    if not log10_ps:
        return 0.0
    ln_q = sum(log10_ps) * _LN10  # <= 0
    x = -ln_q
    terms = [j * math.log(x) - math.lgamma(j + 1) for j in range(len(log10_ps))] if x > 0 else [0.0]
    top = max(terms)
    log_sum = top + math.log(sum(math.exp(t - top) for t in terms))
    return min(0.0, (ln_q + log_sum) / _LN10)
