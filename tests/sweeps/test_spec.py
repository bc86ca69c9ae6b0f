"""Sweep specs: validated against the kernel's declared parameters before anything runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigcube.constants import G_DAGGER
from sigcube.sweeps import SpecError, load_spec, parse_spec

BASE = 'name = "t"\nkernel = "sigma"\n'


@pytest.fixture(scope="module")
def specs(repo_root: Path) -> list[Path]:
    """The sweep specs shipped in ``sweeps/``."""
    return sorted((repo_root / "sweeps").glob("*.toml"))


def test_shipped_specs_are_valid(specs):
    for path in specs:
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


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("[grid.Amp]\nvalues = [1]", "no parameter 'Amp'; valid parameters: A0, k"),
        ("[grid.A0]\nvalues = [-1, 1]", "outside its bounds"),
        ("[grid.A0]\nlinspace = [1, 2]", r"linspace must be \[start, stop, num\]"),
        ("[grid.A0]\nvalues = [1]\nlinspace = [1, 2, 3]", "exactly one of"),
        ("[grid.g_dagger]\nvalues = [1]\nunit = \"km\"", "cannot be converted"),
        ("[grid.k]\nlogspace = [0, 1, 3]", "positive start and stop"),
        ("[grid.window]\nvalues = [\"cubic\"]", "one of linear, sqrt, power, c_local"),
        ("[grid.A0]\nvalues = [1, 1]", "repeated values"),
        ("[fixed]\nwindw = \"power\"\n[grid.A0]\nvalues = [1]", "no parameter 'windw'"),
        ("colour = 1\n[grid.A0]\nvalues = [1]", "unknown top-level keys"),
        ("[sample]\nminpoints = 3\n[grid.A0]\nvalues = [1]", r"\[sample\] keys"),
        ("[grid.window_exponent]\nvalues = [0.5, 1]", "window_exponent applies only with window='power'"),
    ],
)
def test_bad_specs_are_one_clear_error(body, match):
    with pytest.raises(SpecError, match=match):
        parse_spec(BASE + body)


def test_unknown_kernel_and_bad_toml():
    with pytest.raises(SpecError, match="unknown kernel 'sigmoid'"):
        parse_spec('name = "t"\nkernel = "sigmoid"\n[grid.A0]\nvalues = [1]')
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_spec("name = ")
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
    with pytest.raises(SpecError, match="metrics must be a non-empty list from mean_rms"):
        parse_spec(BASE + 'metrics = ["rmse"]\n[grid.A0]\nvalues = [1]')
