"""Joint sweeps on synthetic galaxies (known truth, no data mirror): two copies of one dataset double the single
sweep's ln L, the joint ln L is the sum of sweeps run separately (ln L computed here by hand from the kernel), the
posteriors are the normalised sums, independent_of is checked, and the tension statistics see no tension between
probes drawn at the same parameters and a strong one between probes drawn at shifted ones."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from sigcube.engines.joint import open_joint, parse_joint_spec, run_joint
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.errors import SpecError
from sigcube.io.cubes import open_cube
from sigcube.io.rotation_curves import pack_sparc
from sigcube.io.synth import synth_cube
from sigcube.model.kernels import get_kernel

QUIET = Console(file=io.StringIO())
A0_GRID = "[grid.A0]\nlinspace = [0.8, 1.6, 9]\n"


@pytest.fixture(scope="module")
def cubes(tmp_path_factory):
    """Three small synthetic SPARC-like cubes: two drawn at A0 = 1.2 (other seeds), one at A0 = 2.4."""
    folder = tmp_path_factory.mktemp("synth")
    out = {}
    for name, seed, a0 in (("a", 1, 1.2), ("b", 2, 1.2), ("far", 3, 2.4)):
        out[name] = str(synth_cube(12, folder / f"{name}.zarr", seed=seed, params={"A0": a0}).url)
    return out


def _joint_text(entries: str, grid: str = A0_GRID) -> str:
    return f'name = "j"\nkernel = "sigma"\n{grid}\n{entries}'


def _entry(label: str, extra: str = "") -> str:
    return f'[[datasets]]\nname = "{label}"\ndataset = "sparc"\n{extra}\n'


def _hand_loglike(cube: str, params: dict) -> float:
    """Σ over galaxies and points of ln N(V_obs | V_pred, e_V²) at ``params``, from the kernel and the cube."""
    points = pack_sparc(open_cube(cube).load())
    v = get_kernel("sigma")(points.inputs, **params)
    e = points.inputs["e_v_obs"]
    return float(np.sum(-0.5 * ((points.inputs["v_obs"] - v) / e) ** 2 - np.log(np.sqrt(2 * np.pi) * e)))


def test_two_copies_of_one_dataset_double_the_single_sweep(cubes, tmp_path):
    spec = parse_joint_spec(_joint_text(_entry("one") + _entry("two")))
    run_joint(spec, tmp_path / "j.zarr", cubes={"one": cubes["a"], "two": cubes["a"]}, synchronous=True,
              console=QUIET)
    ds = open_joint(tmp_path / "j.zarr").load()
    single = parse_spec(f'name = "s"\ndataset = "sparc"\nkernel = "sigma"\nmetrics = ["chi2"]\n{A0_GRID}')
    run_sweep(single, tmp_path / "s.zarr", cube=cubes["a"], synchronous=True, console=QUIET)
    chi2 = open_result(tmp_path / "s.zarr")["chi2"].sum("galaxy").values
    hand = np.array([_hand_loglike(cubes["a"], {"A0": a}) for a in ds["A0"].values])
    assert np.allclose(ds["loglike_total"].sel(probe="one").values, hand, rtol=1e-9, atol=0)
    assert np.allclose(ds["loglike_joint"].values, 2 * hand, rtol=1e-9, atol=0)
    # the same ln L up to a constant as the single sweep's χ²: −½Δχ²
    assert np.allclose(ds["loglike_joint"].values - ds["loglike_joint"].values[0], -(chi2 - chi2[0]), rtol=1e-9)
    post = np.exp(2 * hand - np.max(2 * hand))
    assert np.allclose(ds["posterior_joint"].values, post / post.sum(), rtol=1e-9, atol=1e-300)
    assert ds["loglike_one"].dims == ("A0", "one_galaxy") and ds.sizes["one_galaxy"] == 12


def test_joint_is_the_sum_of_sweeps_run_separately(cubes, tmp_path):
    """Dataset a with D = 0 (constant along n, checked), dataset b with D = 1, L = 2 kpc: the joint ln L over A0 × n
    is a's (broadcast along n) plus b's, each from its own plain sweep and the hand Gaussian."""
    grid = A0_GRID + "[grid.n]\nvalues = [0.1, 0.3, 0.5]\n"
    entries = (_entry("a", 'independent_of = ["n"]\n[datasets.fixed]\nD = 0.0')
               + _entry("b", "[datasets.fixed]\nD = 1.0\nL = 2.0"))
    spec = parse_joint_spec(_joint_text(entries, grid))
    assert [a.name for a in spec.probes[0].sweep.axes] == ["A0"]
    run_joint(spec, tmp_path / "j.zarr", cubes={"a": cubes["a"], "b": cubes["b"]}, synchronous=True, console=QUIET)
    ds = open_joint(tmp_path / "j.zarr").load()
    a0, n = ds["A0"].values, ds["n"].values
    hand_a = np.array([_hand_loglike(cubes["a"], {"A0": x, "D": 0.0}) for x in a0])
    hand_b = np.array([[_hand_loglike(cubes["b"], {"A0": x, "D": 1.0, "L": 2.0, "n": y}) for y in n] for x in a0])
    assert np.allclose(ds["loglike_joint"].values, hand_a[:, None] + hand_b, rtol=1e-9, atol=0)
    assert np.allclose(ds["loglike_total"].sel(probe="a").values, np.repeat(hand_a[:, None], len(n), 1), rtol=1e-9)
    assert float(ds["log_evidence"].sel(probe="b")) == pytest.approx(
        np.log(np.mean(np.exp(hand_b - hand_b.max()))) + hand_b.max(), rel=1e-12)


def test_independent_of_is_checked_on_the_points(cubes, tmp_path):
    entries = _entry("a", 'independent_of = ["n"]\n[datasets.fixed]\nD = 1.0\nL = 2.0') + _entry("b")
    spec = parse_joint_spec(_joint_text(entries, A0_GRID + "[grid.n]\nvalues = [0.1, 0.5]\n"))
    with pytest.raises(SpecError, match="changes with n"):
        run_joint(spec, tmp_path / "j.zarr", cubes={"a": cubes["a"], "b": cubes["b"]}, synchronous=True,
                  console=QUIET)


@pytest.mark.parametrize("entries, match", [
    (_entry("a") + _entry("a"), "appears twice"),
    (_entry("a", 'independent_of = ["k"]') + _entry("b"), "not a grid axis"),
    (_entry("a", "[datasets.fixed]\nA0 = 1.0") + _entry("b"), "swept on the shared grid"),
    (_entry("a", 'independent_of = ["A0"]') + _entry("b", 'independent_of = ["A0"]'), "names every grid axis"),
    (_entry("a", "[datasets.fixed]\nD = 7.0") + _entry("b"), r"\[\[datasets\]\] 'a'.*fixed.D"),
    (_entry("a"), "datasets"),
])
def test_bad_joint_specs_are_one_line_errors(entries, match):
    with pytest.raises(SpecError, match=match):
        parse_joint_spec(_joint_text(entries))


def test_tension_none_for_the_same_parameters_strong_for_shifted_ones(cubes, tmp_path):
    from sigcube.interfaces.joint_report import joint_report

    spec = parse_joint_spec(_joint_text(_entry("a") + _entry("b") + _entry("far"),
                                        "[grid.A0]\nlinspace = [0.6, 3.0, 121]\n"))
    run_joint(spec, tmp_path / "j.zarr", cubes=cubes, synchronous=True, console=QUIET)
    report = joint_report(open_joint(tmp_path / "j.zarr").load())
    pairs = {(t["a"], t["b"]): t for t in report["tension"]}
    same, shifted = pairs[("a", "b")], pairs[("a", "far")]
    assert same["n_sigma"] < 2 and same["shift_sigma"] < 2
    assert shifted["n_sigma"] > 5 and shifted["shift_sigma"] > 5
    for name, truth in (("a", 1.2), ("b", 1.2), ("far", 2.4)):
        lo, hi = report["posterior"][name]["axes"]["A0"]["ci95"]
        assert lo - 0.05 < truth < hi + 0.05
    assert report["against_rest"]["far"]["n_sigma"] > 5


# --- variants, ranges and a shared σ_int axis (the CLASH lensing view needs the data mirror) ------------------------

CLASH = ('[[datasets]]\nname = "clash"\ndataset = "clusters:lensing"\nindependent_of = [{constant}]\n'
         '[datasets.fixed]\nD = 1.0\nL = 600.0\nL0 = 0.4\nn = 0.27\n[datasets.likelihood]\nerrors = "stat"\n'
         '[[datasets.variants]]\nname = "clash_gas"\nlikelihood = {{gas_dex = 0.1, gas_scope = "shared"}}\n')


def test_a_variant_replaces_its_dataset_and_never_multiplies_it(cubes, clusters_store, clusters_cube, tmp_path):
    """SPARC-like galaxies (a range on A0, a k axis they depend on) and CLASH with a shared-gas variant: the
    variant's ln L is the lensing likelihood evaluated by hand; the joint ln L leaves it out; the report's choices
    table names what the variant changes."""
    from sigcube.interfaces.joint_report import joint_report
    from sigcube.io.ingest.clusters import lensing_likelihood

    grid = "[grid.A0]\nlinspace = [0.4, 1.6, 25]\n[grid.k]\nvalues = [0.1, 0.2]\n"
    spec = parse_joint_spec(_joint_text(_entry("a", "[datasets.fixed]\nD = 0.0\n[datasets.range]\nA0 = [0.7, 1.6]")
                                        + CLASH.format(constant='"k"'), grid))
    assert [p.label for p in spec.datasets] == ["a", "clash"] and spec.probes[-1].variant_of == "clash"
    run_joint(spec, tmp_path / "j.zarr", cubes={"a": cubes["a"], "clash": str(clusters_store)}, synchronous=True,
              console=QUIET)
    ds = open_joint(tmp_path / "j.zarr").load()
    a0 = ds["A0"].values
    hand = lensing_likelihood(clusters_cube, options={"gas_dex": 0.1, "gas_scope": "shared"}).evaluate(
        get_kernel("sigma"), {"D": 1.0, "L": 600.0, "L0": 0.4, "n": 0.27}, {"A0": a0}).values[:, 0]
    variant = ds["loglike_total"].sel(probe="clash_gas").values
    assert np.allclose(variant, hand[:, None], rtol=1e-9) and variant.shape == (25, 2)
    total = ds["loglike_total"]
    assert np.array_equal(ds["loglike_joint"].values, (total.sel(probe="a") + total.sel(probe="clash")).values)
    outside = a0 < 0.7
    assert np.all(np.isneginf(total.sel(probe="a").values[outside]))
    report = joint_report(ds)
    (group,) = report["choices"]
    assert [r["probe"] for r in group["rows"]] == ["clash", "clash_gas"] and group["against"] == "a"
    assert group["rows"][1]["changed"] == {"gas_dex": [0.0, 0.1], "gas_scope": ["cluster", "shared"]}
    assert report["tension"][0]["parameters"] == ["A0"]  # the k axis CLASH does not depend on is marginalised
    probes = {p["label"]: p for p in report["probes"]}
    assert probes["clash_gas"]["integral"]["settled"] and probes["a"]["truncation"]["A0"][1] is None


def test_a_range_that_cuts_the_posterior_is_refused(cubes, tmp_path):
    from sigcube.errors import SigcubeError

    spec = parse_joint_spec(_joint_text(_entry("a", "[datasets.range]\nA0 = [1.19, 1.21]") + _entry("b"),
                                        "[grid.A0]\nlinspace = [0.8, 1.6, 161]\n"))
    with pytest.raises(SigcubeError, match="widen the range"):
        run_joint(spec, tmp_path / "j.zarr", cubes={"a": cubes["a"], "b": cubes["b"]}, synchronous=True,
                  console=QUIET)


def test_sigma_int_is_a_shared_axis_only_its_own_dataset_reads(cubes, clusters_store, tmp_path):
    """A [nuisance] dataset sweeps σ_int on the shared grid; CLASH is independent_of it (and of k, checked)."""
    nuisance = '[datasets.nuisance]\nmode = "marginalise"\nnodes = 1\nerror_model = "lognormal_gobs"\n'
    grid = "[grid.A0]\nlinspace = [0.6, 1.6, 6]\n[grid.sigma_int]\nvalues = [0.02, 0.06]\n"
    clash = CLASH.format(constant='"sigma_int"').split("[[datasets.variants]]")[0]
    spec = parse_joint_spec(_joint_text(_entry("a", nuisance) + clash, grid))
    run_joint(spec, tmp_path / "j.zarr", cubes={"a": cubes["a"], "clash": str(clusters_store)}, synchronous=True,
              console=QUIET)
    ds = open_joint(tmp_path / "j.zarr").load()
    assert ds["sigma_int"].attrs["units"] == "dex"
    a = ds["loglike_total"].sel(probe="a").values
    assert not np.allclose(a[:, 0], a[:, 1])  # the galaxies' ln L moves with σ_int, CLASH's does not
    clash_ll = ds["loglike_total"].sel(probe="clash").values
    assert np.array_equal(clash_ll[:, 0], clash_ll[:, 1])
    with pytest.raises(SpecError, match="intrinsic scatter of a \\[nuisance\\] likelihood"):
        parse_joint_spec(_joint_text(_entry("a", 'independent_of = ["sigma_int"]\n' + nuisance) + clash, grid))


@pytest.mark.parametrize("entries, match", [
    (_entry("a", '[[datasets.variants]]\nname = "v"\nlikelihood = {errors = "stat+syst"}') + _entry("b"),
     "no likelihood options to vary"),
    (_entry("a", '[datasets.range]\nA0 = [1.0, 1.02]') + _entry("b"), "at least two"),
    (_entry("a", 'independent_of = ["n"]\n[datasets.range]\nn = [0.1, 0.3]') + _entry("b"), "independent_of n"),
])
def test_bad_variants_and_ranges_are_one_line_errors(entries, match):
    with pytest.raises(SpecError, match=match):
        parse_joint_spec(_joint_text(entries, A0_GRID + "[grid.n]\nvalues = [0.1, 0.3]\n"))


# --- scans, model choices apart from data systematics, unknown keys -------------------------------------------------

SCAN = ('[[datasets.scans]]\nname = "miss"\noption = "missing_baryons"\nvalues = [0.1, 0.5]\n'
        'likelihood = {missing_scope = "shared"}\n')


def test_a_scan_is_one_variant_per_value():
    spec = parse_joint_spec(_joint_text(_entry("a") + CLASH.format(constant="") + SCAN))
    scans = [p for p in spec.probes if p.scan]
    assert [p.label for p in scans] == ["miss_0", "miss_1"] and all(p.variant_of == "clash" for p in scans)
    assert scans[1].options == {"errors": "stat", "missing_scope": "shared", "missing_baryons": 0.5}
    assert scans[0].scan == {"name": "miss", "option": "missing_baryons", "value": 0.1, "description": ""}
    with pytest.raises(SpecError, match="miss_0.*appears twice"):
        parse_joint_spec(_joint_text(_entry("a") + CLASH.format(constant="") + SCAN
                                     + '[[datasets.variants]]\nname = "miss_0"\nlikelihood = {slip = true}\n'))
    with pytest.raises(SpecError, match="missing_baryons is the scanned option"):
        parse_joint_spec(_joint_text(_entry("a") + CLASH.format(constant="")
                                     + SCAN.replace("{missing_scope", "{missing_baryons = 0.2, missing_scope")))
    with pytest.raises(SpecError, match="no likelihood options to vary"):
        parse_joint_spec(_joint_text(_entry("a", SCAN) + _entry("b")))


@pytest.mark.parametrize("entries, table, keys", [
    (_entry("a", "foo = 1") + _entry("b"), "datasets[0].foo",
     ("likelihood", "variants", "scans", "range", "independent_of", "nuisance")),
    (_entry("a") + CLASH.format(constant="").replace('name = "clash_gas"', 'name = "clash_gas"\nfoo = 1'),
     "datasets[1].variants[0].foo", ("name", "description", "likelihood")),
    (_entry("a") + CLASH.format(constant="") + SCAN.replace('name = "miss"', 'name = "miss"\nfoo = 1'),
     "datasets[1].scans[0].foo", ("option", "values", "likelihood")),
    ("foo = 1\n" + _entry("a") + _entry("b"), "foo", ("datasets", "grid", "kernel")),
])
def test_an_unknown_key_names_every_key_of_its_table(entries, table, keys):
    """Issue 39: the message lists the keys of the table the unknown key sits in (a dataset, a variant, a scan, the
    spec), not the plain sweep spec's."""
    with pytest.raises(SpecError) as err:
        parse_joint_spec(_joint_text(entries) if not entries.startswith("foo") else
                         f'foo = 1\nname = "j"\nkernel = "sigma"\n{A0_GRID}\n{entries[8:]}')
    message = str(err.value)
    assert f"{table}: unknown key; valid keys:" in message and all(k in message.split("valid keys:")[1] for k in keys)


@pytest.mark.slow
def test_model_choices_and_scans_are_reported_apart(clusters_store, tmp_path):
    """Two copies of CLASH (one with the slip: a tension between them); the other's variants split into data
    systematics and model choices (the slip is one), its scan gives the tension at each size with the cited size;
    the systematics table and the scans are built as figures."""
    from sigcube.interfaces.joint_report import joint_report
    from sigcube.interfaces.plots.probes import joint_scans, joint_systematics
    from sigcube.stats.lensing import missing_baryon_fraction

    ref = ('[[datasets]]\nname = "ref"\ndataset = "clusters:lensing"\n[datasets.fixed]\nD = 1.0\nL = 600.0\nL0 = 0.4\n'
           'n = 0.27\n[datasets.likelihood]\nslip = true\n')
    clash = CLASH.format(constant="") + ('[[datasets.variants]]\nname = "clash_slip"\nlikelihood = {slip = true}\n'
                                         '[[datasets.variants]]\nname = "clash_gas_slip"\n'
                                         'likelihood = {gas_dex = 0.1, gas_scope = "shared", slip = true}\n') + SCAN
    spec = parse_joint_spec(_joint_text(ref + clash, "[grid.A0]\nlinspace = [0.3, 1.5, 121]\n"))
    run_joint(spec, tmp_path / "j.zarr", cubes={"ref": str(clusters_store), "clash": str(clusters_store)},
              synchronous=True, console=QUIET)
    report = joint_report(open_joint(tmp_path / "j.zarr").load())
    groups = {g["kind"]: [r["probe"] for r in g["rows"]] for g in report["choices"] if g["dataset"] == "clash"}
    assert groups == {"data": ["clash", "clash_gas"], "model": ["clash", "clash_slip", "clash_gas_slip"]}
    (scan,) = [s for s in report["scans"] if s["dataset"] == "clash"]
    assert [p["value"] for p in scan["points"]] == [0.0, 0.1, 0.5] and scan["points"][0]["probe"] == "clash"
    assert scan["cited"] == pytest.approx(missing_baryon_fraction(), rel=1e-12) and "Chiu+2016" in scan["source"]
    slip = next(r for g in report["choices"] for r in g["rows"] if r["probe"] == "clash_slip" and g["against"] == "ref")
    assert slip["tension"]["n_sigma"] < 1  # the same data under the same choice as ref
    systematics, scans = joint_systematics(report), joint_scans(report)  # built here; the docs build draws them
    assert len(systematics.view) == 2 and len(scans.view) == 1 and "σ" in systematics.alt


def test_variants_of_a_result_that_names_no_model_options_stay_in_one_group():
    """A joint result made before the model choices were named keeps its variants together, unlabelled; one that names
    them splits a variant changing a model option from the data systematics."""
    from sigcube.interfaces.joint_report import _groups

    old = {"clash": {"likelihood_choices": {"slip": False, "errors": "stat"}},
           "clash_slip": {"likelihood_choices": {"slip": True, "errors": "stat"}},
           "clash_syst": {"likelihood_choices": {"slip": False, "errors": "stat+syst"}}}
    assert _groups(old, "clash", ["clash_slip", "clash_syst"]) == {"choices": ["clash_slip", "clash_syst"]}
    new = {k: {**v, "model_options": ["slip", "path_length"]} for k, v in old.items()}
    assert _groups(new, "clash", ["clash_slip", "clash_syst"]) == {"data": ["clash_syst"], "model": ["clash_slip"]}
