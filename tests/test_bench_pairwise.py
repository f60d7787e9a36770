"""The benchmarks' ratios pair by pair (bench/peers.py, ``pairwise``): repetition i of one command
beside repetition i of the other, so the printed range shows the machine's noise beside the ratio
of the bests."""
from __future__ import annotations

from bench.peers import Figure, pairwise


def fig(cpu: float) -> Figure:
    return Figure(cpu=cpu, wall=cpu, peak_mb=1.0)


def test_the_range_is_taken_pair_by_pair_not_from_the_bests():
    ours = [fig(5.88), fig(4.60)]
    hugo = [fig(2.56), fig(2.83)]
    # the bests give 4.60 / 2.56 = 1.80; the pairs 2.30 and 1.63
    assert pairwise(ours, hugo) == "; pair by pair 1.63–2.30x"


def test_pairs_follow_the_repetitions_order():
    assert pairwise([fig(1.0), fig(3.0)], [fig(2.0), fig(1.0)]) == "; pair by pair 0.50–3.00x"
    assert pairwise([fig(3.0), fig(1.0)], [fig(1.0), fig(2.0)]) == "; pair by pair 0.50–3.00x"


def test_one_pair_says_nothing_of_the_noise():
    assert pairwise([fig(1.0)], [fig(2.0)]) == ""
    assert pairwise([fig(1.0), fig(2.0)], [fig(2.0)]) == ""  # a peer measured once: one pair
    assert pairwise([], []) == ""
