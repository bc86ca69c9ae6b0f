"""`report population` and the ArviZ export on result cubes: synthetic cubes with a known population (recovery of μ
and τ, the Bayes factor's sign), the other axes conditioned or marginalised (σ_int as a grid axis among them), and the
command line end to end on a real nuisance sweep of a synthetic survey drawn with one universal a0."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr
from rich.console import Console
from scipy import stats
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.interfaces.arviz_export import population_loglike, population_tree, sweep_tree
from sigcube.interfaces.population_report import PopulationReportError, population_of, population_report
from sigcube.stats import logo
from sigcube.stats.export import ExportError

runner = CliRunner()
GRID = np.linspace(-11.0, -9.0, 201)
"""log10 a0 on the synthetic cubes' grid (steps of 0.01 dex)."""


def result_cube(x: np.ndarray, s: np.ndarray, extra: dict[str, np.ndarray] | None = None,
                penalty: dict[str, float] | None = None) -> xr.Dataset:
    """A nuisance sweep's result cube with Gaussian per-galaxy likelihoods: ln L_g = ln N(x_g; log10 a0, s_g²) on
    ``GRID`` (the a0 axis stores a0 itself), plus, for each ``extra`` axis, −(value − ``penalty``[axis])²/2 per galaxy
    (zero everywhere without a penalty: the axis then does not matter)."""
    extra = extra or {}
    penalty = penalty or {}
    names = [f"G{i:03d}" for i in range(x.size)]
    ll = xr.DataArray(stats.norm.logpdf(x[None, :], GRID[:, None], s[None, :]), dims=("a0", "galaxy"),
                      coords={"a0": 10 ** GRID, "galaxy": names})
    for name, values in extra.items():
        axis = xr.DataArray(values, dims=name, coords={name: values})
        ll = ll + (-0.5 * (axis - penalty[name]) ** 2 if name in penalty else 0.0 * axis)
    ll = ll.transpose("a0", *extra, "galaxy")
    ll.attrs = {"units": "nat", "nuisance_parameters": "upsilon_disk,distance,inclination",
                "nuisance_mode": "marginalise", "nuisance": "synthetic Gaussian likelihood"}
    grid_dims = ("a0", *extra)
    shape = tuple(ll.sizes[d] for d in grid_dims)
    return xr.Dataset({"loglike": ll, "done": (grid_dims, np.ones(shape, dtype=bool)),
                       "baseline_rms": ("galaxy", np.ones(x.size)), "n_points": ("galaxy", np.full(x.size, 10))},
                      attrs={"kernel": "mond", "sweep_name": "synthetic"})


def draw(seed: int, mu: float, tau: float, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Measurements x_g ~ N(θ_g, s_g²) of galaxies whose θ_g ~ N(μ, τ²); s_g uniform in [0.03, 0.08] dex."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.03, 0.08, n)
    return rng.normal(rng.normal(mu, tau, n), s), s


@pytest.mark.parametrize("seed", [1, 2])
def test_a_known_spread_is_recovered_and_preferred(seed):
    """θ_g ~ N(−10, 0.2²) measured to 0.03–0.08 dex: μ and τ inside their 95 % intervals, and ln B(τ = 0 : τ > 0)
    strongly negative (60 galaxies, a spread several times their errors)."""
    report = population_report(result_cube(*draw(seed, -10.0, 0.2)), "a0", scale="log")
    assert report["mu"]["ci95"][0] < -10.0 < report["mu"]["ci95"][1]
    assert report["tau"]["ci95"][0] < 0.2 < report["tau"]["ci95"][1]
    assert report["ln_bayes_factor"] < -5
    assert report["unit"] == "log10 a0" and report["objects"] == 60 and report["points"] == 600
    # the interval of 10^μ is the interval of μ mapped back
    assert report["mu"]["theta"]["ci95"] == pytest.approx([10 ** v for v in report["mu"]["ci95"]])


@pytest.mark.parametrize("seed", [3, 4])
def test_one_universal_value_is_preferred_when_true(seed):
    """θ_g = −10 for every galaxy: ln B(τ = 0 : τ > 0) > 0, τ's 95 % upper limit below a tenth of the prior's scale
    and the universal μ's 95 % interval holding the truth."""
    report = population_report(result_cube(*draw(seed, -10.0, 0.0)), "a0", scale="log")
    assert report["ln_bayes_factor"] > 0
    assert report["tau"]["upper95"] < 0.1 * report["tau_prior"]["scale"]
    assert report["mu_universal"]["ci95"][0] < -10.0 < report["mu_universal"]["ci95"][1]


def test_the_other_axes_are_conditioned_on_the_best_point_or_marginalised():
    """A k axis that every galaxy prefers at k = 0.3 (penalty −(k − 0.3)²/2 each): ``best`` conditions on k = 0.3 and
    equals the one-axis cube; ``marginalise`` with an axis that changes nothing equals it too."""
    x, s = draw(5, -10.0, 0.15, n=30)
    plain = population_report(result_cube(x, s), "a0", scale="log")
    k = np.array([0.1, 0.2, 0.3, 0.4])
    best = population_report(result_cube(x, s, {"k": k}, {"k": 0.3}), "a0", scale="log", others="best")
    assert best["others"]["at"] == {"k": pytest.approx(0.3)} and best["others"]["shared"] == []
    flat = population_report(result_cube(x, s, {"k": k}), "a0", scale="log")
    assert flat["others"]["shared"] == ["k"] and flat["fitted"]["shared_axes"] == 1
    for r in (best, flat):
        for key in ("mu", "tau"):
            assert r[key]["mean"] == pytest.approx(plain[key]["mean"], rel=1e-6)
        # the axis adds a constant to every ln Z (−n(k−0.3)²/2 at k = 0.3 is 0; a flat axis averages 4 equal terms)
        assert r["ln_bayes_factor"] == pytest.approx(plain["ln_bayes_factor"], abs=1e-6)


def floored(ds: xr.Dataset, floor: float) -> xr.Dataset:
    """A synthetic cube carrying a nuisance spec with the velocity floor ``floor`` (what stacking reads)."""
    spec = (f'name = "syn"\ndataset = "sparc"\nkernel = "mond"\n[grid.a0]\nlogspace = [1e-11, 1e-9, 201]\n'
            f'[grid.sigma_int]\nlinspace = [0.0, 0.05, 3]\n[nuisance]\nerror_model = "lognormal_gobs"\n'
            + (f"sigma_floor = {floor}\n" if floor else ""))
    return ds.assign_attrs(spec_text=spec)


def test_cubes_differing_in_their_floor_are_stacked_and_the_floor_marginalised():
    """Three cubes whose likelihood prefers the floor of the middle one (a penalty on the floor): stacked along
    sigma_floor, the floor's posterior sits on it; cubes that differ in anything else are refused."""
    x, s = draw(11, -10.0, 0.1, n=20)
    sig = np.array([0.0, 0.025, 0.05])
    cubes = []
    for floor, shift in ((2.0, -3.0), (4.0, 0.0), (6.0, -3.0)):
        ds = result_cube(x, s, {"sigma_int": sig}, {"sigma_int": 0.025})
        ds["loglike"] = ds["loglike"] + shift / 20  # every galaxy: Σ adds `shift` nat at this floor
        cubes.append(floored(ds, floor))
    r = population_report(cubes[::-1], "a0", scale="log", n_mu=12)
    assert r["others"]["shared"] == ["sigma_int", "sigma_floor"] and "stacked" in r["others"]["how"]
    floor = r["models"]["universal"]["hyper"]["sigma_floor"]
    assert floor["mean"] == pytest.approx(4.0, abs=0.5)
    other = floored(result_cube(x, s, {"sigma_int": sig}), 3.0)
    other.attrs["spec_text"] = other.attrs["spec_text"].replace("lognormal_gobs", "velocity_floor")
    with pytest.raises(PopulationReportError, match="share everything but"):
        population_report([cubes[0], other], "a0", scale="log")
    with pytest.raises(PopulationReportError, match="different velocity floors"):
        population_report([cubes[0], cubes[0]], "a0", scale="log")


def test_a_sigma_int_axis_is_marginalised_like_any_shared_axis():
    """A result cube with a σ_int grid axis (the error floor as a parameter): marginalised with the other shared axes,
    its posterior favours the value the likelihood prefers."""
    x, s = draw(6, -10.0, 0.1, n=20)
    ds = result_cube(x, s, {"sigma_int": np.array([0.0, 2.5, 5.0])}, {"sigma_int": 2.5})
    result, at = population_of(ds, "a0", scale="log")
    assert at == {} and list(result.shared) == ["sigma_int"]
    m = result.marginal("sigma_int")
    assert m.values[np.argmax(m.mass)] == 2.5 and m.mass[1] > 0.99


@pytest.mark.parametrize("change, match", [
    (lambda ds: ds.drop_vars("loglike"), "no loglike"),
    (lambda ds: ds, "'A0' is not a grid axis"),
])
def test_bad_questions_are_one_sentence(change, match):
    ds = change(result_cube(*draw(7, -10.0, 0.1, n=5)))
    with pytest.raises(PopulationReportError, match=match):
        population_report(ds, "A0")


def test_a_switch_axis_is_refused():
    ds = result_cube(*draw(7, -10.0, 0.1, n=5), {"window": np.array([0.0, 1.0])})
    ds = ds.assign_coords(window=["linear", "exp"])
    with pytest.raises(PopulationReportError, match="'window' is a switch"):
        population_report(ds, "a0")


def test_population_loglike_sums_to_the_hyper_grid_likelihood():
    """The export's per-galaxy ln ∫ L_g N(μ, τ²) summed over galaxies is the population's own Σ_g on its hyper-grid."""
    result, _ = population_of(result_cube(*draw(8, -10.0, 0.2, n=15)), "a0", scale="log", n_mu=10, n_tau=8)
    ll = population_loglike(result)
    assert ll.dims == ("mu", "tau", "galaxy")
    np.testing.assert_allclose(ll.sum("galaxy").values, result.log_like, rtol=1e-10)


def test_a_fit_result_is_refused_saying_why():
    ds = result_cube(*draw(9, -10.0, 0.1, n=5)).assign_attrs(sigcube_kind="fit")
    with pytest.raises(ExportError, match="each object's own parameters"):
        sweep_tree(ds)


def _loo(tree: xr.DataTree) -> az.ELPDData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return az.loo(az.from_datatree(tree), pointwise=True)


def test_arviz_loo_on_the_exports_agrees_with_the_exact_logo():
    """Grid posterior (one universal a0) and population posterior (μ, τ): arviz's PSIS-LOO over galaxies equals the
    exact leave-one-galaxy-out of each within its SE, and arviz.compare ranks the two exports as the exact ELPDs do."""
    ds = result_cube(*draw(10, -10.0, 0.15, n=40))
    grid = sweep_tree(ds, chains=2, draws=1000, seed=1)
    exact_grid = logo.logo(ds["loglike"], name="universal")
    assert abs(_loo(grid).elpd_loo - exact_grid.total) < exact_grid.se
    result, _ = population_of(ds, "a0", scale="log", n_mu=16, n_tau=12)
    pop = population_tree(ds, "a0", scale="log", n_mu=16, n_tau=12, chains=2, draws=1000, seed=2)
    prior = xr.DataArray(np.log(result.prior_mu), dims="mu") + xr.DataArray(np.log(result.prior_tau), dims="tau")
    exact_pop = logo.logo(population_loglike(result), name="population", log_prior=prior)
    assert abs(_loo(pop).elpd_loo - exact_pop.total) < exact_pop.se
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        table = az.compare({"universal": az.from_datatree(grid), "population": az.from_datatree(pop)})
    exact = logo.compare([exact_grid, exact_pop])
    assert list(table.index) == list(exact.table["model"].values)


# --- the command line on a real nuisance sweep of a synthetic survey ------------------------------------------------

SPEC = """
name = "synth-a0"
dataset = "sparc"
kernel = "mond"
block_size = 40
[grid.a0]
logspace = [1e-11, 1e-9, 41]
[nuisance]
mode = "marginalise"
nodes = 3
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """12 synthetic galaxies drawn with MOND at one a0 = 1.2e-10 m/s² (seed 3), swept over 41 values of a0 with
    Υ, D, i marginalised."""
    folder = tmp_path_factory.mktemp("population")
    cube, out = folder / "synth.zarr", folder / "a0.zarr"
    assert runner.invoke(app, ["synth", "12", "--out", str(cube), "--kernel", "mond", "--seed", "3"]).exit_code == 0
    (folder / "spec.toml").write_text(SPEC)
    done = runner.invoke(app, ["sweep", str(folder / "spec.toml"), "--cube", str(cube), "--out", str(out),
                               "--synchronous"])
    assert done.exit_code == 0, done.output
    return out


def test_report_population_json_on_a_universal_a0(swept):
    """Every shape on a survey drawn with one a0: the universal value is favoured by the Gaussian question, every
    model's evidence carries its numerical error, and the forest data hold each galaxy's own and shrunk intervals."""
    done = runner.invoke(app, ["report", "population", str(swept), "--param", "a0", "--scale", "log", "--json",
                               "--n-mu", "12"])
    assert done.exit_code == 0, done.output
    r = json.loads(done.stdout)
    truth = np.log10(1.2e-10)
    assert r["mu_universal"]["ci95"][0] < truth < r["mu_universal"]["ci95"][1]
    gauss = next(q for q in r["questions"] if q["shape"] == "gaussian")
    assert gauss["ln_b"] > 0 and gauss["verdict"] in ("universal", "undecided")  # drawn with one a0
    assert {q["shape"] for q in r["questions"]} == {"gaussian", "student_t", "mixture"}
    assert set(r["models"]) == {"universal", "gaussian", "student_t", "outliers", "mixture"}
    for m in r["models"].values():
        assert m["log_evidence_error"] == pytest.approx(sum(m["errors"].values())) and m["log_evidence_error"] >= 0
    assert [row["delta"] for row in r["ranking"]][0] == 0.0
    forest = r["forest"]
    assert len(forest["names"]) == 12 and forest["unit"] == "log10 a0"
    for model in r["models"]:
        shrunk = forest["shrunk"][model]
        for i in range(12):
            lo, hi = shrunk["ci95"][i]
            assert lo <= shrunk["median"][i] <= hi and shrunk["ci68"][i][0] >= lo - 1e-12
        # shrinkage: the shrunk intervals are no wider than the galaxies' own
        own = np.diff(forest["own"]["ci95"]).ravel()
        assert np.median(np.diff(shrunk["ci95"]).ravel() / own) <= 1.0 + 1e-9
    assert r["objects"] == 12 and r["nuisance"]["mode"] == "marginalise"
    assert "half-normal" in r["tau_prior"]["describe"] and "μ ~ uniform" in r["models"]["gaussian"]["describe"]
    assert r["literature"] and all("sample" in lit for lit in r["literature"])
    assert r["others"]["mode"] == "marginalise"


def test_report_population_as_text_keeps_every_verdict(swept):
    done = runner.invoke(app, ["report", "population", str(swept), "--param", "a0", "--scale", "log",
                               "--shape", "gaussian", "--n-mu", "12"])
    assert done.exit_code == 0, done.output
    assert "ln B(universal : gaussian)" in done.output and "models by evidence" in done.output
    assert "universal a0 = 10^μ [m / s2]: median " in done.output, "MOND's a0 in m/s² (its unit, not its name)"


def test_report_population_errors_are_one_line(swept):
    done = runner.invoke(app, ["report", "population", str(swept), "--param", "A0"])
    assert done.exit_code == 2 and "'A0' is not a grid axis" in done.output
    done = runner.invoke(app, ["report", "population", str(swept), "--param", "a0", "--scale", "ln"])
    assert done.exit_code == 2 and "--scale takes linear or log" in done.output
    done = runner.invoke(app, ["report", "population", str(swept), "--param", "a0", "--shape", "cauchy"])
    assert done.exit_code == 2 and "--shape takes" in done.output
    done = runner.invoke(app, ["report", "population", str(swept), "--param", "a0", "--preset", "li2018"])
    assert done.exit_code == 2 and "not the li2018 set-up" in done.output and "min_points" in done.output
    done = runner.invoke(app, ["report", "population", "--param", "a0"])
    assert done.exit_code == 2 and "give a RESULT" in done.output


def test_a_table_runs_each_row_and_shares_the_analysis_of_equal_rows(swept, tmp_path):
    """Two rows on the same cube differing only in shape reuse one analysis: their models' evidences are equal; a
    narrower τ prior moves the Gaussian's ln B by about ln of the ratio (the data pin τ near 0 inside both)."""
    table = tmp_path / "table.toml"
    table.write_text(f"""
kind = "choices"
title = "a test table"
parameter = "a0"
scale = "log"
fixed_value = 1.2e-10
[[row]]
label = "base"
cubes = ["{swept.name}"]
[[row]]
label = "mixture"
change = "shape"
shape = "mixture"
cubes = ["{swept.name}"]
[[row]]
label = "narrow"
change = "tau_prior"
tau_scale = 0.05
cubes = ["{swept.name}"]
""")
    done = runner.invoke(app, ["report", "population", "--table", str(table), "--json", "--n-mu", "12"],
                         env={"SIGCUBE_CUBE_DIR": str(swept.parent)})
    assert done.exit_code == 0, done.output
    r = json.loads(done.stdout)
    base, mix, narrow = r["rows"]
    assert base["models"]["universal"]["log_evidence"] == mix["models"]["universal"]["log_evidence"]
    assert mix["universal"] == "outliers" and mix["spread"] == "mixture" and base["spread"] == "gaussian"
    assert base["verdict"] in ("universal", "undecided", "not universal") and base["error_model"] == "quoted errors"
    assert narrow["ln_b"] < base["ln_b"]
    own = r["own_terms"]
    assert own["objects"] == 12 and 0 <= own["gain_above_2"]["value"] <= 1 and own["gain_above_2"]["ci"][0] <= \
        own["gain_above_2"]["value"] <= own["gain_above_2"]["ci"][1]
    text = runner.invoke(app, ["report", "population", "--table", str(table), "--n-mu", "12"],
                         env={"SIGCUBE_CUBE_DIR": str(swept.parent)})
    assert text.exit_code == 0 and "a test table" in text.output
    table.write_text('kind = "choices"\n[[row]]\nlabel = "x"\ncubes = ["nowhere.zarr"]\nparameter = "a0"\n')
    done = runner.invoke(app, ["report", "population", "--table", str(table)], env={"SIGCUBE_CUBE_DIR": str(tmp_path)})
    assert done.exit_code == 2 and "no result cube" in done.output


def test_export_writes_a_tree_arviz_reads(swept, tmp_path):
    out = tmp_path / "tree.zarr"
    done = runner.invoke(app, ["export", str(swept), "--out", str(out), "--draws", "300", "--chains", "2",
                               "--seed", "5", "--json"])
    assert done.exit_code == 0, done.output
    info = json.loads(done.stdout)
    assert info["variables"] == ["a0"] and info["seed"] == 5 and info["chains"] == 2 and info["draws"] == 300
    assert set(info["groups"]) == {"posterior", "log_likelihood", "sample_stats", "observed_data"}
    tree = xr.open_datatree(out, engine="zarr")
    assert _loo(tree).n_data_points == 12
    again = runner.invoke(app, ["export", str(swept), "--out", str(out)])
    assert again.exit_code == 2 and "pass --force" in again.output
    pop = runner.invoke(app, ["export", str(swept), "--out", str(out), "--force", "--population", "a0", "--scale",
                              "log", "--draws", "200", "--json"])
    assert pop.exit_code == 0, pop.output
    assert json.loads(pop.stdout)["variables"] == ["mu", "tau"]


# --- the error-model table on synthetic cubes --------------------------------------------------------------------


def spec_cube(ds: xr.Dataset, error_model: str, floor: float = 0.0, tau: bool = False) -> xr.Dataset:
    """A synthetic cube carrying a nuisance spec under ``error_model`` (a σ_int axis, a floor, a τ_gal axis)."""
    spec = (f'name = "syn-{error_model}-{floor:g}{"-tau" if tau else ""}"\ndataset = "sparc"\nkernel = "mond"\n'
            f'[grid.a0]\nlogspace = [1e-11, 1e-9, 201]\n[grid.sigma_int]\nlinspace = [0.0, 0.05, 2]\n'
            + ("[grid.tau_gal]\nlinspace = [0.0, 0.3, 2]\n" if tau else "")
            + f'[nuisance]\nerror_model = "{error_model}"\n' + (f"sigma_floor = {floor}\n" if floor else ""))
    return ds.assign_attrs(spec_text=spec, sweep_name=f"syn-{error_model}")


def test_the_error_model_table_ranks_error_models_and_asks_each_the_population_question(tmp_path, monkeypatch):
    """Four rows on one synthetic survey (16 galaxies, a0 spread 0.2 dex): a σ_int cube; the same shifted by +0.5 nat
    per galaxy (its ln Z exactly 8 nat higher); three stacked floors adding 0, +0.125 and −0.125 nat per galaxy (ln Z
    higher by ln mean(1, e², e⁻²) exactly, the universal model's and the Gaussian's alike); and a τ_gal cube. The
    table names the shifted row preferred by its 10 nat, and each row's Gaussian question finds the spread."""
    from sigcube.engines import sweep as sweep_pkg
    from sigcube.interfaces.population_report import preferred_error_models, render_table, table_report

    x, s = draw(12, -10.0, 0.2, n=16)
    sig = {"sigma_int": np.array([0.0, 0.05])}
    base = result_cube(x, s, sig, {"sigma_int": 0.05})
    cubes = {"floor.zarr": spec_cube(base, "velocity_floor"),
             "better.zarr": spec_cube(base + 0.5, "lognormal"),
             **{f"both-{f:g}.zarr": spec_cube(base + shift, "lognormal", f) for f, shift in
                ((3.0, 0.0), (4.0, 0.125), (5.0, -0.125))},
             "tau.zarr": spec_cube(result_cube(x, s, {**sig, "tau_gal": np.array([0.0, 0.3])},
                                               {"sigma_int": 0.05, "tau_gal": 0.3}), "velocity_floor", tau=True)}
    for name in cubes:
        (tmp_path / name).mkdir()
    monkeypatch.setattr(sweep_pkg, "open_result", lambda path: cubes[Path(path).name])
    rows = [{"label": "floor", "cubes": ["floor.zarr"]}, {"label": "better", "cubes": ["better.zarr"]},
            {"label": "both", "cubes": ["both-5.zarr", "both-3.zarr", "both-4.zarr"]},
            {"label": "tau", "cubes": ["tau.zarr"]}]
    spec = {"kind": "error_models", "title": "t", "parameter": "a0", "scale": "log", "shapes": ["gaussian"],
            "shape": "gaussian", "row": rows}
    r = table_report(spec, tmp_path, n_mu=12)
    floor, better, both, tau = r["rows"]
    for model in ("universal", "gaussian"):
        z = {row["label"]: row["models"][model]["log_evidence"] for row in r["rows"]}
        assert z["better"] - z["floor"] == pytest.approx(8.0, abs=1e-6)
        assert z["both"] - z["floor"] == pytest.approx(math.log((1 + math.exp(2) + math.exp(-2)) / 3), abs=1e-6)
    assert [row["verdict"] for row in r["rows"]] == ["not universal"] * 4 and all(row["ln_b"] < -5 for row in r["rows"])
    assert both["floors"] == [5.0, 3.0, 4.0] and both["shared"]["sigma_floor"] == [3.0, 5.0, 3]
    assert both["models"]["universal"]["hyper"]["sigma_floor"]["mean"] == pytest.approx(4.0, abs=0.5)
    assert tau["errors"]["tau_gal"] == [0.0, 0.3] and floor["errors"]["tau_gal"] == 0.0
    # the τ_gal penalty −(τ − 0.3)²/2 per galaxy factorises: P(τ = 0.3) = 1/(1 + e^(−16·0.045)) under every model
    assert tau["models"]["gaussian"]["hyper"]["tau_gal"]["mean"] == pytest.approx(0.3 / (1 + math.exp(-0.72)),
                                                                                  abs=1e-6)
    assert [(p["model"], p["preferred"]) for p in r["preferred"]] == [("universal", "better"), ("gaussian", "better")]
    top = r["preferred"][0]
    assert top["ranking"][1]["label"] == "both" and -top["ranking"][1]["delta"] == pytest.approx(
        8.0 - math.log((1 + math.exp(2) + math.exp(-2)) / 3), abs=1e-6)
    assert "the evidence prefers better (lognormal)" in top["statement"]
    # equal evidences within their numerical errors are undecided, not a preference
    tie = preferred_error_models([{**floor, "label": "a"}, {**floor, "label": "b"}])
    assert "undecided" in tie[0]["statement"] and tie[0]["ranking"][1]["delta"] == 0.0
    console = Console(width=250, record=True)
    render_table(r, console)
    out = console.export_text()
    assert "the evidence prefers better" in out and "tau_gal 0.2018 ± " in out and "not universal" in out
    assert "sigma_floor on [3, 5] (3 values, equal mass each)" in out


def test_a_table_refuses_an_unknown_default_shape(tmp_path):
    from sigcube.interfaces.population_report import TableError, load_table

    path = tmp_path / "t.toml"
    path.write_text('kind = "error_models"\nshape = "lorentzian"\n[[row]]\nlabel = "x"\ncubes = ["a.zarr"]\n')
    with pytest.raises(TableError, match="unknown shape 'lorentzian'"):
        load_table(path)
