"""Numbers at the command line: every float option of every command refuses NaN and ±inf in one line; numbers inside
text options too; τ_gal outside what its integral takes is refused at the option and at the spec keys; the JSON
sigcube prints is strict (an undefined number is null, never a bare NaN token)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.cli import app, command_tree
from sigcube.cli.common import emit
from sigcube.interfaces.report_json import report_json

runner = CliRunner()


def _strict(text: str):
    """JSON parsed as a strict parser does: NaN, Infinity and -Infinity are errors."""
    def refuse(token: str):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


def _one_line(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in line, line
    return line


def _leaves(group):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from ((f"{name} {sub}", leaf) for sub, leaf in _leaves(command))
        else:
            yield name, command


def _float_options():
    """(command words, option, the arguments it requires) of every float option of every command."""
    found = []
    for words, command in _leaves(command_tree()):
        required = []
        for param in command.params:
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            if param.param_type_name == "argument" and param.required:
                required.append("1" if annotation is int else "x")
        for param in command.params:
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            if param.param_type_name == "option" and annotation is float:
                found.append((words.split(), param.opts[0], required))
    return found


FLOAT_OPTIONS = _float_options()


def test_the_commands_have_float_options_to_check():
    options = {option for _, option, _ in FLOAT_OPTIONS}
    assert len(FLOAT_OPTIONS) >= 8 and {"--observed", "--min-inclination", "--nu", "--tau-scale"} <= options


@pytest.mark.parametrize("token", ["nan", "inf", "-inf", "1e999"])
@pytest.mark.parametrize("words, option, required", FLOAT_OPTIONS,
                         ids=[f"{' '.join(w)} {o}" for w, o, _ in FLOAT_OPTIONS])
def test_every_float_option_of_every_command_refuses_a_non_finite_number(words, option, required, token, tmp_path,
                                                                       monkeypatch):
    """Refused before the command does anything (no cube is read or ingested: the folder stays empty)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    result = runner.invoke(app, [*words, *required, option, token])
    _one_line(result, f"error: {option} must be a finite number, not ")
    assert not any(tmp_path.iterdir())


def test_the_issues_observed_nan_is_refused():
    _one_line(runner.invoke(app, ["report", "calibrate", "sigma", "--observed", "nan"]),
              "error: --observed must be a finite number, not nan")


@pytest.mark.parametrize("args, says", [
    (["synth", "3", "--out", "x.zarr", "--param", "A0=nan"], "--param A0 must be a finite number, not nan"),
    (["synth", "3", "--out", "x.zarr", "--param", "k=-inf"], "--param k must be a finite number, not -inf"),
    (["report", "compare", "sigma", "--sigma-int", "nan"], "--sigma-int must be finite"),
    (["report", "compare", "sigma", "--sigma-int", "0:inf:3"], "--sigma-int"),
    (["report", "compare", "sigma", "--sigma-int", "5", "--tau-gal", "nan"], "--tau-gal must be finite"),
])
def test_numbers_inside_text_options_are_finite_too(args, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    _one_line(runner.invoke(app, args), says)
    assert not any(tmp_path.iterdir())


# --- τ_gal within what the integral over the galaxy's scale takes ------------------------------------------------

@pytest.mark.parametrize("value, says", [
    ("1e300", "τ_gal = 1e+300 ln V is above 30: the galaxy's velocity scale is tabulated out to e^(±18·τ_gal), which "
              "overflows float64 above τ_gal ≈ 39"),
    ("0:100:3", "τ_gal = 50 ln V is above 30"),
    ("1e-5", "τ_gal = 1e-05 ln V is below 0.001"),
    ("0:0.0005:2", "τ_gal = 0.0005 ln V is below 0.001"),
])
def test_the_issues_huge_tau_gal_is_refused_at_the_option(value, says, tmp_path, monkeypatch):
    """The issue's `--tau-gal 1e300` was a ZeroDivisionError in the scale's table: refused first, with the reason."""
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    for args, option in ((["report", "compare", "sigma", "mond", "--sigma-int", "5", "--tau-gal", value], "--tau-gal"),
                         (["report", "compare", "sigma", "mond", "--error-model", f"velocity_floor+tau_gal={value}"],
                          "--error-model velocity_floor+tau_gal="),
                         (["report", "calibrate", "sigma", "--tau-gal", value], "--tau-gal")):
        _one_line(runner.invoke(app, args), f"error: {option}{' ' if option == '--tau-gal' else ''}{value}: {says}")
    assert not (tmp_path / "cubes").exists()


@pytest.mark.parametrize("tables, key", [
    ("[nuisance]\ntau_gal = 1e300\n", "nuisance.tau_gal: τ_gal = 1e+300 ln V is above 30"),
    ("[nuisance]\ntau_gal = 0.00001\n", "nuisance.tau_gal: τ_gal = 1e-05 ln V is below 0.001"),
    ("[grid.tau_gal]\nvalues = [0, 0.1, 45]\n[nuisance]\n", "[grid.tau_gal].values: τ_gal = 45 ln V is above 30"),
    ("[grid.tau_gal]\nlinspace = [0, 0.0005, 3]\n[nuisance]\n", "[grid.tau_gal].linspace: τ_gal = 0.00025 ln V is below"),
])
def test_tau_gal_out_of_range_is_refused_at_its_spec_key(tables, key, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "t"\nkernel = "mond"\n[grid.a0]\nvalues = [1.2e-10]\n' + tables)
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out.zarr")])
    _one_line(result, f"error: {spec}: {key}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_synth_refuses_a_tau_gal_its_analysis_could_not_take(tmp_path):
    result = runner.invoke(app, ["synth", "--baryons", str(tmp_path / "c.zarr"), "--out", str(tmp_path / "o.zarr"),
                                 "--tau-gal", "1e300"])
    _one_line(result, "--tau-gal 1e+300: τ_gal = 1e+300 ln V is above 30")


# --- strict JSON ----------------------------------------------------------------------------------------------

def test_json_output_writes_an_undefined_number_as_null(capsys):
    payload = {"sd": math.nan, "bound": -math.inf, "x": np.float32(1.5), "n": np.int64(3), "ok": np.bool_(True),
               "arr": np.array([1.0, np.nan, np.inf]), "nested": [{"r": (math.inf, 2)}], np.int64(7): "key"}
    emit(payload, True, lambda *_: None)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert _strict(out) == {"sd": None, "bound": None, "x": 1.5, "n": 3, "ok": True, "arr": [1.0, None, None],
                            "nested": [{"r": [None, 2]}], "7": "key"}


def test_report_json_never_holds_a_non_finite_token():
    """Whatever floats a payload holds, the text parses strictly and keeps every finite one exactly."""
    rng = np.random.default_rng(66)
    values = rng.choice([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, 5e-324, 1.0 / 3.0], size=200).tolist()
    parsed = _strict(report_json({"v": values, "a": np.array(values).reshape(20, 10)}, indent=1))
    assert parsed["v"] == [v if math.isfinite(v) else None for v in values]
    assert sum(parsed["a"], []) == parsed["v"]
