"""Parameter sweeps: spec (TOML) → grid blocks → Dask → reductions → result cube (Zarr)."""

from sigcube.engines.sweep.engine import SweepSummary, run_sweep
from sigcube.engines.sweep.result import best_parameters, best_per_galaxy, open_result
from sigcube.engines.sweep.spec import SpecError, SweepSpec, load_spec, parse_spec

# SpecError is re-exported for ``from sigcube.engines.sweep import SpecError``; it is documented in sigcube.errors
__all__ = ["SweepSpec", "SweepSummary", "best_parameters", "best_per_galaxy", "load_spec",
           "open_result", "parse_spec", "run_sweep"]
