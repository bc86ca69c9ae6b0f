"""`sigcube plot` and `sigcube explore` refuse in one line what they cannot draw or must not write: an output path of
another kind (a folder, a store, a device, a file holding a report), a dataset cube that is not the one a result was
made from, a figure's option given badly or left out, and every kind of bad input (empty, cut, null, a folder, a
report of another kind). Unit tests: no data mirror (synthetic cubes, the committed reports)."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.comparison import per_object_difference
from sigcube.interfaces.plots.options import OptionError, figure_options, given_options
from sigcube.interfaces.plots.output import OutputError, output_file, save
from sigcube.interfaces.plots.registry import figures
from sigcube.io.cubes import CubeMismatchError, check_source_cube

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results"
COMPARE = RESULTS / "compare-sigma-mond-nfw.json"
runner = CliRunner()


def one_line(res) -> str:
    """The refusal of a CLI run: exit 2, one line on stderr, no traceback."""
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.output, res.output
    return lines[0]


# --- output paths ------------------------------------------------------------------------------------------------

REPORT_TEXT = '{"report": {"logo": {}}, "commands": []}\n'


def _store(path: Path) -> Path:
    path.mkdir()
    (path / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    return path


@pytest.mark.parametrize("make, message", [
    (lambda t: t / "folder", "is a folder"),
    (lambda t: _store(t / "cube.zarr"), "is a Zarr store (a cube)"),
    (lambda t: _store(t / "cube"), "is a Zarr store (a cube)"),
    (lambda t: t / "report.json", "the file holds JSON (a report or a record), not PNG, SVG, PDF or HTML"),
    (lambda t: t / "report.png", "the file holds JSON (a report or a record)"),
    (lambda t: t / "notes.html", "the file holds text"),
    (lambda t: t / "new.json", ".json names JSON"),
    (lambda t: t / "new.zarr", ".zarr names a Zarr store"),
    (lambda t: t / "new", "the name has no suffix"),
    (lambda t: t / "new.xyz", ".xyz is not a format of a figure"),
    (lambda t: t / "missing" / "x.png", "the folder"),
    (lambda t: Path("/dev/null"), "is not a regular file"),
    (lambda t: Path("/proc/sigcube-test.png"), "takes no new files"),
])
def test_an_output_path_of_another_kind_is_refused_and_left_as_it_is(tmp_path, make, message):
    path = make(tmp_path)
    if path.name.startswith(("report.", "notes.")):
        path.write_text(REPORT_TEXT if path.name.startswith("report") else "my notes\n")
    if path.name == "folder":
        path.mkdir()
    before = path.read_bytes() if path.is_file() and path.parent != Path("/dev") else None
    with pytest.raises(OutputError, match=re.escape(message)) as caught:
        output_file(path, ("png", "svg", "pdf", "html"), "a figure")
    assert "\n" not in str(caught.value)
    if before is not None:
        assert path.read_bytes() == before
    assert not [p for p in tmp_path.rglob(".*") if p.name.endswith((".probe", ".tmp"))], "nothing left behind"


def test_a_file_of_the_same_kind_is_replaced_and_a_page_may_have_no_suffix(tmp_path):
    from sigcube.interfaces.plots.halos import relations

    old = tmp_path / "old.png"
    old.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)  # a PNG's signature: this kind is replaced
    assert save(relations(), old) == old and old.stat().st_size > 10_000
    assert output_file(tmp_path / "page", ("html", "htm"), "the explorer's page", suffixless=True) == tmp_path / "page"
    with pytest.raises(OutputError, match="the file holds a PNG image"):
        output_file(old, ("html", "htm"), "the explorer's page", suffixless=True)


def test_explore_refuses_to_write_its_page_over_a_report(tmp_path):
    report = tmp_path / "existing_report.json"
    report.write_text(REPORT_TEXT)
    for target in (report, tmp_path / "other.json"):
        line = one_line(runner.invoke(app, ["explore", str(tmp_path / "missing.zarr"), "--html", str(target)]))
        assert f"--html {target if target.exists() else target.name}" in line, line
    assert report.read_text() == REPORT_TEXT
    store = _store(tmp_path / "cube.zarr")
    assert "is a Zarr store" in one_line(runner.invoke(app, ["explore", "x.zarr", "--html", str(store)]))
    assert sorted(p.name for p in store.iterdir()) == ["zarr.json"], "nothing written into a store"


@pytest.mark.parametrize("out, message", [
    ("{tmp}", "is a folder"), ("{tmp}/report.json", "the file holds JSON"), ("/proc/x.png", "takes no new files"),
    ("{tmp}/missing/x.png", "does not exist"), ("{tmp}/x.txt", ".txt names text"),
])
def test_plot_refuses_an_output_path_before_drawing(tmp_path, out, message):
    (tmp_path / "report.json").write_text(REPORT_TEXT)
    line = one_line(runner.invoke(app, ["plot", "elpd", str(COMPARE), "--out", out.format(tmp=tmp_path)]))
    assert message in line
    assert (tmp_path / "report.json").read_text() == REPORT_TEXT


@pytest.mark.slow
def test_plot_on_a_read_only_file_system_is_one_line(tmp_path):
    probe = subprocess.run(["unshare", "--mount", "--map-root-user", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this system cannot mount a private tmpfs (unshare: {probe.stderr.decode().strip()})")
    mount = tmp_path / "mnt"
    mount.mkdir()
    code = "import sys\nfrom sigcube.cli import app\napp(sys.argv[1:])\n"
    proc = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c",
                           'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"', str(mount), sys.executable, "-c", code,
                           "plot", "lcdm-relations", "--out", str(mount / "x.png")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"error: cannot write {mount / 'x.png'}: read-only file system"


# --- the dataset cube a result was made from ---------------------------------------------------------------------


def _cube(names: list[str], digest: str) -> xr.Dataset:
    rng = np.random.default_rng(1)
    return xr.Dataset({"V_flat": ("galaxy", rng.uniform(50, 300, len(names)), {"units": "km / s",
                                                                                "long_name": "flat velocity"}),
                       "SB_disk": ("galaxy", rng.uniform(10, 1e4, len(names)), {"units": "solLum / pc2"})},
                      coords={"galaxy": names}, attrs={"sigcube_kind": "sparc", "content_sha256": digest})


def test_a_figure_of_a_report_refuses_another_cube_naming_both_hashes():
    record = json.loads(COMPARE.read_text(encoding="utf-8"))
    recorded = record["report"]["conventions"]["cube_content_sha256"]
    names = record["report"]["logo"]["nuisance"]["per_galaxy"]["galaxy"]
    other = "f" * 64
    with pytest.raises(CubeMismatchError) as caught:
        per_object_difference(record, _cube(names, other), "sigma", "mond")
    assert f"{other[:12]}…" in str(caught.value) and f"{recorded[:12]}…" in str(caught.value)
    plot = per_object_difference(record, _cube(names, recorded), "sigma", "mond")
    elpd = record["report"]["logo"]["nuisance"]["per_galaxy"]["elpd"]
    wins = sum(a > b for a, b in zip(elpd["sigma"], elpd["mond"]))
    assert f"{wins} of {len(names)} galaxies favour sigma" in plot.alt


def test_the_explorer_refuses_a_cube_its_sweep_did_not_read():
    from sigcube.interfaces.explore.page import sections

    result = xr.Dataset(attrs={"sigcube_kind": "sweep", "dataset": "sparc", "dataset_content_sha256": "a" * 64})
    with pytest.raises(CubeMismatchError, match=f"content sha256 {'b' * 12}…, the sweep's {'a' * 12}…"):
        sections(result, xr.Dataset(attrs={"content_sha256": "b" * 64}))


def test_a_result_without_a_recorded_hash_is_not_checked():
    assert check_source_cube(xr.Dataset(attrs={"content_sha256": "b" * 64}), "", "the report") is False
    assert check_source_cube(xr.Dataset(attrs={"content_sha256": "b" * 64}), "b" * 64, "the report") is True


# --- a figure's options ------------------------------------------------------------------------------------------


def test_set_reads_lists_numbers_and_choices_by_the_options_kind():
    from sigcube.interfaces.plots.galaxies import rotation_curves
    from sigcube.interfaces.plots.rar import rar
    from sigcube.interfaces.plots.halos import relations

    options = figure_options(rotation_curves, ("data",))
    assert given_options(["kernels=sigma,mond", "n=2"], options, "rotation-curves") == {
        "kernels": ("sigma", "mond"), "n": 2}
    assert given_options(["residuals=false", "max_points=5e4"], figure_options(rar, ("data",)), "rar") == {
        "residuals": False, "max_points": 50_000}
    assert given_options(["log10_m200=10,13"], figure_options(relations, ()), "lcdm-relations") == {
        "log10_m200": (10.0, 13.0)}
    for pair, message in (("n=2.5", "n is an integer"), ("n=abc", "n is an integer"),
                          ("kernels=sigma,,mond", "none empty"), ("colour=red", "KEY one of n, kernels, preset")):
        with pytest.raises(OptionError, match=message):
            given_options([pair], options, "rotation-curves")
    with pytest.raises(OptionError, match="two comma-separated numbers"):
        given_options(["log10_m200=10"], figure_options(relations, ()), "lcdm-relations")


def test_the_kernels_list_reaches_the_figure_whole(tmp_path):
    line = one_line(runner.invoke(app, ["plot", "rotation-curves", str(tmp_path / "missing.zarr"), "--set",
                                        "kernels=sigma,mond", "--out", str(tmp_path / "x.png")]))
    assert "unknown kernel" not in line and "missing.zarr" in line


@pytest.mark.parametrize("name", sorted(figures()))
def test_every_figure_lists_its_options_with_kinds_and_defaults(name):
    res = runner.invoke(app, ["plot", name, "--help"])
    assert res.exit_code == 0, res.output
    function = figures()[name].function
    params = list(inspect.signature(function).parameters.items())
    inputs = {params[0][0], "cube"} if figures()[name].source != "code" else set()
    for pname, p in params:
        if pname in inputs:
            continue
        line = next((x for x in res.output.splitlines() if x.strip().startswith(f"{pname} (")), None)
        assert line is not None, f"{pname} is not listed:\n{res.output}"
        words = next(o.help for o in figure_options(function, tuple(inputs)) if o.name == pname)
        assert words.count("(") == words.count(")"), f"{pname}'s help is cut short: {words!r}"
        if p.default is inspect.Parameter.empty:
            assert "required" in line
        elif isinstance(p.default, (int, float, str)) and p.default != "":
            assert f"default {p.default}" in line, line


def test_a_missing_option_is_one_line_naming_it(tmp_path):
    line = one_line(runner.invoke(app, ["plot", "per-galaxy-difference", str(COMPARE), "--out",
                                        str(tmp_path / "x.png")]))
    assert "--set model=… and --set against=…" in line and "per-galaxy-difference --help" in line
    record = json.loads(COMPARE.read_text(encoding="utf-8"))
    cube = _cube(record["report"]["logo"]["nuisance"]["per_galaxy"]["galaxy"],
                 record["report"]["conventions"]["cube_content_sha256"])
    with pytest.raises(SigcubeError, match="no model 'nope'; its models: nfw, mond, sigma"):
        per_object_difference(record, cube, "sigma", "nope")


def test_the_list_gives_each_figures_whole_summary():
    res = runner.invoke(app, ["plot", "--list"])
    assert res.exit_code == 0
    flat = " ".join(res.output.split())
    for name, kind in figures().items():
        first = " ".join((inspect.getdoc(kind.function) or "").split("\n\n")[0].split())
        words = re.sub(r":\w+:`(\w+)`", r"\1", first).replace("``", "")  # reST markup is not printed
        assert words in flat, name


# --- bad inputs --------------------------------------------------------------------------------------------------

BAD_JSON = {"empty": "", "blank": " \n", "cut": COMPARE.read_text(encoding="utf-8")[:5000], "null": "null",
            "number": "42", "text": '"x"', "list": "[]", "object": "{}", "record of null": '{"report": null, '
            '"commands": []}', "list of numbers": "[1, 2]", "logo a list": '{"logo": []}',
            "no models": '{"logo": {"nuisance": {"models": {}}}}', "models a list": '{"logo": {"a": {"models": []}}}',
            "not utf-8": b"\xff\xfe{\x00}"}
OTHER_REPORT = {"report": "kernels", "bench": "kernels"}
"""A committed report of another kind, given to each family of figures."""


def _inputs(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name, text in BAD_JSON.items():
        path = tmp_path / f"{name.replace(' ', '_')}.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        out[name] = str(path)
    (tmp_path / "plain_folder").mkdir()
    out["a folder"] = str(tmp_path / "plain_folder")
    out["a store"] = str(_store(tmp_path / "store.zarr"))
    out["missing"] = str(tmp_path / "missing.json")
    out["kernels report"] = str(RESULTS / "kernels.json")
    out["compare report"] = str(COMPARE)
    return out


@pytest.mark.parametrize("name", sorted(n for n, k in figures().items() if k.source != "code"))
def test_every_figure_refuses_bad_input_in_one_line(name, tmp_path):
    kind = figures()[name]
    options = ["--set", "model=sigma", "--set", "against=mond"] if name == "per-galaxy-difference" else []
    for what, path in _inputs(tmp_path).items():
        if (what == "compare report" and kind.reads.startswith("sigcube report compare")) or (
                what == "kernels report" and name == "kernel-ranking"):
            continue  # the right report
        res = runner.invoke(app, ["plot", name, path, *options, "--out", str(tmp_path / "x.png")])
        assert res.exit_code == 2, f"{name} of {what}: {res.output}"
        assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output, res.output
    assert not (tmp_path / "x.png").exists()


def test_a_figure_of_sigcubes_own_relations_takes_no_input(tmp_path):
    line = one_line(runner.invoke(app, ["plot", "lcdm-relations", str(COMPARE), "--out", str(tmp_path / "x.png")]))
    assert "reads no input" in line


def test_repeated_labels_are_refused(tmp_path):
    line = one_line(runner.invoke(app, ["plot", "sweep-intervals", str(RESULTS / "sweep-nuisance.json"),
                                        str(RESULTS / "sweep-nuisance.json"), "--out", str(tmp_path / "x.png")]))
    assert "labels repeat" in line
