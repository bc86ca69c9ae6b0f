"""The posterior of a nuisance sweep (a result cube with ``loglike``) or of a joint sweep: 1-D marginals and 68/95 %
credible contours (:func:`sigcube.interfaces.plots.posteriors.corner`).

The global prior, the nuisance priors and the likelihood are those the sweep stored
(:func:`sigcube.engines.sweep.nuisance.sweep_posterior`); a joint sweep overlays each dataset's own posterior and the
joint one.
"""

from __future__ import annotations

import holoviews as hv
import xarray as xr

from sigcube.engines.sweep.nuisance import sweep_posterior
from sigcube.interfaces.plots.data import joint_grids, sweep_grid
from sigcube.interfaces.plots.posteriors import corner


def posterior_views(ds: xr.Dataset, max_pairs: int = 3) -> hv.Layout:
    """1-D marginals of every grid axis and 68/95 % credible contours of up to ``max_pairs`` axis pairs."""
    return corner(sweep_grid(ds), max_pairs=max_pairs).view


def joint_posterior_views(ds: xr.Dataset, max_pairs: int = 3) -> hv.Layout:
    """Each dataset's posterior and the joint one, overlaid: marginals and credible contours."""
    return corner(joint_grids(ds), max_pairs=max_pairs).view


def posterior_note(ds: xr.Dataset) -> str:
    """One line: what the posterior is conditioned on and its global prior."""
    post = sweep_posterior(ds)
    group = ds["loglike"].dims[-1]
    mode = ds["loglike"].attrs.get("nuisance_mode", "")
    return (f"Σ over {ds.sizes[group]} objects of each one's log-likelihood with its nuisance parameters {mode}d "
            f"(its priors: `sigcube report sweep`); global prior: {post.prior}; contours: the highest-mass regions "
            "holding 68 % (solid) and 95 % (dashed) of the grid's mass")
