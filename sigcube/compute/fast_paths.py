"""Each kernel's fast path in sweeps: the one it declares (``@kernel(fast_reduce=…)``, e.g. a plugin's), else the
hand-written loop this layer holds for it — the canonical Σ kernel along k (:mod:`sigcube.compute.sigma_loop`), the
resonance kernel along α (:mod:`sigcube.compute.resonance_series`). Each loop is property-tested against its
kernel's numpy formula, which stays the one definition of the kernel."""

from __future__ import annotations

from sigcube.compute import resonance_series, sigma_loop
from sigcube.model.kernels.registry import FastReduce, Kernel
from sigcube.model.kernels.resonance import resonance
from sigcube.model.kernels.sigma import sigma

BUILT_IN: dict[str, FastReduce] = {sigma.name: sigma_loop.FAST_REDUCE, resonance.name: resonance_series.FAST_REDUCE}
"""The fast paths of built-in kernels, by kernel name."""


def fast_reduce_of(kernel: Kernel) -> FastReduce | None:
    """The fast path of ``kernel`` in sweeps, or None (the generic traced path then takes every block)."""
    return kernel.fast_reduce if kernel.fast_reduce is not None else BUILT_IN.get(kernel.name)
