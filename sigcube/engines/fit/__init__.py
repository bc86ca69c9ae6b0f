"""Per-object fits (`sigcube fit SPEC`): each object's own values of a kernel's parameters.

:mod:`~sigcube.engines.fit.spec` reads and checks a fit spec, :mod:`~sigcube.engines.fit.core` fits a chunk of objects
(coarse grid, then bounded least squares; nuisance parameters optionally profiled), :mod:`~sigcube.engines.fit.run`
runs the chunks as Dask tasks and builds the per-object result cube, :mod:`~sigcube.engines.fit.store` writes and opens
it (lease, checksums, seal).
"""

from sigcube.engines.fit.run import executor, fit_cube, fit_points
from sigcube.engines.fit.spec import FitSpec, FitSpecError, FreeParameter, load_spec, parse_spec
from sigcube.engines.fit.store import claim, open_fit, write_result
from sigcube.io.cubes import FIT_KIND

__all__ = ["FIT_KIND", "FitSpec", "FitSpecError", "FreeParameter", "claim", "executor", "fit_cube", "fit_points",
           "load_spec", "open_fit", "parse_spec", "write_result"]
