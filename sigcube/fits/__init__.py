"""Per-object fits (`sigcube fit SPEC`): each object's own values of a kernel's parameters.

:mod:`~sigcube.fits.spec` reads and checks a fit spec, :mod:`~sigcube.fits.core` fits a chunk of objects
(coarse grid, then bounded least squares; nuisance parameters optionally profiled), :mod:`~sigcube.fits.run`
runs the chunks as Dask tasks and builds the per-object result cube, :mod:`~sigcube.fits.store` writes and opens
it (lease, checksums, seal).
"""

from sigcube.cubes.store import FIT_KIND
from sigcube.fits.run import executor, fit_cube, fit_points
from sigcube.fits.spec import FitSpec, FitSpecError, FreeParameter, load_spec, parse_spec
from sigcube.fits.store import claim, open_fit, write_result

__all__ = ["FIT_KIND", "FitSpec", "FitSpecError", "FreeParameter", "claim", "executor", "fit_cube", "fit_points",
           "load_spec", "open_fit", "parse_spec", "write_result"]
