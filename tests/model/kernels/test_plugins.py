"""Kernels from other packages: the ``sigcube.kernels`` entry-point group, in fresh interpreters.

Each test puts a tiny plugin (a module and a ``*.dist-info`` with ``entry_points.txt``) in a temporary
folder and runs Python with it on ``PYTHONPATH``, as a pip-installed package would be seen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sigcube.engines.sweep import open_result
from sigcube.model import metrics

TINY = '''
import numpy as np
import sigcube
from sigcube.model.kernels import Parameter


@sigcube.kernel(
    summary="A test plugin: V = V_bar·√(1 + K·r/(r + r_k)).",
    source="tests/test_plugins.py",
    formula="V = V_bar·√(1 + K·r/(r + r_k))",
    inputs=("r", "v_bar"),
    parameters=(Parameter("K", 0.5, "", (0.0, 10.0)), Parameter("r_k", 2.0, "kpc", (0.01, 100.0))),
    amplitude="K",
)
def tiny_boost(points, *, K, r_k):
    return points["v_bar"] * np.sqrt(1.0 + K * (points["r"] / (points["r"] + r_k)))


NOT_A_KERNEL = 3
'''

MISMATCHED = '''
import sigcube
from sigcube.model.kernels import Parameter


@sigcube.kernel(summary="s", source="t", formula="f", inputs=("v_bar",), parameters=(Parameter("K", 1.0, "", (0, 2)),))
def mismatched(points, *, k):
    return points["v_bar"]
'''

SPEC = '''
name = "tiny"
kernel = "tiny_boost"
[grid.K]
values = [0.0, 0.5, 2.0]
[grid.r_k]
values = [1.0, 4.0]
'''


def _site(tmp_path: Path, entry_points: dict[str, str], modules: dict[str, str]) -> dict[str, str]:
    """A folder holding ``modules`` and a dist-info declaring ``entry_points``; the environment that sees it."""
    site = tmp_path / "site"
    site.mkdir()
    for name, text in modules.items():
        (site / f"{name}.py").write_text(text)
    dist = site / "tiny_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[sigcube.kernels]\n" + "".join(f"{name} = {value}\n" for name, value in entry_points.items()))
    return {**os.environ, "PYTHONPATH": str(site)}


def _python(code: str, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_plugin_kernel_is_listed_and_sweeps_from_a_toml_spec(tmp_path, sparc_store, sparc_points):
    env = _site(tmp_path, {"tiny": "tiny_plugin"}, {"tiny_plugin": TINY})
    out = tmp_path / "tiny.zarr"
    got = _python(f"""
        import json
        from sigcube.model.kernels import get_kernel, kernel_names
        from sigcube.engines.sweep import parse_spec, run_sweep
        names = kernel_names()
        run_sweep(parse_spec({SPEC!r}), {str(out)!r}, cube={str(sparc_store)!r}, synchronous=True)
        print(json.dumps({{"names": names, "described": get_kernel("tiny_boost").describe()}}))
    """, env)
    assert "tiny_boost" in got["names"] and "sigma" in got["names"]
    assert [p["name"] for p in got["described"]["parameters"]] == ["K", "r_k"]
    ds = open_result(out)
    p = sparc_points.inputs
    for K in (0.0, 0.5, 2.0):
        for r_k in (1.0, 4.0):
            v = p["v_bar"] * np.sqrt(1.0 + K * p["r"] / (p["r"] + r_k))  # the plugin's formula, by hand
            hand = metrics.compute(v, p["v_obs"], p["e_v_obs"], sparc_points.offsets)
            point = ds.sel(K=K, r_k=r_k)
            assert float(point.mean_rms) == pytest.approx(hand["mean_rms"], rel=1e-12)
            assert float(point.rar_scatter_velocity) == pytest.approx(hand["rar_scatter_velocity"], rel=1e-10)
    cli = subprocess.run([str(Path(sys.executable).with_name("sigcube")), "kernels", "tiny_boost", "--json"], env=env,
                         capture_output=True, text=True, check=True)
    assert json.loads(cli.stdout)["formula"] == "V = V_bar·√(1 + K·r/(r + r_k))"


def test_broken_plugins_are_named_and_leave_the_built_in_kernels_working(tmp_path):
    entry_points = {"tiny": "tiny_plugin", "missing": "no_such_module_for_sigcube", "notkernel": "tiny_plugin:NOT_A_KERNEL",
                    "mismatch": "mismatched_plugin"}
    env = _site(tmp_path, entry_points, {"tiny_plugin": TINY, "mismatched_plugin": MISMATCHED})
    got = _python("""
        import json, warnings
        from sigcube.model.kernels import KernelError, get_kernel, kernel_names
        sigma = get_kernel("sigma").name  # a built-in name needs no plugin
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            names = kernel_names()
            names_again = kernel_names()  # loaded once: no second round of warnings
        try:
            get_kernel("no_such_kernel")
        except KernelError as exc:
            unknown = str(exc)
        print(json.dumps({"sigma": sigma, "names": names, "again": names_again, "unknown": unknown,
                          "warnings": [str(w.message) for w in caught]}))
    """, env)
    assert got["sigma"] == "sigma" and {"sigma", "mond", "tiny_boost"} <= set(got["names"]) == set(got["again"])
    assert "mismatched" not in got["names"]
    warned = {w.split("'")[1]: w for w in got["warnings"]}
    assert set(warned) == {"missing", "notkernel", "mismatch"}
    assert "ModuleNotFoundError" in warned["missing"] and "no_such_module_for_sigcube" in warned["missing"]
    assert "names a int, not a Kernel or a module" in warned["notkernel"]
    assert "declared but not in the function: K; in the function but not declared: k" in warned["mismatch"]
    assert "unknown kernel 'no_such_kernel'" in got["unknown"] and "'missing'" in got["unknown"]
