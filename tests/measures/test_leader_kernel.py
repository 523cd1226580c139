"""The compiled one-radius merge against the rule written out plainly (MEASURES.md §4a)."""

import numpy as np

from neurocomplex.measures._leader_kernel import merge_radius


def _rule(u, v, w, alive):
    """Each row: clusters in merge order (heaviest first, then the smaller index); one with a
    surviving earlier neighbour merges into the first such, any other survives."""
    w, alive = w.copy(), alive.copy()
    for b in range(w.shape[0]):
        start = w[b].copy()
        near = {i: set() for i in range(w.shape[1])}
        for i, j in zip(u.tolist(), v.tolist()):
            if alive[b, i] and alive[b, j]:
                near[i].add(j)
                near[j].add(i)
        survivors: list[int] = []
        for i in sorted(np.flatnonzero(alive[b]).tolist(), key=lambda i: (-start[i], i)):
            into = next((s for s in survivors if s in near[i]), None)
            if into is None:
                survivors.append(i)
            else:
                w[b, into] += start[i]
                w[b, i] = 0
                alive[b, i] = False
    return w, alive


def _pairs(rng, n_words, n_pairs):
    u, v = rng.integers(0, n_words, n_pairs), rng.integers(0, n_words, n_pairs)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = np.unique((lo * n_words + hi)[lo != hi])
    return key // n_words, key % n_words


def test_every_row_follows_the_rule_with_ties_and_dead_words():
    rng = np.random.default_rng(3)
    for _ in range(300):
        # up to 130 rows: three 64-bit words of replicate flags; weights with ties and zeros
        n_rep, n_words = int(rng.choice([1, 2, 5, 64, 65, 130])), int(rng.integers(2, 40))
        u, v = _pairs(rng, n_words, int(rng.integers(0, 150)))
        w = rng.integers(0, int(rng.integers(1, 6)), (n_rep, n_words)).astype(np.int64)
        # words alive in few rows too: pairs then alive in under 1/8 of the rows (the set-bit route)
        w *= rng.random(w.shape) < rng.choice([1.0, 0.15])
        alive = w > 0
        n_alive = int(alive.sum())
        expected_w, expected_alive = _rule(u, v, w, alive)
        target = np.full(n_words, -1, dtype=np.int64)
        merges = merge_radius(u, v, w, alive, target)
        np.testing.assert_array_equal(w, expected_w)
        np.testing.assert_array_equal(alive, expected_alive)
        assert merges == n_alive - int(expected_alive.sum())
        merged = np.flatnonzero(target >= 0)  # the last row's merges: into a survivor of that row
        assert not alive[-1, merged].any() and alive[-1, target[merged]].all()


def test_a_chain_as_long_as_the_words_is_walked():
    # Weights fall along a path, so each word's fate depends on the one before it: 20,000 levels.
    n = 20_000
    u, v = np.arange(n - 1, dtype=np.int64), np.arange(1, n, dtype=np.int64)
    w = np.arange(2 * n, n, -1, dtype=np.int64)[None, :].copy()
    alive = np.ones_like(w, dtype=bool)
    target = np.full(n, -1, dtype=np.int64)
    assert merge_radius(u, v, w, alive, target) == n // 2
    np.testing.assert_array_equal(alive[0], np.arange(n) % 2 == 0)  # every other word survives
    np.testing.assert_array_equal(target[1::2], np.arange(0, n, 2))
    assert int(w.sum()) == int(np.arange(2 * n, n, -1).sum())
