"""The posterior of a nuisance sweep (a result cube with ``loglike``): 1-D marginals and 2-D maps.

Each 1-D panel shows the marginal mass per grid point with its 68 % and 95 % credible intervals shaded and the
mean marked; each 2-D panel the joint marginal of two axes (mass per grid cell). The global prior, the
nuisance priors and the likelihood are those the sweep stored (:func:`sigcube.engines.sweep.nuisance.sweep_posterior`).
"""

from __future__ import annotations

import itertools

import holoviews as hv
import xarray as xr

from sigcube.engines.sweep.nuisance import sweep_posterior
from sigcube.interfaces.explore.labels import NORM, dim_of, log_axes

MASS = hv.Dimension("mass", label="posterior mass per grid point")


def posterior_views(ds: xr.Dataset, max_pairs: int = 3) -> hv.Layout:
    """1-D marginals of every grid axis and 2-D marginals of up to ``max_pairs`` axis pairs."""
    post = sweep_posterior(ds)
    logs = log_axes(ds)
    panels = []
    for name in post.axes:
        m = post.marginal(name)
        d = dim_of(ds, name)
        lo95, hi95 = m.interval(0.95)
        lo68, hi68 = m.interval(0.68)
        title = f"{name}: {m.mean:.4g} (68 %: {lo68:.4g}–{hi68:.4g})" + ("  ⚠ mass on the grid edge" if m.on_edge else "")
        panels.append(hv.Overlay([
            hv.VSpan(lo95, hi95).opts(color="#1f77b4", alpha=0.12),
            hv.VSpan(lo68, hi68).opts(color="#1f77b4", alpha=0.25),
            hv.Curve((m.values, m.mass), d, MASS).opts(color="#1f77b4", line_width=2, interpolation="steps-mid"),
            hv.VLine(m.mean).opts(color="black", line_dash="dashed"),
        ]).opts(title=title, width=460, height=300, logx=name in logs, show_grid=True, **NORM))
    for x, y in list(itertools.combinations(post.axes, 2))[:max_pairs]:
        mass = post.marginal2d(x, y)
        panels.append(hv.QuadMesh((post.axes[x], post.axes[y], mass.T), [dim_of(ds, x), dim_of(ds, y)], [MASS])
                      .opts(cmap="Blues", colorbar=True, tools=["hover"], logx=x in logs, logy=y in logs,
                            title=f"posterior over {x} × {y}", width=460, height=340, **NORM))
    return hv.Layout(panels).cols(2)


def posterior_note(ds: xr.Dataset) -> str:
    """One line: what the posterior is conditioned on and its global prior."""
    post = sweep_posterior(ds)
    group = ds["loglike"].dims[-1]
    mode = ds["loglike"].attrs.get("nuisance_mode", "")
    return (f"Σ over {ds.sizes[group]} objects of each one's log-likelihood with its nuisance parameters {mode}d "
            f"(its priors: `sigcube report sweep`); global prior: {post.prior}")
