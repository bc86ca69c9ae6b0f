"""Special functions of halo profiles as compiled ufuncs, usable by kernels on every path.

Each function here is a numba ``@vectorize`` ufunc (:mod:`sigcube.model.special_compiled`, imported — and numba with
it — on the first call, so that listing the kernels stays light): numpy calls it on arrays (broadcasting, ``out=``),
the tracers of :mod:`sigcube.compute.tracer` and :mod:`sigcube.compute.replay` record it like any numpy ufunc, and the
compiled nuisance transform (:mod:`sigcube.compute.nuisance_codegen`) calls it on scalars inside numba code. So a
kernel that needs an incomplete gamma or beta function keeps the compiled fast path.

- :data:`gammainc_lower` — the regularised lower incomplete gamma function P(a, x) (the Einasto enclosed mass);
- :data:`zhao_mass` — ∫₀ʸ u^(2−γ)·(1 + u^α)^(−(β−γ)/α) du, the enclosed mass of an (α, β, γ) double-power-law
  density (Zhao 1996, MNRAS 278, 488; the DC14 profile) in units of 4π·ρ_s·r_s³, for any β (also β ≤ 3, where the
  total mass diverges but every finite radius encloses a finite mass);
- :data:`dc14_mass` — that mass for the DC14 halo's shape at X = log10(M★/M_halo), and :data:`einasto_mass` — the
  Einasto mass P(3/α, (2/α)·y^α) — read from tables of those series (:mod:`sigcube.model.mass_tables`);
- :data:`cusp_mass`, :data:`burkert_mass` and :data:`core_mass` — the NFW, Burkert and pseudo-isothermal enclosed
  masses, whose closed forms cancel to nothing at small radii (∝ y², y³, y³ there): their power series below a y
  where the closed form has lost at most a few units of the last digit (the replay of sweeps runs
  :mod:`sigcube.compute.vecmath`'s vectorising loop of ``cusp_mass``);
- :data:`double_power_inverse` — the inverse of a double power law in log space, x ↦ x + log 2N −
  log10(10^(−β(x − log M1)) + 10^(γ(x − log M1))): Moster et al.'s stellar-to-halo mass relation
  (:mod:`sigcube.model.lcdm`);
- :data:`behroozi_inverse` — the inverse of Behroozi et al.'s stellar-to-halo mass relation (the same module).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

class CompiledUfunc:
    """A ufunc of ``module`` (by default :mod:`sigcube.model.special_compiled`), compiled (or loaded from numba's cache)
    on its first call."""

    def __init__(self, name: str, module: str = "sigcube.model.special_compiled") -> None:
        self.name = name
        self.module = module

    @functools.cached_property
    def ufunc(self) -> Any:
        """The numba ufunc itself (what the tracers record and the compiled code calls)."""
        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.ufunc(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<compiled ufunc {self.name} of sigcube.model.special>"


gammainc_lower = CompiledUfunc("gammainc_lower")
zhao_mass = CompiledUfunc("zhao_mass")
dc14_mass = CompiledUfunc("dc14_mass", "sigcube.model.mass_tables")
einasto_mass = CompiledUfunc("einasto_mass", "sigcube.model.mass_tables")
cusp_mass = CompiledUfunc("cusp_mass")
burkert_mass = CompiledUfunc("burkert_mass")
core_mass = CompiledUfunc("core_mass")
double_power_inverse = CompiledUfunc("double_power_inverse")
behroozi_inverse = CompiledUfunc("behroozi_inverse")
