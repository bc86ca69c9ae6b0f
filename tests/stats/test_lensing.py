"""The lensing likelihood (sigcube.stats.lensing) against hand computations: ln L = −½ rᵀr − Σ ln diag L − n/2 ln 2π
with r = L⁻¹(d − m), checked with numpy's generic solver, against scipy's multivariate normal, and on one real
CLASH cluster from the cube's raw arrays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from sigcube.constants import GM_SUN, KM_S, KPC_M
from sigcube.model.kernels import get_kernel
from sigcube.stats.lensing import LensingError, MultivariateNormal, SharedShift, lensing_covariance


def _corr(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, 2 * n))
    c = a @ a.T
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def _by_hand(pred: np.ndarray, data: np.ndarray, cov: np.ndarray) -> float:
    chol = np.linalg.cholesky(cov)
    r = np.linalg.solve(chol, pred - data)  # generic solver, not the triangular one the module uses
    return float(-0.5 * r @ r - np.sum(np.log(np.diag(chol))) - 0.5 * len(data) * np.log(2 * np.pi))


def test_mvn_log_likelihood_matches_the_hand_computation_and_scipy():
    rng = np.random.default_rng(7)
    n = 6
    corr, stat = _corr(rng, n), rng.uniform(0.5, 2.0, n) * 1e13
    data = rng.uniform(1, 5, n) * 1e14
    cov = lensing_covariance(corr, stat)
    preds = data + rng.normal(size=(3, 4, n)) * 2e13
    mvn = MultivariateNormal.of(data, cov)
    got = mvn.log_likelihood(preds)
    assert got.shape == (3, 4)
    for idx in np.ndindex(3, 4):
        assert got[idx] == pytest.approx(_by_hand(preds[idx], data, cov), rel=1e-12)
        assert got[idx] == pytest.approx(stats.multivariate_normal(data, cov).logpdf(preds[idx]), rel=1e-10)


def test_systematics_add_in_quadrature_with_the_same_correlation():
    rng = np.random.default_rng(3)
    corr, stat, syst = _corr(rng, 4), np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 0.0, 4.0, 3.0])
    cov = lensing_covariance(corr, stat, syst, errors="stat+syst")
    assert np.allclose(np.diag(cov), stat**2 + syst**2)
    assert cov[0, 2] == pytest.approx(corr[0, 2] * np.sqrt(5.0) * 5.0)
    with pytest.raises(LensingError, match="unknown lensing error model"):
        lensing_covariance(corr, stat, errors="syst")
    with pytest.raises(LensingError, match="not positive definite"):
        MultivariateNormal.of(np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_one_clash_cluster_by_hand(clusters_cube):
    """A209: its lensing radii inside Tian's range, M_bar interpolated by hand, ln L of Σ = 3 at every radius."""
    from sigcube.io.ingest.clusters import lensing_likelihood

    like = lensing_likelihood(clusters_cube)
    cl = clusters_cube.sel(cluster="A209")
    n_rar, n_lens = int(cl["rar_n"]), int(cl["lens_n"])
    r_t = cl["rar_r"].values[:n_rar]
    m_t = 10.0 ** cl["rar_log_g_bar"].values[:n_rar] * (r_t * KPC_M) ** 2 / GM_SUN
    r_l = cl["lens_r"].values[:n_lens]
    inside = np.flatnonzero((r_l >= r_t.min()) & (r_l <= r_t.max()))
    assert len(inside) >= 2
    m_bar = np.exp(np.interp(np.log(r_l[inside]), np.log(r_t), np.log(m_t)))
    m_lens = cl["lens_M"].values[inside]
    sig = cl["lens_M_stat_err"].values[inside]
    cov = cl["lens_M_corr"].values[np.ix_(inside, inside)] * np.outer(sig, sig)
    expected = _by_hand(3.0 * m_bar, m_lens, cov)

    k = like.names.index("A209")
    a, b = like.offsets[k], like.offsets[k + 1]
    v_bar = np.sqrt(GM_SUN * m_bar / (r_l[inside] * KPC_M)) / KM_S
    assert np.allclose(like.v_bar[a:b], v_bar, rtol=1e-12)
    v_pred = np.sqrt(3.0) * like.v_bar  # Σ = 3 everywhere: M_pred = 3·M_bar
    assert like.log_likelihood(v_pred[None])[0, k] == pytest.approx(expected, rel=1e-10)


# --- the cluster systematics ----------------------------------------------------------------------------------------

PAPER_CLUSTER = {"D": 1.0, "L": 600.0, "L0": 0.4, "n": 0.27}


def test_slip_formulas_give_the_seed_values():
    """SI §11 and paper §4.3 print η(Σ = 2) = 0.75, M_lens/M_dyn = 0.875 at Σ = 2, 0.90 at Σ = 1.5 and 1 at Σ = 1."""
    from sigcube.stats.lensing import gravitational_slip, lensing_mass_ratio

    assert gravitational_slip(2.0) == pytest.approx(0.75)
    assert lensing_mass_ratio(2.0) == pytest.approx(0.875)
    assert lensing_mass_ratio(1.5) == pytest.approx(0.90)
    assert lensing_mass_ratio(1.0) == pytest.approx(1.0) and gravitational_slip(1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("options, match", [
    ({"errors": "syst"}, "errors = 'syst'"),
    ({"baryons": "xray"}, "baryons = 'xray'"),
    ({"gas_dex": -0.1}, "gas_dex"),
    ({"gas_dex": True}, "gas_dex"),
    ({"slip": "yes"}, "slip"),
    ({"path_length": "radius"}, "path_length"),
    ({"path_length": "lognormal"}, "path_length"),
    ({"missing_baryons": -0.1}, "missing_baryons"),
    ({"missing_baryons": "some"}, "missing_baryons"),
    ({"missing_scope": "all"}, "missing_scope"),
    ({"nodes": 0}, "nodes"),
    ({"scatter": 1}, "unknown lensing option 'scatter'"),
])
def test_bad_systematics_are_named(options, match):
    from sigcube.stats.lensing import ClusterSystematics

    with pytest.raises(LensingError, match=match):
        ClusterSystematics.of(options)


def test_systematics_name_their_nuisances():
    from sigcube.stats.lensing import ClusterSystematics

    s = ClusterSystematics.of({"baryons": "tian", "gas_dex": 0.1, "gas_scope": "shared", "path_length": "diameter",
                               "path_scatter_dex": 0.05, "missing_baryons": 0.2, "missing_scope": "cluster"})
    assert s.cluster_dims == ("tian", "missing", "path") and s.shared == SharedShift(0.1, 0.0) and s.marginalises
    assert ClusterSystematics.of({"path_length": "diameter"}).cluster_dims == ()
    assert ClusterSystematics.of({"path_length": "diameter"}).marginalises
    assert ClusterSystematics.of({"missing_baryons": 0.2}).shared == SharedShift(0.0, 0.2)
    assert not ClusterSystematics.of({"errors": "stat+syst", "slip": True}).marginalises
    text = s.describe()
    for words in ("Tian+2020", "0.1 dex", "shared by every cluster", "no lensing slip", "2·r", "node rule",
                  "f uniform on [0, 0.2]", "model choice"):
        assert words in text


def test_options_are_data_systematics_or_model_choices_and_cited_sizes_resolve():
    """Every option but the node count is a data systematic or a model choice, never both; \"cited\" takes the
    cited size, by scope for the gas systematic (Martino+2014: 3 % scatter, 2 % common offset)."""
    from sigcube.stats.lensing import DATA_OPTIONS, MODEL_OPTIONS, ClusterSystematics

    options = set(ClusterSystematics.__dataclass_fields__) - {"nodes"}
    assert set(DATA_OPTIONS) | set(MODEL_OPTIONS) == options and not set(DATA_OPTIONS) & set(MODEL_OPTIONS)
    assert set(MODEL_OPTIONS) == {"slip", "path_length"}
    cited = ClusterSystematics.of({"gas_dex": "cited", "gas_scope": "cluster", "missing_baryons": "cited",
                                   "path_scatter_dex": "cited"})
    assert cited.gas_dex == pytest.approx(np.log10(1.03), rel=1e-12)
    assert ClusterSystematics.of({"gas_dex": "cited", "gas_scope": "shared"}).gas_dex == pytest.approx(
        np.log10(1.02), rel=1e-12)
    # Chiu+2016 at M500 = 6e14: stars 1.1 %, gas 9.6 %, BCG 0.12 %; Morishita+2017 ICL up to 20 % of the stars
    assert cited.missing_baryons == pytest.approx((0.011 - 0.0012 + 0.011 * 0.2 / 0.8) / 0.096, rel=1e-12)
    assert set(cited.sources()) == {"gas_dex", "missing_baryons", "path_scatter_dex"}
    assert "model choice" in ClusterSystematics.of({"slip": True}).sources()["slip"]


def test_chord_scatter_against_monte_carlo():
    """The line-of-sight chord of a randomly oriented prolate spheroid (axis ratio q): the Gauss–Legendre scatter of
    log10 chord against 100 000 seeded random directions; a sphere has none."""
    from sigcube.stats.lensing import chord_scatter_dex

    rng = np.random.default_rng(11)
    n = rng.normal(size=(100_000, 3))
    n /= np.linalg.norm(n, axis=1)[:, None]
    for q in (0.5, 0.652, 0.8):
        chord = 1.0 / np.sqrt(n[:, 0] ** 2 + (n[:, 1] ** 2 + n[:, 2] ** 2) / q**2)
        assert chord_scatter_dex(q) == pytest.approx(np.std(np.log10(chord)), rel=0.02)
    assert chord_scatter_dex(1.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("gas, missing", [(0.02, 0.0), (0.0, 0.13), (0.01, 0.3)])
def test_shared_shift_density_against_sampled_shifts(gas, missing):
    """The shared shift's density (a normal, a uniform f mapped to log10(1 + f), their convolution) integrates to 1
    and matches a histogram of 10⁶ seeded draws of z·σ_G + log10(1 + f)."""
    from sigcube.stats.lensing import SharedShift

    shift = SharedShift(gas, missing)
    lo, hi = shift.support
    s = np.linspace(lo, hi, 4001)
    density = np.exp(shift.log_density(s))
    assert np.trapezoid(density, s) == pytest.approx(1.0, abs=2e-4)
    rng = np.random.default_rng(5)
    draws = gas * rng.normal(size=1_000_000) + np.log10(1.0 + missing * rng.uniform(size=1_000_000))
    counts, edges = np.histogram(draws, bins=40, range=(lo, hi))
    centres = 0.5 * (edges[1:] + edges[:-1])
    expected = np.exp(shift.log_density(centres)) * (edges[1] - edges[0]) * len(draws)
    big = expected > 2000
    assert np.all(np.abs(counts[big] - expected[big]) < 5 * np.sqrt(expected[big]) + 0.01 * expected[big])


def _kernel_grid():
    return get_kernel("sigma"), np.linspace(0.4, 1.2, 41)


def _by_brute_force(like, kernel, a0, shift) -> np.ndarray:
    """Σ_clusters ln ∫ L_c φ(z) dz by the trapezoid rule on z ∈ [−8, 8] (801 points): ``shift(z)`` gives the M_bar
    scale and the path length L per point for one z (the same z for a cluster's radii)."""
    from scipy.special import logsumexp

    z = np.linspace(-8.0, 8.0, 801)
    log_w = -0.5 * z**2 - 0.5 * np.log(2 * np.pi) + np.log(z[1] - z[0])
    per_z = []
    for zi in z:
        scale, length = shift(zi)
        inputs = {**like.inputs, "v_bar": like.inputs["v_bar"] * np.sqrt(scale), "g_N": like.inputs["g_N"] * scale}
        v = kernel(inputs, **{**PAPER_CLUSTER, "L": length, "A0": a0[:, None]})
        m_pred = scale * like.m_bar * (v / inputs["v_bar"]) ** 2
        per_z.append(like._by_cluster(m_pred))
    return logsumexp(np.array(per_z) + log_w[:, None, None], axis=0)  # (A0, clusters)


def test_per_cluster_gas_systematic_against_a_brute_force_integral(clusters_cube):
    """One z per cluster, M_bar·10^(0.1 z): the node rule's ln L per cluster equals an 801-point trapezoid."""
    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel, a0 = _kernel_grid()
    like = lensing_likelihood(clusters_cube, options={"gas_dex": 0.1})
    got = like.evaluate(kernel, PAPER_CLUSTER, {"A0": a0})
    hand = _by_brute_force(like, kernel, a0, lambda z: (10.0 ** (0.1 * z), 600.0))
    assert got.settled and got.objects == like.names
    assert np.max(np.abs(got.values.sum(-1) - hand.sum(-1))) < 5 * 0.01


def test_shared_gas_systematic_against_a_brute_force_integral(clusters_cube):
    """One z for every cluster: ln ∫ Π_c L_c φ(z) dz, by the trapezoid on the summed ln L (no spline)."""
    from scipy.special import logsumexp

    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel, a0 = _kernel_grid()
    like = lensing_likelihood(clusters_cube, options={"gas_dex": 0.1, "gas_scope": "shared"})
    got = like.evaluate(kernel, PAPER_CLUSTER, {"A0": a0})
    z = np.linspace(-8.0, 8.0, 801)
    log_w = -0.5 * z**2 - 0.5 * np.log(2 * np.pi) + np.log(z[1] - z[0])
    plain = lensing_likelihood(clusters_cube)
    total = []
    for zi in z:
        s = 10.0 ** (0.1 * zi)
        inputs = {**plain.inputs, "v_bar": plain.inputs["v_bar"] * np.sqrt(s), "g_N": plain.inputs["g_N"] * s}
        v = kernel(inputs, **{**PAPER_CLUSTER, "A0": a0[:, None]})
        total.append(plain._by_cluster(s * plain.m_bar * (v / inputs["v_bar"]) ** 2).sum(-1))
    hand = logsumexp(np.array(total) + log_w[:, None], axis=0)
    assert got.objects == ("all",) and got.values.shape == (len(a0), 1)
    keep = hand > hand.max() - 30
    assert np.max(np.abs(got.values[keep, 0] - hand[keep])) < 0.02


def _missing_by_brute_force(plain, kernel, a0, f_max: float) -> np.ndarray:
    """ln L per cluster (A0, clusters) at M_bar·(1 + f) for 201 values of f uniform on [0, f_max]."""
    per_f = []
    for f in np.linspace(0.0, f_max, 201):
        s = 1.0 + f
        inputs = {**plain.inputs, "v_bar": plain.inputs["v_bar"] * np.sqrt(s), "g_N": plain.inputs["g_N"] * s}
        v = kernel(inputs, **{**PAPER_CLUSTER, "A0": a0[:, None]})
        per_f.append(plain._by_cluster(s * plain.m_bar * (v / inputs["v_bar"]) ** 2))
    return np.array(per_f)


def _trapezoid_mean(log_values: np.ndarray) -> np.ndarray:
    """ln of the mean over the first axis by the trapezoid rule on equal steps (log-sum-exp)."""
    from scipy.special import logsumexp

    log_w = np.full(len(log_values), -np.log(len(log_values) - 1.0))
    log_w[[0, -1]] += np.log(0.5)
    return logsumexp(log_values + log_w.reshape(-1, *([1] * (log_values.ndim - 1))), axis=0)


@pytest.mark.parametrize("scope", ["cluster", "shared"])
def test_missing_baryons_against_a_brute_force_integral(clusters_cube, scope):
    """M_bar·(1 + f), f uniform on [0, 0.3]: one f per cluster (Σ_c ln ∫ L_c df/f_max) or one for every cluster
    (ln ∫ Π_c L_c df/f_max), each against a 201-point trapezoid over f; the missing baryons only add mass, so the
    clusters' A0 posterior moves down."""
    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel, a0 = _kernel_grid()
    like = lensing_likelihood(clusters_cube, options={"missing_baryons": 0.3, "missing_scope": scope})
    got = like.evaluate(kernel, PAPER_CLUSTER, {"A0": a0})
    plain = lensing_likelihood(clusters_cube)
    per_f = _missing_by_brute_force(plain, kernel, a0, 0.3)
    hand = (_trapezoid_mean(per_f).sum(-1) if scope == "cluster" else _trapezoid_mean(per_f.sum(-1)))
    keep = hand > hand.max() - 30
    assert got.settled and np.max(np.abs(got.values.sum(-1)[keep] - hand[keep])) < 5 * 0.01
    reference = plain.evaluate(kernel, PAPER_CLUSTER, {"A0": a0}).values.sum(-1)
    assert a0[np.argmax(got.values.sum(-1))] < a0[np.argmax(reference)]


def test_path_length_rules_against_brute_force_and_by_hand(clusters_cube):
    """A log-normal scatter of L about 600 kpc, and the paper's L = 2r per radius (the kernel at L = 2r)."""
    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel, a0 = _kernel_grid()
    like = lensing_likelihood(clusters_cube, options={"path_scatter_dex": 0.18})
    got = like.evaluate(kernel, PAPER_CLUSTER, {"A0": a0})
    hand = _by_brute_force(like, kernel, a0, lambda z: (1.0, 600.0 * 10.0 ** (0.18 * z)))
    assert np.max(np.abs(got.values.sum(-1) - hand.sum(-1))) < 5 * 0.01
    rule = lensing_likelihood(clusters_cube, options={"path_length": "diameter"})
    v = kernel(rule.inputs, **{**PAPER_CLUSTER, "L": 2.0 * rule.inputs["r"], "A0": a0[:, None]})
    exact = rule.evaluate(kernel, PAPER_CLUSTER, {"A0": a0})
    assert exact.quadrature_error == 0.0
    assert np.allclose(exact.values, rule._by_cluster(rule.m_bar * (v / rule.v_bar) ** 2), rtol=1e-12)


def test_slip_and_nominal_paths_agree_with_the_kernel_by_hand(clusters_cube):
    """Without nuisances, evaluate() is the kernel at the catalogue M_bar; the slip multiplies Σ·M_bar by
    (5Σ − 3)/(2(3Σ − 2)) at each radius."""
    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel, a0 = _kernel_grid()
    v = kernel(lensing_likelihood(clusters_cube).inputs, **{**PAPER_CLUSTER, "A0": a0[:, None]})
    for slip in (False, True):
        like = lensing_likelihood(clusters_cube, options={"slip": slip})
        sigma = (v / like.v_bar) ** 2
        factor = sigma * (5 * sigma - 3) / (2 * (3 * sigma - 2)) if slip else sigma
        expected = like._by_cluster(like.m_bar * factor)
        assert np.allclose(like.log_likelihood(v), expected, rtol=1e-12)
        assert np.allclose(like.evaluate(kernel, PAPER_CLUSTER, {"A0": a0}).values, expected, rtol=1e-12)
    marginal = lensing_likelihood(clusters_cube, options={"baryons": "tian"})
    with pytest.raises(LensingError, match="evaluate it with the kernel"):
        marginal.log_likelihood(v)


def _synthetic(like, kernel, a0_true: float, bias_dex: float, rng: np.random.Generator):
    """``like`` with its lensing masses replaced by a draw at A0 = ``a0_true`` from baryons M_bar·10^bias: the
    kernel's M_pred there plus noise with each cluster's published statistical covariance."""
    from sigcube.stats.lensing import MultivariateNormal

    s = 10.0 ** bias_dex
    inputs = {**like.inputs, "v_bar": like.inputs["v_bar"] * np.sqrt(s), "g_N": like.inputs["g_N"] * s}
    m_true = s * like.m_bar * (kernel(inputs, **{**PAPER_CLUSTER, "A0": a0_true}) / inputs["v_bar"]) ** 2
    normals = []
    for mvn, a, b in zip(like.normals, like.offsets[:-1], like.offsets[1:]):
        data = m_true[a:b] + mvn.chol @ rng.normal(size=b - a)
        normals.append(MultivariateNormal(data, mvn.chol, mvn.chol_inv))
    return dataclasses.replace(like, normals=tuple(normals))


def _interval_and_mean(a0: np.ndarray, ll: np.ndarray) -> tuple[float, float, list[tuple[float, float]]]:
    """Posterior mean, sd and the central 68 % and 95 % intervals of A0 on the grid (flat prior)."""
    p = np.exp(ll - ll.max())
    p /= p.sum()
    mean = float(p @ a0)
    sd = float(np.sqrt(p @ (a0 - mean) ** 2))
    cdf = np.cumsum(p)
    intervals = [(float(np.interp((1 - q) / 2, cdf, a0)), float(np.interp((1 + q) / 2, cdf, a0))) for q in (0.68, 0.95)]
    return mean, sd, intervals


@pytest.mark.slow
def test_synthetic_clusters_with_a_baryon_bias(clusters_cube):
    """Synthetic CLASH lensing masses at A0 = 0.9 (the paper's cluster rule) with the published statistical noise and
    baryons off by a shared 10^δ. (a) A known bias δ = +0.15 dex: the likelihood without a baryon error is biased
    (the truth sits > 3 posterior sd from its mean on average over 20 draws), the one with a 0.1 dex shared gas
    systematic is not (< 1.5 sd on average). (b) δ drawn from that systematic's prior, N(0, 0.1 dex), 150 draws: the new likelihood's
    68 % and 95 % intervals cover the truth at their nominal rates (inside the 99 % binomial band), the old one's far
    less often."""
    from scipy.stats import binom

    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel = get_kernel("sigma")
    a0 = np.linspace(0.2, 2.5, 461)
    truth = 0.9
    old = lensing_likelihood(clusters_cube)
    new = lensing_likelihood(clusters_cube, options={"gas_dex": 0.1, "gas_scope": "shared"})
    rng = np.random.default_rng(35)

    def posterior(like, bias: float, rng) -> tuple[float, float, list[tuple[float, float]]]:
        data = _synthetic(old, kernel, truth, bias, rng)
        model = dataclasses.replace(like, normals=data.normals)
        return _interval_and_mean(a0, model.evaluate(kernel, PAPER_CLUSTER, {"A0": a0}).values.sum(-1))

    z_old, z_new = [], []
    for _ in range(20):
        state = rng.bit_generator.state
        m_o, s_o, _ = posterior(old, 0.15, rng)
        rng.bit_generator.state = state  # the same draw for both likelihoods
        m_n, s_n, _ = posterior(new, 0.15, rng)
        z_old.append(abs(m_o - truth) / s_o)
        z_new.append(abs(m_n - truth) / s_n)
    assert np.mean(z_old) > 3 and np.mean(z_new) < 1.5, (np.mean(z_old), np.mean(z_new))

    n = 150
    cover = {"old": np.zeros(2, int), "new": np.zeros(2, int)}
    for _ in range(n):
        bias = rng.normal(0.0, 0.1)
        state = rng.bit_generator.state
        for name, like in (("old", old), ("new", new)):
            rng.bit_generator.state = state
            _, _, intervals = posterior(like, bias, rng)
            cover[name] += [lo <= truth <= hi for lo, hi in intervals]
    for k, level in enumerate((0.68, 0.95)):
        lo, hi = binom.ppf([0.005, 0.995], n, level)
        assert lo <= cover["new"][k] <= hi, (level, cover)
        assert cover["old"][k] < lo, (level, cover)



@pytest.mark.slow
def test_synthetic_clusters_with_missing_baryons(clusters_cube):
    """Synthetic CLASH lensing masses at A0 = 0.9 (the paper's cluster rule, the published statistical noise) from
    baryons the catalogue under-counts: true M_bar = M_bar·(1 + f), one f for every cluster. (a) A known f = 0.3: the
    likelihood without missing baryons is biased (the truth > 2 posterior sd from its mean on average over 20 draws),
    the one with f uniform on [0, 0.5] is not (< 1.2 sd on average). (b) f drawn from that prior, 150 draws: the
    one-sided systematic's 95 % interval covers the truth at its nominal rate (inside the 99 % binomial band), the
    likelihood without it far less often."""
    from scipy.stats import binom

    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel = get_kernel("sigma")
    a0 = np.linspace(0.2, 2.5, 461)
    truth, f_max = 0.9, 0.5
    old = lensing_likelihood(clusters_cube)
    new = lensing_likelihood(clusters_cube, options={"missing_baryons": f_max, "missing_scope": "shared"})
    rng = np.random.default_rng(43)

    def posteriors(f: float) -> dict[str, tuple[float, float, list[tuple[float, float]]]]:
        data = _synthetic(old, kernel, truth, np.log10(1.0 + f), rng)
        return {name: _interval_and_mean(a0, dataclasses.replace(like, normals=data.normals).evaluate(
            kernel, PAPER_CLUSTER, {"A0": a0}).values.sum(-1)) for name, like in (("old", old), ("new", new))}

    z = {"old": [], "new": []}
    for _ in range(20):
        for name, (mean, sd, _) in posteriors(0.3).items():
            z[name].append(abs(mean - truth) / sd)
    assert np.mean(z["old"]) > 2 and np.mean(z["new"]) < 1.2, {k: np.mean(v) for k, v in z.items()}

    n = 150
    cover = {"old": 0, "new": 0}
    for _ in range(n):
        for name, (_, _, intervals) in posteriors(rng.uniform(0.0, f_max)).items():
            lo, hi = intervals[1]
            cover[name] += lo <= truth <= hi
    low, high = binom.ppf([0.005, 0.995], n, 0.95)
    assert low <= cover["new"] <= high, cover
    assert cover["old"] < low, cover


def test_a_path_length_outside_the_kernels_bounds_is_refused_before_any_run(clusters_cube):
    """L·10^(z·σ_L) at the node rule's farthest node (z ≈ 7.85 for 21 nodes) must stay inside the kernel's bounds for
    L (≤ 1e5 kpc): σ_L = 0.5 leaves them, 0.2 does not."""
    from sigcube.errors import SpecError
    from sigcube.io.ingest.clusters import lensing_likelihood

    kernel = get_kernel("sigma")
    lensing_likelihood(clusters_cube, options={"path_scatter_dex": 0.2}).check(kernel, PAPER_CLUSTER)
    with pytest.raises(SpecError, match="path_scatter_dex = 0.5: at the node rule's farthest node"):
        lensing_likelihood(clusters_cube, options={"path_scatter_dex": 0.5}).check(kernel, PAPER_CLUSTER)
