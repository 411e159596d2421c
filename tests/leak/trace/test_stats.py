"""The null distributions against brute force; bounds never below the exact value."""

from __future__ import annotations

import itertools
import math
import random

from etanche.leak.trace._stats import (
    _chernoff_log10,
    agreement_log10p,
    fisher_log10p,
    inversions,
    order_log10p,
    set_agreement_log10p,
    weighted_hits_log10p,
)


def _brute_tail(groups: dict[int, tuple[int, int]]) -> float:
    """P(sum >= x) by enumerating every outcome of every trial."""
    trials = [k for k, (n, _) in groups.items() for _ in range(n)]
    x = sum(a for _, a in groups.values())
    total = 0.0
    for outcome in itertools.product([0, 1], repeat=len(trials)):
        if sum(outcome) >= x:
            total += math.prod(
                (1 / k) if o else (1 - 1 / k) for k, o in zip(trials, outcome, strict=True)
            )
    return total


def test_agreement_tail_is_exact() -> None:
    rng = random.Random(5)
    for _ in range(30):
        groups = {k: (n, 0) for k, n in ((2, rng.randint(0, 4)), (3, rng.randint(0, 4)),
                                        (6, rng.randint(1, 4)))}  # fmt: skip
        n_total = sum(n for n, _ in groups.values())
        x = rng.randint(0, n_total)
        k6 = groups[6][0]
        groups[6] = (k6, min(k6, x))
        groups[3] = (groups[3][0], min(groups[3][0], x - groups[6][1]))
        exact = _brute_tail(groups)
        mean = sum(n / k for k, (n, _) in groups.items())
        got = 10 ** agreement_log10p(groups)
        observed = sum(a for _, a in groups.values())
        if observed <= mean:
            assert got == 1.0  # reported conservatively
        else:
            assert math.isclose(got, exact, rel_tol=1e-9)


def test_all_agreeing_gives_the_product_and_chernoff_bounds_from_above() -> None:
    groups = {6: (400, 400), 2: (300, 300)}
    expected = 400 * -math.log10(6) + 300 * -math.log10(2)
    assert math.isclose(agreement_log10p(groups), expected, rel_tol=1e-9)
    for n, x in ((50, 20), (80, 40), (200, 120)):
        exact = math.log10(_tail_binomial(n, 1 / 6, x))
        assert _chernoff_log10({1 / 6: n}, x) >= exact - 1e-9


def _tail_binomial(n: int, p: float, x: int) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(x, n + 1))


def test_order_tail_matches_every_permutation() -> None:
    for m in range(2, 7):
        counts = [inversions(list(p)) for p in itertools.permutations(range(m))]
        for observed in range(m * (m - 1) // 2 + 1):
            exact = sum(c <= observed for c in counts) / len(counts)
            assert math.isclose(10 ** order_log10p(m, observed), exact, rel_tol=1e-9)


def test_order_bound_beyond_exact_sizes_is_conservative_and_small_when_sorted() -> None:
    assert order_log10p(1000, 0) < -300  # a sorted file of 1,000 rows
    assert order_log10p(1000, 1000 * 999 // 4) == 0.0  # half the pairs inverted
    assert math.isclose(order_log10p(20, 0), -math.log10(math.factorial(20)), rel_tol=1e-9)


def test_inversions_count() -> None:
    rng = random.Random(2)
    for _ in range(20):
        values = [rng.randint(0, 30) for _ in range(rng.randint(0, 40))]
        brute = sum(
            values[i] > values[j] for i in range(len(values)) for j in range(i + 1, len(values))
        )
        assert inversions(values) == brute


def test_fisher_combination() -> None:
    assert fisher_log10p((0.0, 0.0)) == 0.0
    assert fisher_log10p(()) == 0.0
    assert math.isclose(fisher_log10p((-4.0,)), -4.0)  # one p-value: itself
    # three: q (1 + L + L^2 / 2), L = -ln q
    q = 1e-9
    big_l = -math.log(q)
    three = q * (1 + big_l + big_l**2 / 2)
    assert math.isclose(10 ** fisher_log10p((-3.0, -3.0, -3.0)), three, rel_tol=1e-9)
    q = 1e-6
    expected = q * (1 - math.log(q))
    assert math.isclose(10 ** fisher_log10p((-3.0, -3.0)), expected, rel_tol=1e-9)


def test_weighted_hits_bound_is_never_below_the_exact_tail() -> None:
    rng = random.Random(12)
    for _ in range(20):
        chances = [rng.choice([0.5, 1 / 6, 1 / 12, 1 / 36, 1 / 108]) for _ in range(8)]
        hits = [rng.random() < 0.5 for _ in chances]
        s = sum(-math.log(c) for c, h in zip(chances, hits, strict=True) if h)
        exact = 0.0
        for outcome in itertools.product([0, 1], repeat=len(chances)):
            if sum(-math.log(c) for c, o in zip(chances, outcome, strict=True) if o) >= s - 1e-12:
                exact += math.prod(c if o else 1 - c for c, o in zip(chances, outcome, strict=True))
        assert weighted_hits_log10p(chances, hits) >= math.log10(exact) - 1e-9
    assert weighted_hits_log10p([1 / 108] * 20, [True] * 20) < -30
    assert weighted_hits_log10p([0.5, 0.5], [False, False]) == 0.0


def test_a_set_of_m_writings_agrees_with_probability_m_over_k() -> None:
    # two writings out of six seen for each of 10 values, all agreeing: (1/3)^10
    assert math.isclose(set_agreement_log10p({(2, 6): (10, 10)}), 10 * math.log10(1 / 3))
    assert set_agreement_log10p({(2, 2): (10, 10)}) == 0.0  # every writing seen: no evidence
