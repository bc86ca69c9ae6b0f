"""sigcube: labelled data cubes and Dask parameter sweeps for Σ-Gravity and rival kernels.

    >>> import sigcube
    >>> ds = sigcube.open_cube("cubes/sparc.zarr")           # doctest: +SKIP
    >>> sigcube.score(ds, "sigma").mean_rms                   # doctest: +SKIP
    >>> res = sigcube.open_result("cubes/sigma-A0-k.zarr")    # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sigcube")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {
    "open_cube": "sigcube.cubes.store",
    "open_result": "sigcube.sweeps.result",
    "predict": "sigcube.api",
    "score": "sigcube.api",
    "get_kernel": "sigcube.kernels",
    "kernel_names": "sigcube.kernels",
    "kernel": "sigcube.kernels",
    "Parameter": "sigcube.kernels",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    """Import the public functions on first use, so `import sigcube` stays light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sigcube' has no attribute {name!r}")
