"""similarity_matrix's RSA computes each recording's RDM (and split-half reliability) once for all
its pairs, and CKA each recording's sample Gram matrix: the table equals pair-by-pair calls
exactly, and a stored part serves only the exact question it was computed for, within a budget of
bytes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import rsa as rsa_mod
from neurocomplex.stats import pair_blocks as pbk
from neurocomplex.stats import shared_parts as sp


def _populations(n_cond=24, repeats=3, seed=0):
    rng = np.random.default_rng(seed)
    z = np.repeat(rng.normal(size=(n_cond, 4)), repeats, axis=0)
    labels = {"stimulus": np.repeat(np.arange(n_cond), repeats)}
    n = n_cond * repeats

    def rec(a):
        return nc.Recording.from_array(a, labels=labels)

    areas = {f"a{i}": rec(z @ rng.normal(size=(4, w)) + rng.normal(size=(n, w))) for i, w in enumerate((5, 8, 3))}
    layers = {"wide": rec((z @ rng.normal(size=(4, 90))).astype(np.float32)),  # identical repeats: r' = 1
              "noisy": rec(z @ rng.normal(size=(4, 12)) + 0.5 * rng.normal(size=(n, 12))),
              "counts": rec(rng.poisson(np.exp(z @ rng.normal(size=(4, 6)) / 3)).astype(float))}
    return areas, layers


@pytest.mark.parametrize(("compare", "n_boot"), [("spearman", 0), ("spearman", 40), ("kendall_tau_a", 40)])
def test_shared_rdms_give_the_pairwise_table(compare, n_boot, monkeypatch):
    areas, layers = _populations()
    made = []
    real = rsa_mod._rdm

    def counting(sums, counts, distance, where):
        made.append(where)
        return real(sums, counts, distance, where)

    monkeypatch.setattr(rsa_mod, "_rdm", counting)
    df = nc.similarity_matrix(areas, layers, metric="rsa", compare=compare, conditions="stimulus", n_boot=n_boot,
                              progress=False)
    # one RDM per recording, and its split halves once
    assert made.count("x") + made.count("y") == len(areas) + len(layers)
    halves_in_matrix = made.count("split half")
    made.clear()
    for rec in [*areas.values(), layers["noisy"], layers["counts"]]:  # the layer "wide" needs no halves
        nc.rsa(rec, layers["wide"], conditions="stimulus", n_boot=0)
    assert halves_in_matrix == made.count("split half") > 2 * 20 * 4
    made.clear()
    for _, row in df.iterrows():
        est = nc.rsa(areas[row["area"]], layers[row["layer"]], compare=compare, conditions="stimulus",
                     n_boot=n_boot, seed=0)
        assert row["value"] == est.value
        if n_boot:
            assert (row["ci_low"], row["ci_high"]) == est.ci
    assert made.count("x") + made.count("y") == 2 * len(df)  # outside the matrix nothing is shared
    assert list(df["area"]) == [a for a in areas for _ in layers]  # rows stay area by area


@pytest.mark.parametrize("n_boot", [0, 30])
def test_shared_gram_matrices_give_the_pairwise_cka_table(n_boot, monkeypatch):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(40, 4))  # 40 samples, more units than samples in every pair: the Gram route
    areas = {f"a{i}": nc.Recording.from_array(z @ rng.normal(size=(4, w)) + rng.normal(size=(40, w)))
             for i, w in enumerate((30, 45, 20))}
    layers = {f"l{i}": nc.Recording.from_array(np.maximum(z @ rng.normal(size=(4, w)), 0).astype(np.float32))
              for i, w in enumerate((90, 60))}
    layers["counts"] = nc.Recording.from_array(rng.poisson(np.exp(z @ rng.normal(size=(4, 50)) / 4)))  # int64
    made = []
    real = pbk._gram_side

    def counting(a, order, starts):
        made.append(a.shape)
        return real(a, order, starts)

    monkeypatch.setattr(pbk, "_gram_side", counting)
    df = nc.similarity_matrix(areas, layers, n_boot=n_boot, progress=False)
    assert len(made) == len(areas) + len(layers)  # once per recording, not twice per pair
    made.clear()
    for _, row in df.iterrows():
        est = nc.cka(areas[row["area"]], layers[row["layer"]], n_boot=n_boot,
                     **({"n_blocks": df.attrs["params"]["n_blocks"]} if n_boot else {}))
        assert row["value"] == est.value
        if n_boot:
            assert (row["ci_low"], row["ci_high"]) == est.ci
    assert len(made) == 2 * len(df)


def test_shared_shape_data_give_the_pairwise_shape_distance_table(monkeypatch):
    from neurocomplex.measures import similarity as sim

    rng = np.random.default_rng(4)
    z = rng.normal(size=(60, 4))
    areas = {f"a{i}": nc.Recording.from_array(z @ rng.normal(size=(4, w)) + rng.normal(size=(60, w)))
             for i, w in enumerate((6, 9))}
    layers = {f"l{i}": nc.Recording.from_array(np.tanh(z @ rng.normal(size=(4, w)))) for i, w in enumerate((80, 12, 70))}
    made = []
    real = sim._narrow

    def counting(a):
        made.append(a.shape)
        return real(a)

    monkeypatch.setattr(sim, "_narrow", counting)
    with pytest.warns(nc.NeurocomplexWarning, match="dominated by its bias"):
        df = nc.similarity_matrix(areas, layers, metric="shape_distance", n_boot=20, progress=False)
    assert len(made) == len(areas) + len(layers)
    made.clear()
    for _, row in df.iterrows():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # the same bias warnings, pair by pair
            est = nc.shape_distance(areas[row["area"]], layers[row["layer"]], n_boot=20,
                                    n_blocks=df.attrs["params"]["n_blocks"])
        assert row["value"] == est.value and (row["ci_low"], row["ci_high"]) == est.ci
    assert len(made) == 2 * len(df)


def test_a_populations_reliability_does_not_depend_on_the_other_side():
    areas, layers = _populations()
    a = nc.rsa(areas["a0"], layers["noisy"], conditions="stimulus", n_boot=0).diagnostics
    b = nc.rsa(areas["a1"], layers["noisy"], conditions="stimulus", n_boot=0).diagnostics
    c = nc.rsa(layers["wide"], layers["noisy"], conditions="stimulus", n_boot=0).diagnostics
    d = nc.rsa(layers["noisy"], areas["a0"], conditions="stimulus", n_boot=0).diagnostics
    assert a["reliability_y"] == b["reliability_y"] == c["reliability_y"] == d["reliability_x"]
    assert c["reliability_x"] == 1.0 and 0 < a["reliability_y"] < 1
    assert a["reliability_x"] == d["reliability_y"]


def test_a_part_serves_only_its_own_question_within_the_budget():
    anchor, twin = np.zeros(4), np.zeros(4)
    calls = []

    def make(tag, nbytes):
        def f():
            calls.append(tag)
            return np.zeros(nbytes // 8)
        return f

    assert sp.shared_part(anchor, "k", make("out", 80), lambda v: v.nbytes).size == 10  # nothing kept outside
    with sp.shared_parts(budget_bytes=200) as store:
        first = sp.shared_part(anchor, "k", make("a", 80), lambda v: v.nbytes)
        assert sp.shared_part(anchor, "k", make("a again", 80), lambda v: v.nbytes) is first
        assert sp.shared_part(anchor, "other key", make("b", 80), lambda v: v.nbytes) is not first
        assert sp.shared_part(twin, "k", make("twin", 80), lambda v: v.nbytes) is not first  # equal, another object
        # "twin" needed room: the least recently used part ("k") left
        assert sp.shared_part(anchor, "k", make("a after", 80), lambda v: v.nbytes) is not first
        big = sp.shared_part(anchor, "big", make("big", 800), lambda v: v.nbytes)
        assert sp.shared_part(anchor, "big", make("big again", 800), lambda v: v.nbytes) is not big  # never stored
        assert store.held <= 200 and (store.hits, store.misses) == (1, 6)
    assert calls == ["out", "a", "b", "twin", "a after", "big", "big again"]
    assert sp.nbytes_of([first, first, np.zeros(3)]) == 80 + 24
