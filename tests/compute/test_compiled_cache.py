"""The compiled pair solver's numbers do not depend on what numba's cache held when it was compiled (the log-normal
model's: within :data:`~sigcube.compute.quadrature_compiled.CACHE_TOLERANCE`).

numba links a function it loads from its cache into a caller compiled later as object code, where a function compiled
in the same process is inlined; with the solver's fast-math sums the two round differently. A process that had once
called one of the solver's helpers on its own (and cached it) then made every later process that compiled the solver
give other last bits — enough to move a fit along a flat direction by 2e-4. Three fresh processes here: one with an
empty cache, one whose cache an earlier process filled by calling the helpers on their own, and one that loads the
solver the first left in the cache. (A process that calls the helpers on their own before it compiles the solver
still builds another solver: :data:`sigcube_docs.records.FIT_TOLERANCE` allows for it.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HELPERS = """
import numpy as np
from sigcube.compute import quadrature_compiled as QC
n = 12
x = np.linspace(50.0, 120.0, n); r = np.empty(n); z = np.zeros(4)
tab = np.stack([np.linspace(0.5, 1.5, QC.TABLE_SIZE), np.ones(QC.TABLE_SIZE)], -1).copy()
QC._state(x, z, 2, True, tab, x, 1 / x, x * x, 0, n, 0.0, 0.0, 0.0, -1.0, r, False, r)
QC._state_log(x, z, 2, True, tab, x, x, 0, n, 1.0, 0.0, -1.0, r, r)
QC._inclination(x, 0.1, 1.0, tab, x, 1 / x, x * x, 0, n, 1.0, 0.0, 0.0, -1.0, 0.0, np.zeros(3), np.zeros(3), np.empty(3), r,
                False, r)
QC._log_moments(x, x, x, 0, n, 1.0, 0.0, -1.0, r)
"""

EVIDENCE = """
import sys
import warnings
import numpy as np
from sigcube.compute import quadrature as Q
from sigcube.model.kernels import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NuisanceTransform, sparc_priors
from sigcube.stats.synthetic import synthetic_sample
kernel = get_kernel("sigma")
s = synthetic_sample(kernel, {}, 6, seed=3, sigma_int=6.0, bulge_fraction=0.5)
transform = NuisanceTransform(s.points, s.catalogue, kernel.required_inputs(kernel.resolve({})))
warnings.simplefilter("ignore")
likelihood = GaussianLikelihood(float(sys.argv[2]), sys.argv[1], tau_gal=float(sys.argv[3])) if len(sys.argv) > 1 else None
m = Q.marginalise(kernel, {"A0": np.array([[1.0], [1.4]])}, transform, sparc_priors(s.catalogue), likelihood, nodes=5)
print(m.log_marginal.tobytes().hex() + m.mode.z.tobytes().hex())
"""


def _python(code: str, cache: Path, *args: str) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_solver_gives_the_same_bits_whatever_the_cache_held(tmp_path):
    fresh = _python(EVIDENCE, tmp_path / "fresh")
    _python(HELPERS, tmp_path / "helpers-first")
    after_helpers = _python(EVIDENCE, tmp_path / "helpers-first")
    from_cache = _python(EVIDENCE, tmp_path / "fresh")
    assert after_helpers == fresh
    assert from_cache == fresh


def test_a_first_compilation_says_nothing_of_numbas_experimental_features(tmp_path):
    """The solver takes the kernel as a first-class function; compiling it with an empty cache warns of nothing a user
    would see."""
    code = EVIDENCE.replace('warnings.simplefilter("ignore")\n', "")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "NumbaExperimentalFeatureWarning" not in done.stderr, done.stderr[-3000:]


@pytest.mark.parametrize("model", [("velocity_floor", "6", "0"), ("velocity_floor", "6", "0.3"),
                                   ("lognormal", "0.05", "0"), ("lognormal", "0.05", "0.3")])
def test_a_fresh_cache_moves_the_numbers_by_at_most_the_stated_tolerance(tmp_path, model):
    """The first process after the cache is emptied against the next, which loads it: the Gaussian models' bits are the
    same, the log-normal model's marginal likelihoods within CACHE_TOLERANCE (and its modes to 1e-6 in z)."""
    import numpy as np

    from sigcube.compute.quadrature_compiled import CACHE_TOLERANCE

    first = _python(EVIDENCE, tmp_path / "cache", *model)
    second = _python(EVIDENCE, tmp_path / "cache", *model)
    if model[0] != "lognormal":
        assert first == second
        return
    a, b = (np.frombuffer(bytes.fromhex(x), dtype=float) for x in (first, second))
    n = 12  # 2 grid points × 6 galaxies of ln Z, then their modes' z
    np.testing.assert_allclose(a[:n], b[:n], rtol=CACHE_TOLERANCE)
    np.testing.assert_allclose(a[n:], b[n:], atol=1e-6, equal_nan=True)
