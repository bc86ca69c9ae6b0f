"""Best points on a grid's ends: cut off by the grid (warned), on a plateau or at the parameter's own bound (noted).

Each kind is checked against what a wider grid finds, an independent sweep: a point called cut off improves when the
axis is extended; a plateau or a bound does not."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.engines.sweep.result import PLATEAU, edge_lines, edge_notes, grid_edges

SPEC = """
name = "edges"
kernel = "sigma"
preset = "paper"
metrics = ["mean_rms", "rms"]
[grid.A0]
{a0}
[grid.k]
{k}
"""


def _sweep(tmp_path, name: str, a0: str, k: str, cube):
    out = tmp_path / f"{name}.zarr"
    run_sweep(parse_spec(SPEC.format(a0=a0, k=k)), out, cube=cube, synchronous=True)
    return open_result(out)


@pytest.fixture(scope="module")
def sweeps(sparc_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("edges")
    return {
        # A0 stops at 0.3, far below the SPARC optimum near 1: cut off; A0 starts at its bound 0
        "short": _sweep(folder, "short", "linspace = [0.0, 0.3, 4]", "values = [0.05, 0.16, 0.5]", sparc_store),
        "short_wider": _sweep(folder, "short_wider", "linspace = [0.0, 0.4, 5]", "values = [0.05, 0.16, 0.5]",
                              sparc_store),
        # k ≤ 1e-3: ξ = k·R_d sits at its 0.01 kpc floor for nearly every galaxy, W = 1: the metric levels off
        "flat": _sweep(folder, "flat", "linspace = [0.8, 1.2, 5]", "logspace = [0.0002, 0.001, 3]", sparc_store),
        "flat_wider": _sweep(folder, "flat_wider", "linspace = [0.8, 1.2, 5]", "logspace = [0.00004, 0.001, 4]",
                             sparc_store),
    }


def test_a_best_point_cut_off_by_the_grid_is_warned_and_a_wider_grid_improves_it(sweeps):
    edges = grid_edges(sweeps["short"], ["mean_rms"])
    assert edges["global"]["mean_rms"]["A0"] == {"side": "upper", "value": 0.3, "kind": "cut"}
    assert float(sweeps["short_wider"].mean_rms.min()) < float(sweeps["short"].mean_rms.min())
    assert any("best mean_rms at the upper end of A0 (0.3)" in line and "widen the axis" in line
               for line in edge_lines(edges))


def test_objects_at_the_parameters_own_bound_are_noted_not_warned(sweeps):
    edges = grid_edges(sweeps["short"], ["mean_rms"])
    lower = edges["per_object"]["A0"]["lower"]
    assert lower["value"] == 0.0 and lower["kinds"]["bound"] == lower["count"] > 0 and lower["kinds"]["cut"] == 0
    assert not any("lower end of A0" in line for line in edge_lines(edges))
    assert any("lower end of A0 (0)" in line and "own bound" in line for line in edge_notes(edges))


def test_a_plateau_is_noted_and_a_wider_grid_does_not_improve_it(sweeps):
    flat, wider = sweeps["flat"], sweeps["flat_wider"]
    edges = grid_edges(flat, ["mean_rms"])
    hit = edges["global"]["mean_rms"]["k"]
    assert hit["kind"] == "plateau"
    span = float(flat.mean_rms.max() - flat.mean_rms.min())
    assert float(flat.mean_rms.min()) - float(wider.mean_rms.min()) <= PLATEAU * span
    assert not any("end of k" in line for line in edge_lines(edges))
    assert any("end of k" in line and "levelled off" in line for line in edge_notes(edges))


def test_per_object_kinds_add_up_to_the_count(sweeps):
    for ds in sweeps.values():
        for sides in grid_edges(ds, [])["per_object"].values():
            for e in sides.values():
                assert sum(e["kinds"].values()) == e["count"] and len(e["cut_objects"]) <= e["kinds"]["cut"]


def test_objects_cut_off_improve_on_the_wider_grid(sweeps):
    """Every object called cut off at A0's upper end finds a lower rms when the axis goes one step further."""
    short, wider = sweeps["short"], sweeps["short_wider"]
    e = grid_edges(short, [])["per_object"]["A0"]["upper"]
    assert e["kinds"]["cut"] > 0
    names = e["cut_objects"]
    best_short = short.rms.sel(galaxy=names).min(["A0", "k"]).values
    best_wider = wider.rms.sel(galaxy=names).min(["A0", "k"]).values
    assert np.all(best_wider < best_short)
