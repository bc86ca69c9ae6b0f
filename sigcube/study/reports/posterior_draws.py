"""Each galaxy's posterior draws from the importance-sampling engine, kept with a comparison's rows and exported as
ArviZ trees (``report compare --draws FOLDER``).

The sampler (:mod:`sigcube.engines.sampler`) resamples :data:`~sigcube.engines.sampler.POSTERIOR_DRAWS` draws of
every galaxy's parameters — the model's own and Υ_disk, Υ_bul, D, i or the velocity scale u — from its weighted
importance draws at the best setting of the likelihood's free parameters (σ_int, τ_gal, a floor). A model's row keeps
them (``_draws``, float32) in its checkpoint, so a finished run's draws are written again without recomputing;
:func:`draws_tree` makes one model's ArviZ tree of them (:func:`sigcube.stats.export.draws_to_datatree`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sigcube.engines.checkpoint import Checkpoint
from sigcube.errors import SigcubeError
from sigcube.model.kernels import get_kernel
from sigcube.stats import export

KEY = "_draws"
"""The key of a row's draws (dropped from the printed report, kept in its checkpoint)."""
NUISANCE_UNITS = {"upsilon_disk": "solMass / solLum", "upsilon_bul": "solMass / solLum", "distance": "Mpc",
                  "inclination": "deg", "velocity_scale": ""}
"""The units of a galaxy's nuisance parameters' draws (the velocity scale u is a ratio)."""
CHAINS = 4
"""Chains of an exported tree: consecutive blocks of each galaxy's independent draws."""


class DrawsError(SigcubeError):
    """Posterior draws that cannot be exported (no model on the sampler, a kept run without them)."""


def draws_data(draws: Sequence[Mapping[str, np.ndarray]], galaxies: Sequence[str],
               point: Mapping[str, float]) -> dict[str, Any]:
    """A row's ``_draws``: each parameter's draws as a (galaxy, draw) float32 array — NaN for a galaxy without that
    parameter — with the galaxies' names and the likelihood's setting they were drawn at."""
    names = list(dict.fromkeys(k for d in draws for k in d))
    n = max(len(v) for d in draws for v in d.values())
    values = {}
    for name in names:
        a = np.full((len(galaxies), n), np.nan, dtype=np.float32)
        for g, d in enumerate(draws):
            if name in d:
                a[g] = d[name]
        values[name] = a
    return {"galaxy": [str(g) for g in galaxies], "point": {k: float(v) for k, v in point.items()}, "values": values}


def draws_tree(model: str, kernel: str, kept: Mapping[str, Any], likelihood: str, prior: str) -> xr.DataTree:
    """The ArviZ tree of one model's kept draws (:func:`draws_data`), how they were made said in its attributes."""
    units = {p.name: p.unit for p in get_kernel(kernel).parameters}
    setting = ", ".join(f"{k} = {v:.4g}" for k, v in kept["point"].items()) or "the likelihood has no free parameter"
    attrs = {"inference_library": "sigcube (importance sampling per galaxy)", "model": model,
             "sampling": ("each galaxy's draws resampled (with replacement, so some repeat) from its importance-"
                          f"weighted draws at the best setting of the likelihood's free parameters ({setting}); "
                          "independent between galaxies"),
             "likelihood": likelihood, "prior": prior}
    return export.draws_to_datatree(kept["values"], kept["galaxy"], chains=CHAINS,
                                    units={**NUISANCE_UNITS, **units}, attrs=attrs)


def kept_trees(checkpoint: Checkpoint, models: Mapping[str, str], likelihood: str,
               priors: Mapping[str, str]) -> dict[str, xr.DataTree]:
    """Each model's tree from the rows a comparison's ``checkpoint`` keeps: ``models`` maps each model on the sampler
    to its kernel; ``priors`` each model's prior in words. A row without draws is refused (made before they were
    kept: ``--fresh`` remakes it)."""
    out = {}
    for model, kernel in models.items():
        found = checkpoint.child("nuisance", model).read("row")
        if found is None or KEY not in found[0]:
            raise DrawsError(f"--draws: the run kept at {checkpoint.folder} holds no posterior draws of {model}: "
                             "add --fresh to compute them again")
        out[model] = draws_tree(model, kernel, found[0][KEY], likelihood, priors.get(model, ""))
    return out
