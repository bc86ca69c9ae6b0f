"""Sweep specs: validated against the kernel's declared parameters before anything runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.constants import G_DAGGER
from sigcube.engines.sweep import SpecError, load_spec, parse_spec
from sigcube.engines.sweep.schema import GridAxis
from sigcube.engines.sweep.spec import spaced

BASE = 'name = "t"\nkernel = "sigma"\n'


@pytest.fixture(scope="module")
def specs(repo_root: Path) -> list[Path]:
    """The sweep specs shipped in ``sweeps/``."""
    return sorted((repo_root / "sweeps").glob("*.toml"))


def test_shipped_specs_are_valid(specs):
    from sigcube.engines.joint import is_joint_spec, load_joint_spec

    for path in specs:
        if is_joint_spec(path):
            joint = load_joint_spec(path)
            assert len(joint.probes) >= 2 and joint.text, path.name
            continue
        spec = load_spec(path)
        assert spec.size >= 1 and spec.text, path.name


def test_shipped_specs_cover_the_seed_studies(specs):
    names = {p.stem for p in specs}
    assert {"sigma_A0_k", "sigma_gdagger_A0", "sigma_window_exponent", "sigma_c_local_scan", "sigma_rd_source_k",
            "sigma_dynamical_k", "sigma_bulge_amplitude_A0_window", "sigma_c_local_bulge_amplitude"} <= names


def test_shipped_specs_sweep_the_coherence_kernels_of_note_000(specs):
    """Ψ0 over decades × γ × K_max (mass coherence) and F_max × Ψ0 × δ (velocity coherence), the note's fit on the grid."""
    folder = specs[0].parent
    mass = load_spec(folder / "mass_coherence_psi0_gamma.toml")
    velocity = load_spec(folder / "velocity_coherence_fmax_psi0_delta.toml")
    assert [a.name for a in mass.axes] == ["Psi0", "gamma", "K_max"]
    assert [a.name for a in velocity.axes] == ["F_max", "Psi0", "delta"]
    for spec in (mass, velocity):
        psi0 = next(a for a in spec.axes if a.name == "Psi0").values
        assert np.log10(psi0.max() / psi0.min()) >= 6  # log-spaced over at least six decades
        for axis in spec.axes:
            assert np.any(np.isclose(axis.values, spec.kernel.parameter(axis.name).default, rtol=1e-12))
        assert spec.cuts.quality == (1, 2)
    assert load_spec(folder / "sigma_A0_k.toml").size >= 10_000


def test_grid_spacings_and_units():
    spec = parse_spec(BASE + """
[grid.A0]
linspace = [1.0, 2.0, 3]
[grid.g_dagger]
logspace = [0.5, 2.0, 3]
unit = "1e-10 m / s2"
include_default = true
[grid.window]
values = ["power", "c_local"]
""")
    a, g, w = spec.axes
    np.testing.assert_allclose(a.values, [1.0, 1.5, 2.0])
    assert g.unit == "m / s2" and len(g) == 4 and G_DAGGER in g.values
    np.testing.assert_allclose(sorted(set(g.values) - {G_DAGGER}), [0.5e-10, 1e-10, 2e-10])
    assert w.categorical and list(w.values) == ["power", "c_local"]
    assert spec.shape == (3, 4, 2)


GRID = "[grid.A0]\nvalues = [1]\n"

# (spec body after BASE, the message after "spec: "): every malformed spec is one SpecError naming its key.
# The cases marked "old: …" were accepted by the spec reader before the schema (a silent wrong result) or
# ended in a traceback; each is a case of issue 11.
MALFORMED = [
    ("[grid.Amp]\nvalues = [1]", "[grid.Amp]: kernel 'sigma' has no parameter 'Amp'; valid parameters: A0, k"),
    ("[grid.A0]\nvalues = [-1, 1]", "[grid.A0].values: kernel 'sigma': parameter 'A0' = -1 is outside its bounds [0, "),
    ("[grid.A0]\nlinspace = [1, 2]", "[grid.A0].linspace: must be [start, stop, num] (got [1, 2])"),
    ("[grid.A0]\nvalues = [1]\nlinspace = [1, 2, 3]", "[grid.A0]: needs exactly one of linspace, logspace, values"),
    ('[grid.g_dagger]\nvalues = [1]\nunit = "km"', "[grid.g_dagger].unit: 'km' cannot be converted to 'm / s2'"),
    ('[grid.g_dagger]\nvalues = [1]\nunit = "furlongs"', "[grid.g_dagger].unit: 'furlongs' is not a unit"),
    ("[grid.k]\nlogspace = [0, 1, 3]", "[grid.k].logspace: start and stop must be > 0"),
    ('[grid.window]\nvalues = ["cubic"]', "[grid.window].values: kernel 'sigma': parameter 'window' must be one of "
                                           "linear, sqrt, power, c_local; got 'cubic'"),
    ("[grid.window]\nlinspace = [1, 2, 3]", "[grid.window]: window is a switch: give values = ['linear'"),
    ("[grid.A0]\nvalues = [1, 1]", "[grid.A0].values: repeats 1.0"),
    ("[grid.A0]\nlinspace = [1, 1, 3]", "[grid.A0].linspace: start = stop gives 3 equal values"),
    ('[grid.A0]\nvalues = ["a"]', "[grid.A0].values: A0 takes numbers, not switch values"),
    ('[grid.A0]\nvalues = [1, "a"]', "[grid.A0].values: must be a list of numbers, or of switch values"),
    ("[grid.A0]\nvalues = [nan]", "[grid.A0].values: must be finite numbers (got [nan])"),
    ("[grid.A0]\nlinspace = [1, 2, 2.5]", "[grid.A0].linspace.num: must be a whole number (got 2.5)"),
    ('[grid.A0]\nlinspace = ["1", 2, 3]', '[grid.A0].linspace.start: must be a number (got "1")'),
    ('[fixed]\nwindw = "power"\n' + GRID, "fixed.windw: kernel 'sigma' has no parameter 'windw'"),
    ("colour = 1\n" + GRID, "colour: unknown key; valid keys: name, description, dataset"),
    ("[sample]\nminpoints = 3\n" + GRID, "sample.minpoints: unknown key; valid keys: min_points, quality"),
    ("[grid.A0]\nvalues = [1]\nspacing = 2", "[grid.A0].spacing: unknown key; valid keys: linspace, logspace"),
    ("[grid.window_exponent]\nvalues = [0.5, 1]", "kernel 'sigma': window_exponent applies only with window='power'"),
    ('[grid.window]\nvalues = ["linear", "power"]\n[grid.window_exponent]\nvalues = [1, 0.5]',
     "kernel 'sigma': window_exponent applies only with window='power' (window='linear'"),  # old: failed mid-sweep
    ('metrics = ["rmse"]\n' + GRID, "metrics: unknown metric 'rmse'; metrics: mean_rms"),
    ('metrics = "rms"\n' + GRID, 'metrics: must be a list (got "rms")'),
    ("[fixed]\nk = [0.1, 0.2]\n[grid.A0]\nvalues = [1, 2]",  # old: paired with A0 element by element
     "fixed.k: must be one number or one switch value, not a list"),
    ("fixed = 3\n" + GRID, "[fixed]: must be a table (got 3)"),  # old: TypeError
    ("sample = 1\n" + GRID, "[sample]: must be a table (got 1)"),  # old: TypeError
    ('preset = ["paper"]\n' + GRID, 'preset: must be a string (got ["paper"])'),  # old: TypeError
    ('[grid.A0]\nvalues = [1]\nunit = ["m"]', '[grid.A0].unit: must be a string (got ["m"])'),  # old: TypeError
    ("[grid.A0]\nvalues = [1]\nunit = {a = 1}", "[grid.A0].unit: must be a string (got {a = 1})"),  # old: TypeError
    ("[grid.A0]\nlinspace = [1, 2, inf]", "[grid.A0].linspace.num: must be a whole number (got inf)"),  # old: OverflowError
    ("[grid.A0]\nlinspace = [1, 2, 1e13]", "[grid.A0].linspace.num: must be ≤ 1e+08"),  # old: MemoryError (73 TiB)
    ("[grid.A0]\nlinspace = [1, 2, 1e5]\n[grid.k]\nlinspace = [0.1, 1, 1e5]",
     "[grid]: A0 (100,000) × k (100,000) = 1e+10 grid points; sigcube sweeps at most 1e+08"),
    ('[grid.window]\nvalues = ["power", "power"]\n' + GRID, '[grid.window].values: repeats "power"'),  # old: ran twice
    ("[grid.window]\nvalues = []\n" + GRID, "[grid.window].values: must be a non-empty list"),  # old: IndexError
    ('[grid.window]\nvalues = ["power"]\ninclude_default = true\n' + GRID,  # old: silently ignored
     "[grid.window].include_default: window is a switch; list its default 'linear' in values instead"),
    ('[grid.window]\nvalues = ["power"]\nunit = "m"\n' + GRID, "[grid.window].unit: window is a switch and takes no unit"),
    ("cube = 3\n" + GRID, "cube: must be a string (got 3)"),  # old: accepted, failed later
    ('[grid.window]\nvalues = ["power", "linear"]',  # old: a traceback that left an unfinished store
     "[grid]: every axis is a switch (window); a sweep needs at least one numeric parameter; to compare switch "
     "values alone, add one numeric axis, e.g. [grid.A0] values = [1.1725"),
    ('[grid."[/x]"]\nvalues = [1]', "[grid.\"[/x]\"]: kernel 'sigma' has no parameter '[/x]'"),
    ('[fixed]\nk = "1.5"\n' + GRID, "fixed.k: kernel 'sigma': parameter 'k' must be a number"),  # old: read as 1.5
    ("[fixed]\nk = true\n" + GRID, "fixed.k: must be one finite number or one switch value"),  # old: read as 1.0
    ("[fixed]\nA0 = 2\n" + GRID, "fixed.A0: A0 is also swept in [grid.A0]; give it in one place"),  # old: ignored
    ("block_size = true\n" + GRID, "block_size: must be a whole number (got true)"),  # old: read as 1
    ('[grid.A0]\nvalues = [1]\ninclude_default = "no"', '[grid.A0].include_default: must be true or false'),  # old: true
    ('description = ["x"]\n' + GRID, 'description: must be a string (got ["x"])'),  # old: stored as "['x']"
    ("[sample]\nquality = [4]\n" + GRID, "sample.quality[0]: must be ≤ 3 (got 4)"),
    ("[sample]\nmin_points = \"5\"\n" + GRID, 'sample.min_points: must be a whole number (got "5")'),
    ("[sample]\nmin_inclination = 50\nmax_inclination = 40\n" + GRID, "[sample]: min_inclination = 50 is above"),
    ('dataset = "galaxies"\n' + GRID, "dataset: unknown dataset 'galaxies'; datasets: clusters, clusters:lensing, milkyway"),
    ('baseline = "mondd"\n' + GRID, "baseline: unknown kernel 'mondd'; registered kernels:"),
    ('preset = "c-local"\nbaseline = 1\n' + GRID, "baseline: must be a string (got 1)"),
    ("grid = {}", "[grid]: must not be empty (got {})"),
    ("grid.A0 = 3", "[grid.A0]: must be a table (got 3)"),
    ("[nuisance]\nmodes = 1\n" + GRID,  # old: listed the top-level keys
     "nuisance.modes: unknown key; valid keys: mode, nodes, parameters, priors, sigma_int"),
    ('dataset = "clusters"\n[nuisance]\n' + GRID,  # old: KeyError 'galaxy' once the sweep ran
     "[nuisance]: nuisance parameters (Υ, D, i) exist only for datasets of rotation curves (sparc, rotation_curves), "
     "not for 'clusters'"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED, ids=[m.split(":")[0] + "|" + b[:25] for b, m in MALFORMED])
def test_every_malformed_spec_is_one_error_naming_its_key(body, message):
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE + body)
    assert str(caught.value).startswith(f"spec: {message}"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ('name = "t"\nkernel = ["sigma"]\n' + GRID, 'kernel: must be a string (got ["sigma"])'),  # old: TypeError
    ('name = "[bold]"\nkernel = "sigma"\n' + GRID, 'name: must match ^\\w[\\w.+-]*$ (got "[bold]")'),
    ('name = "../../x"\nkernel = "sigma"\n' + GRID, "name: must match"),  # the name names cubes/<name>.zarr
    ('kernel = "sigma"\n' + GRID, "name: is required"),
    ('name = 3\nkernel = 4\n' + GRID, "name: must be a string (got 3); kernel: must be a string (got 4)"),
    ('name = "t"\nkernel = "mond"\npreset = "paper"\n[grid.a0]\nvalues = [1e-10]',
     "preset: preset 'paper' sets 'sigma' parameters; this spec's kernel is 'mond'"),
])
def test_top_level_keys_are_named_too(text, message):
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert str(caught.value).startswith(f"spec: {message}"), str(caught.value)


def test_a_list_in_fixed_is_refused_not_paired_with_a_grid_axis():
    """Before the schema, ``k = [0.1, 0.2]`` next to a two-value A0 axis was paired element by element and the
    cube labelled a plain A0 sweep."""
    with pytest.raises(SpecError, match=r"fixed\.k: must be one number or one switch value, not a list"):
        parse_spec(BASE + "[fixed]\nk = [0.1, 0.2]\n[grid.A0]\nvalues = [1, 2]")
    spec = parse_spec(BASE + "[fixed]\nk = 0.1\n[grid.A0]\nvalues = [1, 2]")
    assert spec.fixed["k"] == 0.1 and spec.shape == (2,)


def test_grid_size_is_checked_before_any_array(monkeypatch):
    """A 10¹³-point axis is refused from its num alone: nothing is allocated."""
    import sigcube.engines.sweep.spec as spec_module

    def refuse(*args, **kwargs):
        raise AssertionError("an array was allocated")

    monkeypatch.setattr(spec_module.np, "linspace", refuse)
    with pytest.raises(SpecError, match=r"\[grid.A0\].linspace.num: must be ≤ 1e\+08"):
        parse_spec(BASE + "[grid.A0]\nlinspace = [1, 2, 1e13]")
    with pytest.raises(SpecError, match=r"\[grid\]: A0 \(10,000\) × k \(100,001\) = 1e\+09 grid points"):
        parse_spec(BASE + "[grid.A0]\nlinspace = [1, 2, 1e4]\n[grid.k]\nlinspace = [0.1, 1, 1e5]\ninclude_default = true")


def test_a_non_utf8_spec_file_is_one_clear_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "t"\nkernel = "sigma"\ndescription = "caf\xe9"\n' + GRID.encode())  # Latin-1 é
    with pytest.raises(SpecError, match=r"latin1.toml: not UTF-8 text \(byte 0xe9 at offset 46\)"):
        load_spec(path)


def test_unknown_kernel_and_bad_toml():
    with pytest.raises(SpecError, match="unknown kernel 'sigmoid'"):
        parse_spec('name = "t"\nkernel = "sigmoid"\n[grid.A0]\nvalues = [1]')
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_spec("name = ")
    with pytest.raises(SpecError, match="nested too deeply"):
        parse_spec("a = " + "[" * 5000 + "]" * 5000)
    with pytest.raises(SpecError, match="cannot read"):
        load_spec("/nonexistent/spec.toml")


def test_preset_fixes_parameters_and_a_swept_one_overrides_it():
    spec = parse_spec(BASE + 'preset = "c-local"\n[grid.sigma_c]\nvalues = [15, 20]')
    assert spec.fixed["window"] == "c_local" and "sigma_c" not in spec.fixed


def test_fingerprint_tracks_what_changes_results():
    a = parse_spec(BASE + "[grid.A0]\nvalues = [1, 2]")
    b = parse_spec("# a comment\n" + BASE + "[grid.A0]\nvalues = [1.0, 2.0]")
    c = parse_spec(BASE + "[grid.A0]\nvalues = [1, 3]")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_metrics_choose_what_is_stored():
    spec = parse_spec(BASE + 'metrics = ["rms", "win_rate"]\n[grid.A0]\nvalues = [1]')
    assert spec.metrics == ("win_rate", "rms")
    with pytest.raises(SpecError, match="metrics: repeats 'rms'"):
        parse_spec(BASE + 'metrics = ["rms", "rms"]\n[grid.A0]\nvalues = [1]')


@settings(max_examples=200, deadline=None)
@given(start=st.floats(1e-12, 1e12), ratio=st.floats(1.0 + 1e-9, 1e6), num=st.integers(1, 400))
def test_a_logspace_axis_is_numpys_geomspace_but_for_the_last_bit(start, ratio, num):
    """Geometric grids take their powers from the C library (the same on every CPU): numpy's geomspace to its
    rounding (10**u carries u's last-bit error times ln 10·|u|), both ends exact, increasing."""
    stop = start * ratio
    values = spaced(GridAxis(logspace=[start, stop, num]))
    assert len(values) == num and values[0] == start and (num == 1 or values[-1] == stop)
    np.testing.assert_allclose(values, np.geomspace(start, stop, num), rtol=1e-13)
    assert np.all(np.diff(values) > 0)
