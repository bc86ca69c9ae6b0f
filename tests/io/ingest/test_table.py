"""`sigcube ingest table`: a user's rotation-curve table → rotation_curves cube, on tables of real SPARC rows.

The expectations are the SPARC cube's own values: a table written from a few SPARC galaxies must give the same
curves, the same packed points and the same predictions and report as the SPARC cube restricted to them.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table
from typer.testing import CliRunner

import sigcube
from sigcube.cli import app
from sigcube.conventions import SampleCuts
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.errors import ParseError, SigcubeError
from sigcube.interfaces.explore import sections
from sigcube.io import datasets
from sigcube.io.cubes import open_cube, write_cube
from sigcube.io.ingest.user_table import build_table_cube
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model.kernels import KernelError, get_kernel, kernel_names

runner = CliRunner()
# UGC00634 has 4 usable points (left out by the ≥ 5 cut), UGC01281 loses 2 of its points to V_bar ≤ 0
GALAXIES = ["NGC3198", "DDO154", "UGC02885", "NGC2403", "UGC00634", "UGC01281"]
POINT = {"r": "kpc", "v_obs": "km / s", "e_v_obs": "km / s", "v_gas": "km / s", "v_disk": "km / s", "v_bul": "km / s",
         "sb_disk": "solLum / pc2", "sb_bul": "solLum / pc2"}
GALAXY = {"distance": "Mpc", "e_distance": "Mpc", "inclination": "deg", "e_inclination": "deg", "L36": "1e9 solLum",
          "L_bul": "1e9 solLum", "R_disk": "kpc", "M_HI": "1e9 solMass"}
REQUIRED = ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul")


def sparc_table(cube, names=GALAXIES, point=tuple(POINT), galaxy=tuple(GALAXY)) -> Table:
    """One row per rotation-curve point of ``names`` (in the given order), with units, from the SPARC cube."""
    rows: dict[str, list] = {"galaxy": [], **{c: [] for c in (*point, *galaxy)}}
    for name in names:
        g = cube.sel(galaxy=name)
        for i in range(int(g["n_points"])):
            rows["galaxy"].append(name)
            for c in point:
                rows[c].append(float(g[c][i]))
            for c in galaxy:
                rows[c].append(float(g[c]))
    table = Table(rows)
    for c in (*point, *galaxy):
        table[c].unit = {**POINT, **GALAXY}[c]
    return table


@pytest.fixture(scope="module")
def subset(sparc_cube):
    """The SPARC cube restricted to GALAXIES, in the cube's (sorted) order."""
    return sparc_cube.sel(galaxy=sorted(GALAXIES))


@pytest.fixture(scope="module")
def tables(sparc_cube, tmp_path_factory) -> dict[str, Path]:
    """The same rows written as ECSV and FITS (units in the file) and as CSV (no units), rows shuffled."""
    folder = tmp_path_factory.mktemp("tables")
    table = sparc_table(sparc_cube)
    table = table[np.random.default_rng(0).permutation(len(table))]
    paths = {fmt: folder / f"curves.{fmt}" for fmt in ("ecsv", "fits", "csv")}
    for path in paths.values():
        table.write(path)
    return paths


CSV_UNITS = {c: unit.replace(" ", "") if c not in ("L36", "L_bul", "M_HI") else unit for c, unit in {**POINT, **GALAXY}.items()}


@pytest.fixture(scope="module")
def user_cube(tables):
    return build_table_cube(tables["ecsv"])


@pytest.mark.parametrize("fmt", ["ecsv", "fits", "csv"])
def test_a_table_of_sparc_rows_gives_the_sparc_values(fmt, tables, subset):
    cube = build_table_cube(tables[fmt], units=CSV_UNITS if fmt == "csv" else None)
    assert cube.attrs["sigcube_kind"] == "rotation_curves"
    assert list(cube["galaxy"].values) == sorted(GALAXIES)
    assert list(cube["n_points"].values) == list(subset["n_points"].values)
    width = cube.sizes["radius"]
    assert width == int(subset["n_points"].max())
    for name in POINT:
        np.testing.assert_array_equal(cube[name].values, subset[name].values[:, :width])
        assert cube[name].attrs == subset[name].attrs  # same units and long_name
    for name in GALAXY:
        np.testing.assert_array_equal(cube[name].values, subset[name].values)


def test_the_cube_round_trips_through_zarr_and_packs_like_sparc(user_cube, subset, tmp_path):
    write_cube(user_cube, tmp_path / "user.zarr")
    reread = open_cube(tmp_path / "user.zarr").load()
    mine, theirs = datasets.pack(reread), pack_sparc(subset)
    assert list(mine.galaxy) == list(theirs.galaxy) == ["DDO154", "NGC2403", "NGC3198", "UGC01281", "UGC02885"]
    assert mine.excluded == theirs.excluded == {"UGC00634": "4 usable points < 5"}
    assert mine.points_dropped == theirs.points_dropped == 2
    assert mine.inputs.keys() == theirs.inputs.keys()
    for name, values in theirs.inputs.items():
        np.testing.assert_array_equal(mine.inputs[name], values, err_msg=name)


def _sparc_rows(points, sparc_points) -> np.ndarray:
    """The SPARC sample's points of the galaxies of ``points``, in their order."""
    where = {name: i for i, name in enumerate(sparc_points.galaxy)}
    return np.concatenate([np.arange(sparc_points.offsets[where[g]], sparc_points.offsets[where[g] + 1])
                           for g in points.galaxy])


def _same_predictions(points, sparc_points) -> list[str]:
    """Kernels whose inputs ``points`` has: each predicts what it predicts on the SPARC sample, galaxy by galaxy.

    Every other kernel refuses ``points`` naming the inputs it lacks; returns the names of those kernels.
    """
    rows = _sparc_rows(points, sparc_points)
    refused = []
    for name in kernel_names():
        kernel = get_kernel(name)
        lacking = kernel.missing_inputs(points.inputs)
        if lacking:
            with pytest.raises(KernelError, match=f"needs point inputs {', '.join(lacking)}"):
                kernel(points.inputs)
            refused.append(name)
        else:
            np.testing.assert_array_equal(kernel(points.inputs), kernel(sparc_points.inputs)[..., rows], err_msg=name)
    return refused


def test_every_kernel_predicts_the_same_on_both_cubes(user_cube, sparc_points):
    assert _same_predictions(pack_sparc(user_cube), sparc_points) == []


def test_curves_alone_serve_the_curve_kernels_and_name_what_others_lack(sparc_cube, tmp_path, sparc_points):
    path = tmp_path / "bare.ecsv"
    sparc_table(sparc_cube, point=REQUIRED, galaxy=()).write(path)
    cube = build_table_cube(path)
    assert np.isnan(cube["sb_disk"].values).all() and np.isnan(cube["R_disk"].values).all()
    points = pack_sparc(cube)
    assert {"R_d_table", "Omega_d_table", "M_b", "Sigma_star"}.isdisjoint(points.inputs)
    assert {"R_d_third", "R_d_vdisk_peak", "Omega_d_vdisk_peak", "V_bar_max", "w_gas"} <= points.inputs.keys()
    refused = _same_predictions(points, sparc_points)
    assert {"mond", "newtonian", "burr_xii", "nfw", "velocity_coherence"}.isdisjoint(refused)
    assert {"mass_coherence", "cmsi"} <= set(refused)
    with pytest.raises(SigcubeError, match="quality cut"):
        pack_sparc(cube, SampleCuts(quality=(1, 2)))
    # no inclinations in the table: the default cut keeps every galaxy, any other cut keeps none
    with pytest.raises(SigcubeError, match="leave no galaxy"):
        pack_sparc(cube, SampleCuts(min_inclination=30))


@pytest.fixture(scope="module")
def no_r_disk_store(sparc_cube, subset, tmp_path_factory) -> Path:
    """A user's cube of GALAXIES with every column but R_disk (so no ``table`` R_d)."""
    folder = tmp_path_factory.mktemp("no-r-disk")
    sparc_table(sparc_cube, galaxy=tuple(c for c in GALAXY if c != "R_disk")).write(folder / "curves.ecsv")
    write_cube(build_table_cube(folder / "curves.ecsv"), folder / "mine.zarr")
    return folder / "mine.zarr"


def test_without_r_disk_the_sigma_kernels_run_on_the_r_d_they_read(no_r_disk_store, sparc_points):
    cube = open_cube(no_r_disk_store).load()
    points = pack_sparc(cube)
    assert np.isnan(cube["R_disk"].values).all() and "R_d_table" not in points.inputs
    rows = _sparc_rows(points, sparc_points)
    for name in ("sigma", "sigma_gated", "sigma_efe", "sigma_dynamical"):
        kernel = get_kernel(name)
        for source in ("third", "vdisk_peak"):
            np.testing.assert_array_equal(kernel(points.inputs, rd_source=source),
                                          kernel(sparc_points.inputs, rd_source=source)[..., rows], err_msg=name)
        lacking = "Omega_d_table" if name == "sigma_dynamical" else "R_d_table"
        with pytest.raises(KernelError, match=rf"'{name}' needs point inputs {lacking} \(read with rd_source = "
                                              r"'table'; rd_source = 'third' or 'vdisk_peak' needs none of them\)"):
            kernel(points.inputs, rd_source="table")
    # the bulge-fraction amplitude reads f_bulge as well: on SPARC's points without it, only that mode is refused
    bare = {k: v for k, v in sparc_points.inputs.items() if k != "f_bulge"}
    np.testing.assert_array_equal(get_kernel("sigma")(bare), get_kernel("sigma")(sparc_points.inputs))
    with pytest.raises(KernelError, match="needs point inputs f_bulge"):
        get_kernel("sigma")(bare, amplitude_mode="bulge_fraction")
    # the front door: the paper's Σ on the user's cube is the SPARC cube's on those galaxies
    v = sigcube.predict(cube, "sigma")
    sparc_v = get_kernel("sigma")(sparc_points.inputs)[rows]
    np.testing.assert_array_equal(v.values[np.isfinite(v.values)], sparc_v)
    with pytest.raises(KernelError, match="needs point inputs R_d_table"):
        sigcube.score(cube, "sigma", rd_source="table")


def test_without_r_disk_a_sweep_over_rd_source_runs_and_one_reading_table_is_refused_first(no_r_disk_store, subset,
                                                                                           tmp_path):
    write_cube(subset, tmp_path / "subset.zarr")
    text = ('name = "rd"\ndataset = "{kind}"\nkernel = "sigma"\n[grid.rd_source]\nvalues = [{sources}]\n'
            '[grid.k]\nvalues = [0.1, 0.5]\n')
    both = '"third", "vdisk_peak"'
    run_sweep(parse_spec(text.format(kind="rotation_curves", sources=both)), tmp_path / "mine.zarr",
              cube=no_r_disk_store, synchronous=True)
    run_sweep(parse_spec(text.format(kind="sparc", sources=both)), tmp_path / "theirs.zarr",
              cube=tmp_path / "subset.zarr", synchronous=True)
    mine, theirs = open_result(tmp_path / "mine.zarr").load(), open_result(tmp_path / "theirs.zarr").load()
    np.testing.assert_array_equal(mine["mean_rms"].values, theirs["mean_rms"].values)
    with pytest.raises(KernelError, match="needs point inputs R_d_table"):
        run_sweep(parse_spec(text.format(kind="rotation_curves", sources=f'{both}, "table"')), tmp_path / "no.zarr",
                  cube=no_r_disk_store, synchronous=True)
    assert not (tmp_path / "no.zarr").exists()


def test_report_kernels_skips_and_names_the_kernels_the_cube_cannot_serve(no_r_disk_store):
    result = runner.invoke(app, ["report", "kernels", "--cube", str(no_r_disk_store), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["kernel"]: row for row in json.loads(result.stdout)}
    assert rows.keys() == set(kernel_names())
    skipped = {name: row["skipped"] for name, row in rows.items() if "skipped" in row}
    # mass_coherence's rd_source is "table" by default; coreNFW's core is the disk's (Read+2016: η R_1/2 from R_d)
    assert skipped == {name: "the cube gives no R_d_table" for name in ("mass_coherence", "corenfw", "corenfw_lcdm")}
    assert rows["sigma"]["n_galaxies"] == 5 and set(rows["mass_coherence"]) == {"kernel", "source", "skipped"}
    table = runner.invoke(app, ["report", "kernels", "--cube", str(no_r_disk_store)], terminal_width=200)
    assert table.exit_code == 0, table.output
    assert "not evaluated: mass_coherence — the cube gives no R_d_table" in table.stdout


def test_report_sparc_on_the_user_cube_is_the_report_on_those_sparc_galaxies(user_cube, subset, tmp_path):
    write_cube(user_cube, tmp_path / "user.zarr")
    write_cube(subset, tmp_path / "subset.zarr")
    mine = runner.invoke(app, ["report", "sparc", "--cube", str(tmp_path / "user.zarr"), "--json"])
    theirs = runner.invoke(app, ["report", "sparc", "--cube", str(tmp_path / "subset.zarr"), "--json"])
    assert mine.exit_code == 0, mine.output
    mine, theirs = json.loads(mine.stdout), json.loads(theirs.stdout)
    assert mine["conventions"].pop("cube_content_sha256") != theirs["conventions"].pop("cube_content_sha256")
    # neither is the sample the seeds' figures were printed for: each says why (its kind, its size) and shows values
    assert "kind rotation_curves" in mine.pop("findings")[0] and "of SPARC's 175" in theirs.pop("findings")[0]
    assert mine == theirs and mine["n_galaxies"] == 5 and mine["figures"] == []


def test_a_sweep_spec_names_the_rotation_curves_kind(user_cube, subset, tmp_path):
    write_cube(user_cube, tmp_path / "user.zarr")
    write_cube(subset, tmp_path / "subset.zarr")
    text = 'name = "user-mond"\ndataset = "{kind}"\nkernel = "mond"\n[grid.a0]\nlinspace = [0.8e-10, 1.6e-10, 5]\n'
    results = {}
    for kind, cube in (("rotation_curves", "user.zarr"), ("sparc", "subset.zarr")):
        spec = parse_spec(text.format(kind=kind))
        run_sweep(spec, tmp_path / f"{kind}-result.zarr", cube=tmp_path / cube, synchronous=True)
        results[kind] = open_result(tmp_path / f"{kind}-result.zarr").load()
    mine, theirs = results["rotation_curves"], results["sparc"]
    assert mine.attrs["dataset"] == "rotation_curves" and list(mine["galaxy"].values) == list(theirs["galaxy"].values)
    for name in ("rms", "mean_rms"):
        np.testing.assert_array_equal(mine[name].values, theirs[name].values)
    # the explorer of a sweep over rotation curves draws them, from the sweep's dataset cube
    html = runner.invoke(app, ["explore", str(tmp_path / "rotation_curves-result.zarr"), "--html",
                               str(tmp_path / "user.html"), "--cube", str(tmp_path / "user.zarr"), "--max-frames", "2",
                               "--max-galaxies", "3"])
    assert html.exit_code == 0, html.output
    assert "3 of 5 galaxies embedded (evenly spread through the sample)" in (tmp_path / "user.html").read_text()
    with pytest.raises(SigcubeError, match="explorer of a 'rotation_curves' sweep needs its dataset cube"):
        sections(mine, None)


def test_the_cli_ingests_a_csv_with_column_names_and_units_of_its_own(sparc_cube, subset, tmp_path):
    table = sparc_table(sparc_cube, point=REQUIRED, galaxy=("distance", "inclination"))
    ours = {"galaxy": "Name", "r": "Rad", "v_obs": "Vobs", "e_v_obs": "errV", "v_gas": "Vgas", "v_disk": "Vdisk",
            "v_bul": "Vbul", "distance": "D", "inclination": "Inc"}
    table.rename_columns(list(ours), list(ours.values()))
    table["Rad"] = table["Rad"].to(u.pc)  # converted back to kpc by astropy: equal to rounding
    table["Vobs"] = table["Vobs"].to(u.m / u.s)
    for col in table.colnames:
        table[col].unit = None
    table.write(tmp_path / "mine.csv")
    units = "Rad=pc,Vobs=m/s,errV=km/s,Vgas=km/s,Vdisk=km/s,Vbul=km/s,D=Mpc,Inc=deg"
    columns = ",".join(f"{k}={v}" for k, v in ours.items())
    out = tmp_path / "mine.zarr"
    result = runner.invoke(app, ["ingest", "table", str(tmp_path / "mine.csv"), "--columns", columns,
                                 "--units", units, "--out", str(out)])
    assert result.exit_code == 0, result.output
    width = int(subset["n_points"].max())  # the longest of the six curves (UGC02885)
    assert f"wrote {out}  (6 galaxy × {width} radius)" in result.stderr.replace("\n", "")
    cube = open_cube(out)
    np.testing.assert_allclose(cube["r"].values, subset["r"].values[:, :width], rtol=1e-15)
    np.testing.assert_allclose(cube["v_obs"].values, subset["v_obs"].values[:, :width], rtol=1e-15)
    np.testing.assert_array_equal(cube["inclination"].values, subset["inclination"].values)
    assert json.loads(cube.attrs["columns"])["r"] == "Rad"
    again = runner.invoke(app, ["ingest", "table", str(tmp_path / "mine.csv"), "--columns", columns,
                                "--units", units, "--out", str(out)])
    assert again.exit_code == 0 and "up to date" in again.stderr


def _write(table: Table, path: Path) -> Path:
    table.write(path, overwrite=True)
    return path


@pytest.fixture()
def good(sparc_cube) -> Table:
    return sparc_table(sparc_cube, names=["NGC3198", "DDO154"], point=REQUIRED, galaxy=("inclination",))


def _nan_in_vobs(t: Table) -> Table:
    t["v_obs"][5] = np.nan
    return t


def _duplicated_row(t: Table) -> Table:
    t.add_row(t[3])
    return t


def _two_inclinations(t: Table) -> Table:
    t["inclination"][2] += 1
    return t


def _negative_radius(t: Table) -> Table:
    t["r"][0] = -1
    return t


def _bad_unit(t: Table) -> Table:
    t["v_disk"].unit = u.kpc
    return t


@pytest.mark.parametrize("edit, args, message", [
    (lambda t: t[[c for c in t.colnames if c != "v_bul"]], [], "no column 'v_bul'; the table has galaxy, r,"),
    (lambda t: t, ["--columns", "v_bul=VBUL"], "no column 'VBUL' (v_bul)"),
    (lambda t: t, ["--columns", "vbul=v_bul"], "--columns names 'vbul', which sigcube does not know"),
    (lambda t: t, ["--columns", "v_bul"], "--columns takes name=value pairs"),
    (lambda t: t, ["--units", "r=furlongs per fortnight"], "astropy cannot parse the unit 'furlongs per fortnight'"),
    (lambda t: t, ["--units", "Rad=kpc"], "--units names 'Rad', which is not a column read from the table"),
    (_bad_unit, [], "column 'v_disk' is in 'kpc', which cannot be converted to 'km / s'"),
    (_nan_in_vobs, [], "column 'v_obs' has 1 missing or non-finite values (first: row 6, galaxy NGC3198)"),
    (_duplicated_row, [], "galaxy NGC3198 has two rows at r = "),
    (_two_inclinations, [], "column 'inclination' takes more than one value for galaxy NGC3198"),
    (_negative_radius, [], "column 'r', row 1 (galaxy NGC3198): -1 kpc is negative: allowed 0 < r ≤ 10000 kpc"),
    (lambda t: t[:0], [], "the table has no rows"),
])
def test_malformed_tables_give_one_clear_line(good, tmp_path, edit, args, message):
    path = _write(edit(good.copy()), tmp_path / "bad.ecsv")
    result = runner.invoke(app, ["ingest", "table", str(path), *args, "--out", str(tmp_path / "bad.zarr")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) <= 3  # one (wrapped) line
    assert not (tmp_path / "bad.zarr").exists()


def test_units_the_file_lacks_or_astropy_cannot_read(good, tmp_path):
    with pytest.raises(ParseError, match=r"columns 'r', 'v_obs', 'e_v_obs', 'v_gas', 'v_disk', 'v_bul', 'inclination' "
                                         r"have no unit: give them in the file \(ECSV, FITS; or beside a name: "
                                         r"r \[kpc\]\) or with --units "
                                         r"r=kpc,v_obs=km/s,e_v_obs=km/s,v_gas=km/s,v_disk=km/s,v_bul=km/s,"
                                         r"inclination=deg$"):
        build_table_cube(_write(good, tmp_path / "plain.csv"))
    with pytest.raises(ParseError, match=r"column 'inclination' has no unit: give it in the file \(ECSV, FITS; or "
                                         r"beside a name: r \[kpc\]\) or with --units inclination=deg$"):
        build_table_cube(tmp_path / "plain.csv", units={c: "km/s" for c in REQUIRED} | {"r": "kpc"})
    text = _write(good, tmp_path / "odd.ecsv").read_text().replace("unit: km / s", "unit: kms", 1)
    (tmp_path / "odd.ecsv").write_text(text)
    with pytest.raises(ParseError, match="has the unit 'kms', which astropy cannot parse; override it with --units"):
        build_table_cube(tmp_path / "odd.ecsv")
    assert build_table_cube(tmp_path / "odd.ecsv", units={"v_obs": "km/s"})["v_obs"].attrs["units"] == "km / s"
    (tmp_path / "junk.fits").write_bytes(b"\x00\x01 not a table")
    with pytest.raises(ParseError, match="astropy cannot read it as a table"):
        build_table_cube(tmp_path / "junk.fits")


def test_a_missing_default_user_cube_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "s"\ndataset = "rotation_curves"\nkernel = "mond"\n[grid.a0]\nvalues = [1e-10, 1.2e-10]\n')
    result = runner.invoke(app, ["sweep", str(spec), "--synchronous"])
    assert result.exit_code == 2
    assert "sigcube ingest table FILE" in result.stderr and "Traceback" not in result.output


def test_the_readme_example_runs(sparc_cube, repo_root, tmp_path, monkeypatch):
    """The README's `ingest table` example, run as written on a my_curves.csv with the columns it names."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, flags=re.S) if "ingest table my_curves" in b)
    commands = [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    table = sparc_table(sparc_cube, point=REQUIRED, galaxy=("R_disk",))
    yours = dict(pair.split("=") for pair in commands[0][commands[0].index("--columns") + 1].split(","))
    table.rename_columns(list(yours), list(yours.values()))
    for col in table.colnames:
        table[col].unit = None
    monkeypatch.chdir(tmp_path)
    table.write("my_curves.csv")
    for command in commands:
        assert command[0] == "sigcube"
        result = runner.invoke(app, command[1:], terminal_width=200)
        assert result.exit_code == 0, result.output
    assert "vdisk-peak" in result.stdout and "5 galaxies, " in result.stdout  # UGC00634 has 4 usable points
