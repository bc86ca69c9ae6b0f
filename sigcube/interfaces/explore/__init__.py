"""Interactive views of dataset and result cubes (hvplot/holoviews/panel, bokeh backend).

    >>> import sigcube
    >>> from sigcube.interfaces.explore import rotation_curve_gallery, sweep_heatmap, save_explorer
    >>> cube = sigcube.open_cube("cubes/sparc.zarr")                       # doctest: +SKIP
    >>> res = sigcube.open_result("cubes/sigma-A0-k.zarr")                 # doctest: +SKIP
    >>> rotation_curve_gallery(cube, ["sigma", "mond"])                    # doctest: +SKIP
    >>> sweep_heatmap(res, "mean_rms", x="A0", y="k")                      # doctest: +SKIP
    >>> save_explorer(res, cube, "explorer.html")                          # doctest: +SKIP
"""

_LAZY = {
    "Limits": "bounds", "Predictions": "data", "predictions": "data", "explorer": "page", "save_explorer": "page",
    "sections": "page", "GLOBAL_METRICS": "sweep_views", "best_parameter_distributions": "sweep_views",
    "sweep_heatmap": "sweep_views", "sweep_slice": "sweep_views", "rar": "views", "rotation_curve": "views",
    "rotation_curve_gallery": "views",
}
"""The views, by the module that draws them: imported on first use (the plotting libraries are heavy)."""

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
