"""The one statistical test copybot makes its decisions with: is one rate higher than another?

Used for a fine-tuned candidate's A/B test and auto-rollback (approval rates) and for review alerts
(a theme's negative share week over week).
"""

from __future__ import annotations


def p_higher_rate(hits_a: int, misses_a: int, hits_b: int, misses_b: int) -> float:
    """One-sided Fisher's exact test: the p-value of "a's rate of hits is higher than b's"."""
    from scipy.stats import fisher_exact

    _, p = fisher_exact([[hits_a, misses_a], [hits_b, misses_b]], alternative="greater")
    return float(p)
