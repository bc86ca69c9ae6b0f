"""`sigcube fit` end to end on the real SPARC cube: a result cube with one row per galaxy; an existing result is
replaced only with --force, and never a folder that is not a fit result (an empty one is written into)."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.fit.store import open_fit


def _run(*args: str):
    return CliRunner().invoke(app, ["fit", *args])


def test_fit_cli_writes_a_result_cube(repo_root, sparc_store, tmp_path):
    out = tmp_path / "nfw.zarr"
    spec = str(repo_root / "sweeps" / "fits" / "fit_nfw.toml")
    result = _run(spec, "--synchronous", "--cube", str(sparc_store), "--out", str(out))
    assert result.exit_code == 0, result.output
    ds = open_fit(out)
    assert ds.sizes["galaxy"] == 171 and ds.attrs["sigcube_kind"] == "fit" and ds.attrs["kernel"] == "nfw"
    assert bool(ds["converged"].all())
    assert np.all((ds["log10_M200"] >= 6.0) & (ds["log10_M200"] <= 14.0))
    assert np.all((ds["c"] >= 1.0) & (ds["c"] <= 50.0))
    np.testing.assert_array_equal(ds["dof"].values, ds["n_points"].values - 2)
    again = _run(spec, "--synchronous", "--cube", str(sparc_store), "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.output and len(again.output.strip().splitlines()) <= 2
    other = tmp_path / "not_a_fit"
    other.mkdir()
    (other / "notes.txt").write_text("not sigcube's")
    refused = _run(spec, "--synchronous", "--cube", str(sparc_store), "--out", str(other), "--force")
    assert refused.exit_code == 2 and "not a fit result" in refused.output


def test_fit_cli_writes_to_a_store_url_and_info_reads_it(repo_root, sparc_store):
    url = "memory://f2-cli/nfw.zarr"  # not a local folder: written in place, sealed last
    spec = str(repo_root / "sweeps" / "fits" / "fit_nfw.toml")
    result = _run(spec, "--synchronous", "--cube", str(sparc_store), "--out", url)
    assert result.exit_code == 0, result.output
    assert open_fit(url).sizes["galaxy"] == 171
    shown = CliRunner().invoke(app, ["info", url])
    assert shown.exit_code == 0 and "171 objects (galaxy)" in " ".join(shown.output.split())
