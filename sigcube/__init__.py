"""sigcube: labelled data cubes and Dask parameter sweeps for Σ-Gravity and rival kernels.

    >>> import sigcube
    >>> ds = sigcube.open_cube("cubes/sparc.zarr")           # doctest: +SKIP
    >>> sigcube.score(ds, "sigma").mean_rms                   # doctest: +SKIP
    >>> res = sigcube.open_result("cubes/sigma-A0-k.zarr")    # doctest: +SKIP
"""

from __future__ import annotations

from sigcube.version import __version__

_LAZY = {
    "open_cube": "sigcube.io.cubes",
    "open_result": "sigcube.engines.sweep.result",
    "predict": "sigcube.engines.evaluate",
    "score": "sigcube.engines.evaluate",
    "get_kernel": "sigcube.model.kernels",
    "kernel_names": "sigcube.model.kernels",
    "kernel": "sigcube.model.kernels",
    "Parameter": "sigcube.model.kernels",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    """Import the public functions on first use, so `import sigcube` stays light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sigcube' has no attribute {name!r}")
