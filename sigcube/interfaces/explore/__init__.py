"""Interactive views of dataset and result cubes (hvplot/holoviews/panel, bokeh backend), drawn by the plotting
layer (:mod:`sigcube.interfaces.plots`) with widgets and bounds for a standalone page.

    >>> import sigcube
    >>> from sigcube.interfaces.explore import rotation_curve_gallery, sweep_heatmap, save_explorer
    >>> cube = sigcube.open_cube("cubes/sparc.zarr")                       # doctest: +SKIP
    >>> res = sigcube.open_result("cubes/sigma-A0-k.zarr")                 # doctest: +SKIP
    >>> rotation_curve_gallery(cube, ["sigma", "mond"])                    # doctest: +SKIP
    >>> sweep_heatmap(res, "mean_rms", x="A0", y="k")                      # doctest: +SKIP
    >>> save_explorer(res, cube, "explorer.html")                          # doctest: +SKIP
"""

_LAZY = {
    "Limits": "explore.bounds", "Predictions": "plots.galaxies", "predictions": "plots.galaxies",
    "PopulationQuestion": "explore.page", "explorer": "explore.page", "save_explorer": "explore.page",
    "sections": "explore.page", "GLOBAL_METRICS": "plots.sweeps",
    "best_parameter_distributions": "explore.sweep_views", "sweep_heatmap": "explore.sweep_views",
    "sweep_slice": "explore.sweep_views", "rar": "explore.views", "rotation_curve": "explore.views",
    "rotation_curve_gallery": "explore.views", "posterior_curves": "explore.posterior_curves",
}
"""The views, by the module that draws them (under :mod:`sigcube.interfaces`): imported on first use (the plotting
libraries are heavy)."""

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"sigcube.interfaces.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
