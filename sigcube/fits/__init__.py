"""Per-object fits (`sigcube fit SPEC`): each object's own values of a kernel's parameters.

:mod:`~sigcube.fits.spec` reads and checks a fit spec, :mod:`~sigcube.fits.core` fits a chunk of objects
(coarse grid, then bounded least squares; nuisance parameters optionally profiled), :mod:`~sigcube.fits.run`
runs the chunks as Dask tasks and builds the per-object result cube.
"""

from sigcube.fits.run import FIT_KIND, executor, fit_cube, fit_points, write_result
from sigcube.fits.spec import FitSpec, FitSpecError, FreeParameter, load_spec, parse_spec

__all__ = ["FIT_KIND", "FitSpec", "FitSpecError", "FreeParameter", "executor", "fit_cube", "fit_points",
           "load_spec", "parse_spec", "write_result"]
