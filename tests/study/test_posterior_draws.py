"""Each galaxy's posterior draws of the sampler, kept with a comparison's rows and exported (report compare --draws),
and the corner figure drawn from them.

- Data-backed: ``compare_report`` on four SPARC galaxies with NFW on the sampler keeps the draws in its checkpoint and
  not in the report; the exported tree's draws follow the report's posterior: their mean per galaxy and parameter
  lies within 5 resampling errors (sd/√draws) of the importance-weighted mean the report prints, computed from other
  draws' weights.
- CLI: ``--draws`` without a model on the sampler, or over a folder that is not an export, is refused in one line
  before any work.
- The corner figure of a synthetic tree: one panel per pair below the diagonal, a histogram on it; an unknown galaxy
  or parameter, or a store that is not draws, is one PlotError.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.checkpoint import Checkpoint
from sigcube.interfaces.plots.base import PlotError
from sigcube.interfaces.plots.posteriors import galaxy_corner
from sigcube.stats import export
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports.compare import compare_report
from sigcube.study.reports.posterior_draws import KEY, DrawsError, kept_trees

runner = CliRunner()


def test_the_draws_follow_the_posterior_the_report_prints(sparc_cube, tmp_path):
    cube = sparc_cube.sel(galaxy=["DDO154", "NGC2403", "UGC02259", "NGC3109"])
    kept = Checkpoint(tmp_path / "run")
    report = compare_report(cube, ["nfw"], scatter=Scatter.parse("6"), checkpoint=kept, engine="sampler")
    row = report["runs"]["nuisance"]["nfw"]
    assert row["engine"] == "sampler" and KEY not in row
    tree = kept_trees(kept, {"nfw": "nfw"}, "the likelihood", {"nfw": "the prior"})["nfw"]
    post = tree["posterior"]
    assert dict(post.sizes) == {"chain": 4, "draw": 250, "galaxy": 4}
    assert set(post.data_vars) == {"log10_M200", "c", "upsilon_disk", "distance", "inclination"}
    printed = row["posterior_per_galaxy"]
    assert printed["galaxy"] == [str(g) for g in post["galaxy"].values]
    for name in ("log10_M200", "c", "distance", "inclination"):
        draws = post[name].values.reshape(-1, 4)
        mean, sd = np.asarray(printed[name]["mean"]), np.asarray(printed[name]["sd"])
        assert np.all(np.abs(draws.mean(axis=0) - mean) <= 5 * sd / np.sqrt(draws.shape[0])), name
    with pytest.raises(DrawsError, match="holds no posterior draws of sigma"):
        kept_trees(kept, {"sigma": "sigma"}, "", {})


def test_the_command_writes_the_draws_again_from_a_finished_run_and_plots_them(sparc_cube, tmp_path, monkeypatch):
    """The user's path: a comparison on a cube of four galaxies writes nfw.zarr; run again, it prints from the kept
    report and writes the same draws from the checkpoint; galaxy-corner draws one galaxy's from the file."""
    import xarray as xr

    from sigcube.io.cubes import write_cube

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    cube = tmp_path / "four.zarr"
    write_cube(sparc_cube.sel(galaxy=["DDO154", "NGC2403", "UGC02259", "NGC3109"]), cube)
    command = ["report", "compare", "nfw", "--sigma-int", "6", "--engine", "sampler", "--synchronous", "--cube",
               str(cube), "--draws", str(tmp_path / "d")]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    written = xr.open_datatree(tmp_path / "d" / "nfw.zarr", engine="zarr")["posterior"].to_dataset().load()
    again = runner.invoke(app, command)
    assert again.exit_code == 0 and "from the finished run kept at" in again.stderr, again.output
    kept = xr.open_datatree(tmp_path / "d" / "nfw.zarr", engine="zarr")["posterior"].to_dataset().load()
    xr.testing.assert_identical(kept, written)
    out = tmp_path / "corner.png"
    drawn = runner.invoke(app, ["plot", "galaxy-corner", str(tmp_path / "d" / "nfw.zarr"), "--set", "galaxy=NGC2403",
                                "--out", str(out)])
    assert drawn.exit_code == 0 and out.stat().st_size > 10_000, drawn.output


def test_draws_are_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    none = runner.invoke(app, ["report", "compare", "mond", "--draws", str(tmp_path / "d")])
    assert none.exit_code == 2 and none.stderr.count("\n") == 1, none.output
    assert "the sampler integrates none of mond here" in none.stderr
    table = runner.invoke(app, ["report", "compare", "mond", "--error-model", "all", "--draws", str(tmp_path / "d")])
    assert table.exit_code == 2 and "the sampler integrates none of mond here" in table.stderr, table.output
    folder = tmp_path / "d"
    (folder / "nfw-lcdm.zarr").mkdir(parents=True)
    (folder / "nfw-lcdm.zarr" / "notes.txt").write_text("mine")
    mine = runner.invoke(app, ["report", "compare", "nfw-lcdm", "--engine", "sampler", "--draws", str(folder)])
    assert mine.exit_code == 2 and "is not a posterior export of sigcube's: it is not replaced" in mine.stderr
    assert (folder / "nfw-lcdm.zarr" / "notes.txt").read_text() == "mine" and not (tmp_path / "cubes").exists()
    (tmp_path / "afile").write_text("x")
    for where, says in ((tmp_path / "afile", "is a file"), (tmp_path / "afile" / "sub", "cannot write")):
        bad = runner.invoke(app, ["report", "compare", "nfw-lcdm", "--engine", "sampler", "--draws", str(where)])
        assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and says in bad.stderr, bad.output
    assert not (tmp_path / "cubes").exists()


def _tree():
    rng = np.random.default_rng(2)
    values = {"log10_M200": rng.normal(11, 0.3, (2, 400)), "c": rng.lognormal(2, 0.3, (2, 400)),
              "distance": rng.normal(4, 0.2, (2, 400)), "upsilon_bul": np.stack([rng.normal(0.7, 0.1, 400),
                                                                                 np.full(400, np.nan)])}
    return export.draws_to_datatree(values, ["A", "B"], attrs={"model": "nfw"})


def test_the_corner_figure_has_a_panel_per_pair(tmp_path):
    import holoviews as hv

    drawn = galaxy_corner(_tree(), galaxy="B")
    panels = list(drawn.view)
    assert len(panels) == 9  # B has no Υ_bul: 3 parameters, 3 × 3 cells
    assert sum(isinstance(p, hv.Empty) for p in panels) == 3
    assert drawn.alt.startswith("Corner plot of B's posterior under nfw: 400 draws of ")
    assert len(list(galaxy_corner(_tree(), galaxy="A", parameters=["c", "upsilon_bul"]).view)) == 4


@pytest.mark.parametrize("kwargs,match", [({"galaxy": "Z"}, "no galaxy 'Z'"),
                                          ({"galaxy": "B", "parameters": ["upsilon_bul"]}, "B has no draws of "
                                                                                           "upsilon_bul"),
                                          ({"bins": 1}, "bins must be ≥ 2")])
def test_the_corner_figure_refuses_what_is_not_there(kwargs, match):
    with pytest.raises(PlotError, match=match):
        galaxy_corner(_tree(), **kwargs)


def test_the_corner_figure_reads_only_draws():
    import xarray as xr

    with pytest.raises(PlotError, match="report compare --draws"):
        galaxy_corner(xr.Dataset(attrs={"sigcube_kind": "sparc"}))


def test_a_draws_export_opens_with_a_galaxy_lacking_a_parameter_but_not_with_draws_missing(tmp_path):
    """Υ_bul's draws are NaN for a galaxy without a bulge (every draw): the export opens; a galaxy with some of its
    draws NaN (a chunk lost) is refused in one line."""
    from sigcube import open as open_store
    from sigcube.errors import SchemaError

    _tree().to_zarr(tmp_path / "whole.zarr")
    assert set(open_store(tmp_path / "whole.zarr")["posterior"].data_vars) == {"log10_M200", "c", "distance",
                                                                              "upsilon_bul"}
    damaged = _tree()
    post = damaged["posterior"].to_dataset()
    post["c"][0, :10, 0] = np.nan
    damaged["posterior"] = post
    damaged.to_zarr(tmp_path / "damaged.zarr")
    with pytest.raises(SchemaError, match="the posterior draws of c have missing values.*report compare --draws"):
        open_store(tmp_path / "damaged.zarr")
