"""sigcube: labelled data cubes and Dask parameter sweeps for Σ-Gravity and rival kernels.

    >>> import sigcube
    >>> cube = sigcube.open("cubes/sparc.zarr")              # doctest: +SKIP
    >>> cube.sigcube.score("sigma").mean_rms                  # doctest: +SKIP
    >>> result = sigcube.open("cubes/sigma-A0-k.zarr")       # doctest: +SKIP
    >>> result.sigcube.best("mean_rms")                       # doctest: +SKIP

``sigcube.open`` opens any sigcube store (dataset cube, sweep or fit result) with its chunks checked; the ``.sigcube``
accessor of ``xarray.Dataset`` predicts and scores kernels on any dataset whose variables fit a kind of cube, and
reads a sweep's best parameters and posterior; ``xr.open_dataset(path, engine="sigcube")`` opens a store through
xarray. Importing sigcube stays light: these are imported on first use, and the accessor is registered as soon as
xarray is imported (now, if it already is).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

from sigcube.version import __version__

_LAZY = {
    "open": ("sigcube.interfaces.open", "open_store"),
    "open_cube": ("sigcube.io.cubes", "open_cube"),
    "open_result": ("sigcube.engines.sweep.result", "open_result"),
    "open_fit": ("sigcube.engines.fit.store", "open_fit"),
    "predict": ("sigcube.engines.evaluate", "predict"),
    "score": ("sigcube.engines.evaluate", "score"),
    "halo_masses": ("sigcube.study.reports.compare", "halo_masses"),
    "get_kernel": ("sigcube.model.kernels", "get_kernel"),
    "kernel_names": ("sigcube.model.kernels", "kernel_names"),
    "kernel": ("sigcube.model.kernels", "kernel"),
    "Parameter": ("sigcube.model.kernels", "Parameter"),
}

__all__ = ["__version__", *_LAZY]

ACCESSOR = "sigcube.interfaces.accessor"
"""The module that registers the ``.sigcube`` accessor when it is imported."""


def __getattr__(name: str) -> Any:
    """Import the public functions on first use, so `import sigcube` stays light."""
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'sigcube' has no attribute {name!r}")


class _AfterXarray(importlib.abc.MetaPathFinder):
    """Registers the accessor right after xarray's own import finishes (and then removes itself)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "xarray":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            importlib.import_module(ACCESSOR)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if "xarray" in sys.modules:
    importlib.import_module(ACCESSOR)
else:
    sys.meta_path.insert(0, _AfterXarray())
