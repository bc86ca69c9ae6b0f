"""CLASH clusters ingest: Tian+2020 RAR, Mistele+2025 profiles, correlations and summary; the packer; the sweep spec."""

from __future__ import annotations

import json
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.constants import accel_from_velocity
from sigcube.errors import DataSourceError, ParseError
from sigcube.io import datasets
from sigcube.io.cubes import write_cube
from sigcube.io.ingest import clusters as cl
from sigcube.io.ingest import text
from sigcube.io.ingest.sources import DatasetFiles, fetch_dataset
from sigcube.io.schema import validate
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.sigma import h_function
from sigcube.model.points import velocity_points

RAR = "clusters/tian2020_clash_rar/fig2.dat"
LENS = "clusters/mistele2025_clash_lensing"


def test_cluster_names_have_one_spelling() -> None:
    assert [cl.cluster_key(n) for n in ("Abell 209", "abell209", "A209", "MACSJ0329", "macsj0329", "MACS0329",
                                        "RXJ2248", "rxj2248", "MS2137", "ms2137")] == [
        "A209", "A209", "A209", "MACS0329", "MACS0329", "MACS0329", "RXJ2248", "RXJ2248", "MS2137", "MS2137"]


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 ", min_size=1, max_size=12))
def test_cluster_key_is_idempotent(name: str) -> None:
    assert cl.cluster_key(cl.cluster_key(name)) == cl.cluster_key(name)


def test_real_files_parse(shared_data: Path) -> None:
    rar = cl.read_rar(shared_data / RAR)
    assert len(rar) == 20 and sum(len(p.r) for p in rar.values()) == 84
    assert all(np.all(np.diff(p.r) > 0) for p in rar.values())
    assert list(rar["A209"].r) == [14.3, 100.0, 200.0, 400.0, 600.0]
    profile = cl.read_profile(shared_data / LENS / "macsj1149.csv")
    first_r_mpc = float((shared_data / LENS / "macsj1149.csv").read_text().split("\n")[1].split(",")[0])
    assert len(profile["lens_r"]) == 9 and profile["lens_r"][0] == pytest.approx(1e3 * first_r_mpc, rel=1e-14)
    corr = cl.read_correlation(shared_data / LENS / "macsj1149-M-corr.csv", 9)
    assert corr.shape == (9, 9) and np.allclose(corr, corr.T)
    summary = cl.read_summary(shared_data / LENS / "vflat-Mb-M200c.csv")
    assert len(summary) == 20 and np.isnan(summary["A383"]["log_Mb_beta"])
    assert summary["A383"]["e_log_M200c_NFW_minus"] > 0 and summary["MACS1115"]["summary_name"] == "MACSJ1115"


def test_cube_layout_units_and_provenance(clusters_cube, clusters_store: Path) -> None:
    ds = clusters_cube
    schema = validate(ds)
    assert dict(ds.sizes) == {"cluster": 20, "radius": 10, "radius_b": 10}
    for name, spec in schema.variables.items():
        assert u.Unit(ds[name].attrs["units"]) is not None and ds[name].attrs["long_name"] == spec.long_name
    assert int(ds["rar_n"].sum()) == 84 and int(ds["lens_n"].sum()) == 199
    m1149 = ds.sel(cluster="MACS1149")
    assert np.isnan(m1149["lens_r"].values[9]) and np.isnan(m1149["lens_M_corr"].values[9]).all()
    assert np.all(np.isnan(ds["rar_r"].values) == (np.arange(10) >= ds["rar_n"].values[:, None]))
    corr = ds["lens_M_corr"].values
    assert np.allclose(np.nan_to_num(corr), np.nan_to_num(np.swapaxes(corr, 1, 2)))
    assert len(json.loads(ds.attrs["source_files"])) == 42 and "Tian" in ds.attrs["citation"]
    assert "Fox+2022" in ds.attrs["conventions"]
    assert write_cube(ds, clusters_store) == "unchanged"


def test_pack_gives_velocity_equivalent_rar_points(clusters_cube) -> None:
    points = cl.pack_clusters(clusters_cube)
    p = points.inputs
    assert points.group == "cluster" and points.n_galaxies == 20 and points.n_points == 84
    valid = np.isfinite(clusters_cube["rar_r"].values)
    assert np.allclose(p["g_N"], 10 ** clusters_cube["rar_log_g_bar"].values[valid], rtol=1e-12)
    assert np.allclose(p["g_obs"], 10 ** clusters_cube["rar_log_g_tot"].values[valid], rtol=1e-12)
    assert np.allclose(p["e_v_obs"], 0.5 * p["v_obs"] * np.log(10) * clusters_cube["rar_e_log_g_tot"].values[valid])
    assert np.all(p["R_d_third"] == 0) and np.all(p["f_bulge"] == 0)
    # Σ with the cluster amplitude: W = r/(r + 0.01 kpc) is within 7e-4 of the paper's W = 1
    sigma = (get_kernel("sigma")(p, D=1.0, L=600.0) / p["v_bar"]) ** 2
    A = get_kernel("sigma").resolve()["A0"] * (600 / 0.4) ** 0.27
    w = (sigma - 1) / (A * h_function(p["g_N"], get_kernel("sigma").resolve()["g_dagger"]))
    assert w.min() == pytest.approx(14.3 / 14.31) and w.min() > 0.9993


def test_registered_and_the_sweep_spec_validates(clusters_cube, repo_root: Path) -> None:
    from sigcube.engines.sweep import load_spec

    assert datasets.pack(clusters_cube).group == "cluster"
    spec = load_spec(repo_root / "sweeps" / "clusters_L_n.toml")
    assert spec.dataset == "clusters" and spec.kernel.name == "sigma" and spec.fixed == {"D": 1.0, "L0": 0.4}
    assert 600.0 in spec.axes[0].values and 0.27 in spec.axes[1].values


@pytest.mark.parametrize(
    ("relative", "line", "edit", "fragment"),
    [
        (RAR, 2, lambda s: s.replace("14.3", "14,3"), "'14,3' is not a number"),
        (RAR, 5, lambda s: s + " 0.1", "expected 6 columns"),
        (RAR, 21, lambda s: s.replace("100.", "-100."), "R must be positive"),
        (RAR, 22, lambda s: s.replace("A383", "A209"), "two rows at R = 100.0"),
        (f"{LENS}/abell209.csv", 1, lambda s: s.replace("r_Mpc", "r_kpc"), "header"),
        (f"{LENS}/abell209.csv", 4, lambda s: s.replace(s.split(",")[2], "NaN"), "not a finite number"),
        (f"{LENS}/abell209.csv", 6, lambda s: ",".join(s.split(",")[:12]), "expected 13 comma-separated"),
        (f"{LENS}/abell209.csv", 7, lambda s: s.replace(s.split(",")[2], "-" + s.split(",")[2]), "non-negative"),
        (f"{LENS}/vflat-Mb-M200c.csv", 3, lambda s: s.replace("Abell 209", "Abell 383"), "appears twice"),
        (f"{LENS}/vflat-Mb-M200c.csv", 5, lambda s: s.replace(s.split(",")[1], "fast"), "'fast' is not a number"),
    ],
)
def test_malformed_copies_name_file_and_line(mirror_copy, relative, line, edit, fragment) -> None:
    path = mirror_copy(relative, line, edit)
    readers = {"fig2.dat": cl.read_rar, "abell209.csv": cl.read_profile, "vflat-Mb-M200c.csv": cl.read_summary}
    reader = readers[path.name]
    with pytest.raises(ParseError) as info:
        reader(path)
    assert info.value.line == line and f"{path.name}, line {line}:" in str(info.value)
    assert fragment in str(info.value)


def test_malformed_correlation_matrices(mirror_copy) -> None:
    path = mirror_copy(f"{LENS}/abell209-M-corr.csv")
    with pytest.raises(ParseError, match="line 1: expected 9 comma-separated fields, found 10"):
        cl.read_correlation(path, 9)
    path.write_text("\n".join(path.read_text().split("\n")[:9]))
    with pytest.raises(ParseError, match="line 9: 9 rows; the profile has 10 radii, so the matrix must be 10 × 10"):
        cl.read_correlation(path, 10)
    mirror_copy(f"{LENS}/abell209-M-corr.csv", 2, lambda s: "0.9," + s.split(",", 1)[1])
    with pytest.raises(ParseError, match="line 1: not a correlation matrix"):
        cl.read_correlation(path, 10)


def _files_in(mirror: Path) -> DatasetFiles:
    files = fetch_dataset("clusters")
    return DatasetFiles(files.name, files.title, {k: mirror / v["mirror_path"] for k, v in files.entries.items()},
                        files.entries)


def test_inconsistent_file_sets_are_data_source_errors(mirror_copy, tmp_path: Path) -> None:
    for entry in fetch_dataset("clusters").entries.values():
        mirror_copy(entry["mirror_path"])
    rar = tmp_path / RAR
    rar.write_text("\n".join(line for line in rar.read_text().split("\n") if not line.startswith("MS2137")))
    with pytest.raises(DataSourceError, match=r"lensing profiles only: \['MS2137'\]"):
        cl.build_clusters_cube(_files_in(tmp_path))


finite = st.floats(1e-3, 1e16, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.lists(finite, min_size=3, max_size=3), min_size=1, max_size=12),
       nan_at=st.integers(0, 2))
def test_csv_rows_and_cells_round_trip(tmp_path_factory, rows, nan_at) -> None:
    header = ("a", "b", "c")
    lines = [",".join(header)] + [",".join("NaN" if j == nan_at and i == 0 else repr(v) for j, v in enumerate(row))
                                  for i, row in enumerate(rows)]
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    parsed = [[text.parse_cell(c, h, path, n, allow_nan=True) for c, h in zip(cells, header)]
              for n, cells in text.csv_rows(path, header)]
    expected = [[np.nan if (i, j) == (0, nan_at) else v for j, v in enumerate(row)] for i, row in enumerate(rows)]
    assert np.array_equal(np.array(parsed), np.array(expected), equal_nan=True)
    number, cells = text.csv_rows(path, header)[0]
    with pytest.raises(ParseError, match=f"line 2: column {header[nan_at]}: 'NaN' is not a finite number"):
        text.parse_cell(cells[nan_at], header[nan_at], path, number)


def test_points_from_velocities_compute_accelerations() -> None:
    points = velocity_points("thing", ["a", "b"], [2, 1], [1.0, 2.0, 3.0], [100.0, 110.0, 120.0], [1, 1, 1],
                                [50.0, 60.0, 70.0], r_d=[0.5, 0.5, 2.0])
    assert list(points.offsets) == [0, 2, 3] and points.group == "thing"
    assert np.allclose(points.inputs["g_N"], accel_from_velocity(np.array([50.0, 60.0, 70.0]), np.array([1, 2, 3.0])))
    assert list(points.per_galaxy("R_d_table")) == [0.5, 2.0]
