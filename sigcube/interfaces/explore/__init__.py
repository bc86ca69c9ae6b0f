"""Interactive views of dataset and result cubes (hvplot/holoviews/panel, bokeh backend).

    >>> import sigcube
    >>> from sigcube.interfaces.explore import rotation_curve_gallery, sweep_heatmap, save_explorer
    >>> cube = sigcube.open_cube("cubes/sparc.zarr")                       # doctest: +SKIP
    >>> res = sigcube.open_result("cubes/sigma-A0-k.zarr")                 # doctest: +SKIP
    >>> rotation_curve_gallery(cube, ["sigma", "mond"])                    # doctest: +SKIP
    >>> sweep_heatmap(res, "mean_rms", x="A0", y="k")                      # doctest: +SKIP
    >>> save_explorer(res, cube, "explorer.html")                          # doctest: +SKIP
"""

from sigcube.interfaces.explore.bounds import Limits
from sigcube.interfaces.explore.data import Predictions, predictions
from sigcube.interfaces.explore.page import explorer, save_explorer, sections
from sigcube.interfaces.explore.sweep_views import METRICS, best_parameter_distributions, sweep_heatmap, sweep_slice
from sigcube.interfaces.explore.views import rar, rotation_curve, rotation_curve_gallery

__all__ = ["METRICS", "Limits", "Predictions", "best_parameter_distributions", "explorer", "predictions", "rar",
           "rotation_curve", "rotation_curve_gallery", "save_explorer", "sections", "sweep_heatmap", "sweep_slice"]
