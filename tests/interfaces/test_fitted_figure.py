"""The fitted-curves figure on the SPARC cube: a report's best point drawn with Υ, D, i at their mode, the cube the
report was made from checked, unknown models and galaxies one line each."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.fits import fitted_rotation_curves


def _report(cube, a0: float = 1.2e-10) -> dict:
    """A comparison report of MOND alone: what the figure reads (a0 and a 5 km/s floor at its best point)."""
    row = {"kernel": "mond", "per_object": [], "best": {"a0": a0, "sigma_int": 5.0}}
    return {"runs": {"nuisance": {"mond": row}, "catalogue": {"mond": row}},
            "scatter": {"error_model": "velocity_floor"},
            "conventions": {"cube_content_sha256": cube.attrs["content_sha256"]}}


def test_fitted_curves_beat_the_catalogue_values_and_carry_bands(sparc_cube):
    """At the mode of Υ, D, i the curves fit better than at the catalogue values (RMS lower in most of the panels),
    each model's band is drawn, and the caption names the fit."""
    galaxies = ["NGC3198", "DDO154", "UGC02953", "NGC2403"]
    plot = fitted_rotation_curves(_report(sparc_cube), sparc_cube, galaxies=galaxies)
    fitted = {}
    for panel in plot.view:
        name = panel.opts.get(backend="bokeh").kwargs["title"].split("\n")[0]
        (obs,) = [e for e in panel if isinstance(e, hv.Scatter)]
        (line,) = [e for e in panel if isinstance(e, hv.Curve) and e.label == "mond"]
        assert any(isinstance(e, hv.Area) for e in panel), "the posterior band"
        fitted[name] = np.sqrt(np.mean((obs.dimension_values(1) - line.dimension_values(1)) ** 2))
    assert list(fitted) == galaxies
    catalogue = fitted_rotation_curves(_report(sparc_cube), sparc_cube, galaxies=galaxies, run="catalogue")
    for panel, name in zip(catalogue.view, galaxies):
        assert not any(isinstance(e, hv.Area) for e in panel)
        (obs,) = [e for e in panel if isinstance(e, hv.Scatter)]
        (line,) = [e for e in panel if isinstance(e, hv.Curve) and e.label == "mond"]
        rms = np.sqrt(np.mean((obs.dimension_values(1) - line.dimension_values(1)) ** 2))
        assert fitted[name] <= rms * 1.05, name
    assert "a0 = 1.2e-10, sigma_int = 5" in plot.alt and "conditional mode" in plot.alt


def test_the_default_picks_representative_and_worst_galaxies(sparc_cube):
    plot = fitted_rotation_curves(_report(sparc_cube), sparc_cube, n=1, run="catalogue")
    assert len(plot.view) == 2 and "the 1 worst fitted by mond" in plot.alt


@pytest.mark.parametrize("change, message", [
    ({"models": ["sigma"]}, "sigma not among the report's models"),
    ({"galaxies": ["NOPE"]}, "NOPE not in the report's sample"),
    ({"run": "other"}, "other"),
])
def test_bad_choices_are_one_line(sparc_cube, change, message):
    with pytest.raises(SigcubeError, match=message) as err:
        fitted_rotation_curves(_report(sparc_cube), sparc_cube, **change)
    assert "\n" not in str(err.value)


def test_another_cube_is_refused_with_both_hashes(sparc_cube):
    other = sparc_cube.assign_attrs(content_sha256="0" * 64)
    with pytest.raises(SigcubeError, match="not the one the report read"):
        fitted_rotation_curves(_report(sparc_cube), other)


def test_residual_checks_draw_each_error_model_and_say_a_missing_check():
    from sigcube.interfaces.plots.fits import residual_checks_figure
    from sigcube.stats.predictive_checks import residual_checks

    rng = np.random.default_rng(4)
    offsets = np.arange(0, 401, 20)

    def report(scale):
        checks = residual_checks(scale * rng.standard_normal(400), offsets, [f"G{i}" for i in range(20)])
        return {"runs": {}, "predictive_checks": {"nuisance": {"mond": checks}}}

    table = {"error_model_table": {"lead": "lognormal"}, "reports": {"quoted": report(5.0), "lognormal": report(1.0)}}
    plot = residual_checks_figure(table)
    assert len(plot.view) == 4 and "under quoted, lognormal" in plot.alt
    (hist,) = [e for e in plot.view[1] if getattr(e, "label", "").startswith("mond")]
    assert "sd 5." in hist.label  # the wide residuals' sd, drawn from N(0, 25)
    with pytest.raises(SigcubeError, match="predictive_checks") as err:
        residual_checks_figure({"runs": {}})
    assert "\n" not in str(err.value)


def _with_halo(cube, **row) -> dict:
    """The MOND report plus an NFW halo per galaxy at log10 M200 = 11.5, c = 8 (its best grid point, here chosen)."""
    from sigcube.io.rotation_curves import pack_sparc

    names = [str(g) for g in pack_sparc(cube).galaxy]
    report = _report(cube)
    halo = {"kernel": "nfw", "per_object": ["log10_M200", "c"], "best": {"sigma_int": 5.0},
            "best_per_galaxy": {"galaxy": names, "log10_M200": [11.5] * len(names), "c": [8.0] * len(names)}, **row}
    for run in report["runs"].values():
        run["nfw"] = halo
    return report


@pytest.mark.parametrize("run", ["catalogue", "nuisance"])
def test_a_per_galaxy_halo_is_drawn_at_its_best_points_with_its_own_curve(sparc_cube, run):
    """The halo's V_pred at the catalogue values is V_bar ⊕ V_halo with V_halo that of NFW at its values (the kernel,
    by hand), drawn beside MOND, and the halo's own curve is labelled."""
    from sigcube.io.rotation_curves import pack_sparc
    from sigcube.model.kernels import get_kernel

    plot = fitted_rotation_curves(_with_halo(sparc_cube), sparc_cube, galaxies=["NGC3198"], run=run)
    (panel,) = plot.view
    labels = {e.label for e in panel if isinstance(e, hv.Curve)}
    assert {"mond", "nfw", "V_halo"} <= labels
    assert "nfw's halo" in plot.alt and "best grid point per galaxy" in plot.alt
    if run == "catalogue":
        points = pack_sparc(sparc_cube)
        g = list(points.galaxy).index("NGC3198")
        rows = slice(points.offsets[g], points.offsets[g + 1])
        want = get_kernel("nfw")({k: np.asarray(v)[rows] for k, v in points.inputs.items() if np.ndim(v)},
                                 log10_M200=11.5, c=8.0)
        (line,) = [e for e in panel if isinstance(e, hv.Curve) and e.label == "nfw"]
        assert line.dimension_values(1) == pytest.approx(want, rel=1e-9)


def test_a_halo_row_without_its_per_galaxy_fit_is_one_line(sparc_cube):
    report = _with_halo(sparc_cube)
    for run in report["runs"].values():
        run["nfw"] = {k: v for k, v in run["nfw"].items() if k != "best_per_galaxy"}
    with pytest.raises(SigcubeError, match="no per-galaxy fit of nfw") as err:
        fitted_rotation_curves(report, sparc_cube, galaxies=["NGC3198"])
    assert "\n" not in str(err.value)


def test_with_a_galaxy_scale_the_curves_sit_at_its_mode_where_the_residuals_are_taken():
    """With τ_gal the inclination alone has no mode (u = (sin i/sin i0)·s_g is integrated in its place): the curves
    are drawn at u's mode, the prediction the predictive checks' residuals are taken at — with the quoted errors alone
    V_pred·u = V_obs − r·e_V point by point."""
    from sigcube.engines.evidence import Data
    from sigcube.engines.fitted_curves import fitted_curves
    from sigcube.engines.residuals import residuals_at
    from sigcube.model.kernels.registry import get_kernel
    from sigcube.stats.likelihood import GaussianLikelihood
    from sigcube.stats.synthetic import synthetic_sample

    sample = synthetic_sample(get_kernel("mond"), {}, 3, seed=11, tau_gal=0.3)
    data, likelihood = Data(sample.points, sample.catalogue), GaussianLikelihood(0.0, tau_gal=0.3)
    curves = fitted_curves(get_kernel("mond"), {}, data, likelihood, [0, 1, 2])
    r = residuals_at(get_kernel("mond"), {}, data, likelihood)
    inputs = sample.points.inputs
    np.testing.assert_allclose(np.concatenate([c.v_pred for c in curves]), inputs["v_obs"] - r * inputs["e_v_obs"],
                               rtol=1e-6)
    assert all(np.all(np.isfinite(c.band)) for c in curves)
    assert all("inclination" not in c.nuisance and np.isfinite(c.nuisance["velocity_scale"][0]) for c in curves)


def test_every_galaxy_is_drawn_on_pages_named_for_their_galaxies(sparc_cube, tmp_path):
    """galaxies=all draws every galaxy of the sample once, in the sample's order, per_page to a page; each page's name
    holds its number and its first and last galaxy, and save_all writes one file per page beside --out."""
    from sigcube.interfaces.plots.base import Pages
    from sigcube.interfaces.plots.output import save_all
    from sigcube.io.rotation_curves import pack_sparc

    cube = sparc_cube.isel(galaxy=slice(0, 6))  # a few galaxies: full pages and a short one, drawn fast
    names = [str(g) for g in pack_sparc(cube).galaxy]  # the sample: the cube's galaxies within its cuts
    assert len(names) % 2 and len(names) > 4
    drawn = fitted_rotation_curves(_report(cube), cube, galaxies=["all"], run="catalogue", per_page=2)
    assert isinstance(drawn, Pages)
    pages = list(drawn.pages.items())
    assert len(pages) == -(-len(names) // 2)
    shown = [panel.opts.get(backend="bokeh").kwargs["title"].split("\n")[0] for _, plot in pages for panel in plot.view]
    assert shown == names
    first, plot = pages[0]
    assert first == f"{1:0{len(str(len(pages)))}d}-{names[0]}-to-{names[1]}"
    assert pages[-1][0].endswith(f"-{names[-1]}") and "-to-" not in pages[-1][0], "the short page: one galaxy"
    paths = save_all(pages and Pages(dict(pages[:2]), drawn.alt), tmp_path / "curves.png")
    assert [p.name for p in paths] == [f"curves-{name}.png" for name, _ in pages[:2]]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    single = fitted_rotation_curves(_report(cube), cube, galaxies=names[:2], run="catalogue")
    assert not isinstance(single, Pages) and len(single.view) == 2


def test_a_page_name_is_safe_for_a_file():
    from sigcube.interfaces.plots.base import page_name

    assert page_name(3, 12, "NGC 0024", "a/b:c") == "03-NGC_0024-to-a_b_c"
    assert page_name(1, 1, "DDO154", "DDO154") == "1-DDO154"


def test_the_titles_name_every_rms_and_write_the_mass_to_light_ratio_as_upsilon(sparc_cube):
    """Each panel's title gives the RMS of every model by its name (however many), and its ϒ_disk, D and u or i in
    mathtext for the static figure (a plain Υ reads as a Y); the caption defines the symbols."""
    plot = fitted_rotation_curves(_report(sparc_cube), sparc_cube, galaxies=["NGC3198"])
    (panel,) = list(plot.view)
    title = panel.opts.get(backend="matplotlib").kwargs["title"]
    assert "RMS [km/s]: mond " in title and "ϒ$_\\mathrm{{disk}}$" in title and "$D$" in title
    caption = plot.view.opts.get(backend="matplotlib").kwargs["title"]
    assert "mass-to-light ratio" in caption and "(inclination)" in caption


def test_the_rar_of_a_report_draws_its_fitted_models_at_their_best_points(sparc_cube):
    """Given a comparison report, the RAR draws the report's models at its best point (MOND's a0 of the report, not
    the preset's): its binned median g_pred is the MOND kernel's at that a0 (computed here from the interpolating
    function ν(y) = 1/(1 − e^{−√y}) of g_N), and another a0 moves it."""
    from sigcube.interfaces.plots.rar import binned, rar
    from sigcube.io.rotation_curves import pack_sparc

    def median_curve(a0):
        plot = rar(_report(sparc_cube, a0), sparc_cube, residuals=False)
        (top,) = list(plot.view)
        (curve,) = [e for e in top if isinstance(e, hv.Curve) and e.label == "mond: binned median"]
        return plot, curve.dimension_values(1)

    plot, drawn = median_curve(1.2e-10)
    assert "fitted models (nuisance run) at their best points, mond" in plot.alt
    p = pack_sparc(sparc_cube).inputs
    g_n, y = np.asarray(p["g_N"], float), np.asarray(p["g_N"], float) / 1.2e-10
    g_pred = g_n / (1 - np.exp(-np.sqrt(y)))
    edges = np.geomspace(g_n.min(), g_n.max() * (1 + 1e-12), 25)
    _, _, median, _ = binned(g_n, np.log10(g_pred), edges)
    np.testing.assert_allclose(np.log10(drawn), median, atol=0.02)
    assert not np.allclose(median_curve(6e-11)[1], drawn, rtol=0.01, atol=0)
    with pytest.raises(SigcubeError, match="give the dataset cube"):
        rar(_report(sparc_cube))


def test_the_panels_mark_the_prior_data_conflicts_the_report_lists(sparc_cube):
    """A galaxy the report lists in prior–data conflict (a global model's at its mode, from the predictive checks; a
    sampler row's own, at its posterior mean) has a ⚠ line naming each parameter's symbol, deviate and model; a galaxy
    not listed has none; the caption says what the line means and the alt text lists them."""
    report = _report(sparc_cube)
    report["predictive_checks"] = {"nuisance": {"mond": {"conflicts": [
        {"galaxy": "NGC2403", "parameter": "distance", "z_mode": -4.25},
        {"galaxy": "NGC2403", "parameter": "upsilon_disk", "z_mode": 3.5}]}}}
    plot = fitted_rotation_curves(report, sparc_cube, galaxies=["NGC3198", "NGC2403"])
    titles = {p.opts.get(backend="bokeh").kwargs["title"].split("\n")[0]: p.opts.get(backend="bokeh").kwargs["title"]
              for p in plot.view}
    assert titles["NGC2403"].endswith("\n⚠ z: D −4.2, ϒ_disk +3.5")
    assert "⚠" not in titles["NGC3198"]
    assert plot.alt.split("prior–data conflicts: ")[1] == "NGC2403: D z = -4.2 (mond), ϒ_disk z = +3.5 (mond)"
    quiet = fitted_rotation_curves(_report(sparc_cube), sparc_cube, galaxies=["NGC3198", "NGC2403"])
    assert "prior–data conflict" not in quiet.alt

    sampled = _report(sparc_cube)
    sampled["runs"]["nuisance"]["mond"] = {**sampled["runs"]["nuisance"]["mond"], "conflicts": {
        "limit": 3.0, "rows": [{"galaxy": "NGC3198", "parameter": "inclination", "z_mean": 3.1, "z_sd": 0.4}]}}
    plot = fitted_rotation_curves(sampled, sparc_cube, galaxies=["NGC3198", "NGC2403"])
    assert plot.alt.split("prior–data conflicts: ")[1] == "NGC3198: i z = +3.1 (mond)"
