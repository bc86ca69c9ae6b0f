"""One way in: ``sigcube.open`` opens every kind of store with one verify rule; ``xr.open_dataset(..., engine="sigcube")``
does the same through xarray and refuses a damaged store; the ``.sigcube`` accessor works on any dataset whose
variables fit a kind of cube, whatever its attributes say."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from rich.console import Console

import sigcube
from sigcube.engines.fit.run import fit_points
from sigcube.engines.fit.spec import parse_spec as parse_fit_spec
from sigcube.engines.fit.store import write_result
from sigcube.engines.sweep import parse_spec, run_sweep
from sigcube.errors import SchemaError, SigcubeError
from sigcube.interfaces.backend import SigcubeBackend
from sigcube.io.stores import StoreDamagedError
from sigcube.model.kernels import get_kernel
from sigcube.stats.synthetic import synthetic_sample

SPEC = 'name = "acc"\nkernel = "sigma"\n[grid.A0]\nlinspace = [0.8, 1.6, 5]\n[grid.k]\nlinspace = [0.1, 0.3, 3]\n'


@pytest.fixture(scope="module")
def stores(sparc_store, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("stores")
    result = folder / "result.zarr"
    run_sweep(parse_spec(SPEC), result, cube=sparc_store, synchronous=True, console=Console(quiet=True))
    fit = folder / "fit.zarr"
    sample = synthetic_sample(get_kernel("sigma_xi"), {"A": 1.5, "xi": 3.0}, 3, seed=1, priors={})
    spec = parse_fit_spec({"dataset": "sparc", "kernel": "sigma_xi",
                           "free": {"A": {"bounds": [0.01, 5.0]}, "xi": {"bounds": [0.1, 50.0], "scale": "log"}}})
    write_result(fit_points(spec, sample.points), fit)
    return {"cube": sparc_store, "result": result, "fit": fit}


def test_open_opens_every_kind_of_store_by_the_kind_it_records(stores):
    assert sigcube.open(stores["cube"]).attrs["sigcube_kind"] == "sparc"
    assert sigcube.open(stores["result"]).attrs["sigcube_kind"] == "sweep"
    assert sigcube.open(stores["fit"]).attrs["sigcube_kind"] == "fit"
    for verify in ("full", "listing", "seal"):
        xr.testing.assert_identical(sigcube.open(stores["result"], verify=verify).load(),
                                    sigcube.open_result(stores["result"]).load())


def test_open_refuses_what_is_not_a_sigcube_store(tmp_path):
    with pytest.raises(SchemaError, match="no such store"):
        sigcube.open(tmp_path / "nothing.zarr")
    xr.Dataset({"a": ("x", [1.0])}).to_zarr(tmp_path / "plain.zarr", zarr_format=3, consolidated=False)
    with pytest.raises(SchemaError, match="without a sigcube_kind attribute"):
        sigcube.open(tmp_path / "plain.zarr")


def test_xarray_opens_a_store_through_the_sigcube_engine(stores):
    ds = xr.open_dataset(stores["result"], engine="sigcube")
    xr.testing.assert_identical(ds.load(), sigcube.open(stores["result"]).load())
    assert SigcubeBackend().guess_can_open(str(stores["cube"])) and not SigcubeBackend().guess_can_open("x.nc")


def test_the_sigcube_engine_refuses_a_flipped_byte(stores, tmp_path):
    damaged = tmp_path / "result.zarr"
    shutil.copytree(stores["result"], damaged)
    chunk = damaged / "mean_rms" / "c" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x20
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreDamagedError, match="mean_rms/c/0/0"):
        xr.open_dataset(damaged, engine="sigcube")
    lazily = xr.open_dataset(damaged, engine="sigcube", verify="seal")  # not checked on open: checked as it is read
    with pytest.raises(StoreDamagedError, match="chunk mean_rms/c/0/0"):
        lazily.mean_rms.load()


def _by_hand(cube: xr.Dataset) -> xr.Dataset:
    """The SPARC cube's curves as a user would build them: no sigcube attributes, V_obs and e_V in m/s."""
    names = ["r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "inclination"]
    ds = xr.Dataset({n: cube[n].copy() for n in names}, coords={"galaxy": cube.galaxy.values})
    for n in ("v_obs", "e_v_obs"):
        ds[n] = (ds[n] * 1000.0).assign_attrs(units="m / s")
    return ds


def test_the_accessor_reads_any_dataset_whose_variables_fit(sparc_cube):
    mine = _by_hand(sparc_cube)
    assert "sigcube_kind" not in mine.attrs and mine.sigcube.kind == "rotation_curves"
    np.testing.assert_allclose(mine.sigcube.score("sigma").mean_rms, sigcube.score(sparc_cube, "sigma").mean_rms,
                               rtol=1e-12)
    v = mine.sigcube.predict("mond", a0=xr.DataArray([1e-10, 1.2e-10], dims="a0"))
    assert v.sizes["a0"] == 2 and v.sizes["galaxy"] == 171
    assert mine.sigcube.points().n_points == 3373
    assert sparc_cube.sigcube.score("mond", baseline=None).attrs["baseline"] == ""


def test_the_accessor_says_what_a_dataset_lacks(sparc_cube):
    with pytest.raises(SigcubeError, match="fits no sweepable kind of cube .*missing variable 'e_v_obs'"):
        _by_hand(sparc_cube).drop_vars("e_v_obs").sigcube.kind
    bad = _by_hand(sparc_cube)
    bad["r"] = bad["r"].assign_attrs(units="s")
    with pytest.raises(SigcubeError, match="'r' is in 's', which does not convert to 'kpc'"):
        bad.sigcube.score("sigma")


def test_the_accessor_reads_a_sweep_result(stores):
    result = sigcube.open(stores["result"])
    assert result.sigcube.kind == "sweep"
    assert result.sigcube.best("mean_rms") == sigcube.open_result(stores["result"]).sigcube.best("mean_rms")
    assert result.sigcube.best_per_object().sizes["galaxy"] == 171
    with pytest.raises(SigcubeError, match="not a sweep's result cube"):
        sigcube.open(stores["cube"]).sigcube.best()
    with pytest.raises(SigcubeError, match="has no loglike"):
        result.sigcube.posterior()


@pytest.mark.parametrize("order", ["import sigcube; import xarray", "import xarray; import sigcube"])
def test_the_accessor_is_registered_whichever_is_imported_first(order):
    code = f"{order}; print(hasattr(xarray.Dataset(), 'sigcube'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.stdout.strip() == "True", out.stderr[-1000:]
