"""sigcube as an xarray backend: ``xr.open_dataset(path, engine="sigcube")`` opens any sigcube store through
:func:`sigcube.interfaces.open.open_store` — its seal, manifest and chunks checked — and so refuses a damaged one.

Registered under the ``xarray.backends`` entry-point group. xarray loads every backend to list its engines, so this
module imports only xarray's base class; sigcube itself is imported when a store is opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from xarray.backends import BackendEntrypoint


class SigcubeBackend(BackendEntrypoint):
    """``xr.open_dataset(path_or_url, engine="sigcube", verify="auto", allow_incomplete=False)``."""

    description = "sigcube stores (dataset cubes, sweep and fit results), every chunk checked against its manifest"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "verify", "allow_incomplete")

    def open_dataset(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                     verify: str = "auto", allow_incomplete: bool = False) -> Any:
        from sigcube.interfaces.open import open_store

        # no Dask here: xarray wraps what a backend returns and chunks it as its own ``chunks=`` says
        ds = open_store(filename_or_obj, verify=verify, allow_incomplete=allow_incomplete,  # type: ignore[arg-type]
                        chunks=None)
        return ds.drop_vars(drop_variables) if drop_variables is not None else ds

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """Whether ``filename_or_obj`` is a local folder whose root ``zarr.json`` records a ``sigcube_kind``."""
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        try:
            with open(os.path.join(os.fspath(filename_or_obj), "zarr.json"), encoding="utf-8") as f:
                return "sigcube_kind" in json.load(f).get("attributes", {})
        except (OSError, ValueError, AttributeError):
            return False
