"""Registered kernels. ``get_kernel(name)`` returns one; ``kernel_names()`` lists them.

One module per family: ``baseline`` (Newtonian, MOND ×3), ``sigma`` (canonical Σ and its
switches), ``sigma_variants`` (the seeds' Σ variants), ``survival``, ``empirical``
(Burr-XII), ``coherence`` (roughness, mass and velocity coherence), ``pairing``,
``resonance``, ``cmsi`` and ``halo`` (NFW). ``common`` holds what several families share.
"""

from sigcube.kernels import (  # noqa: F401  (registration)
    baseline,
    cmsi,
    coherence,
    empirical,
    halo,
    pairing,
    resonance,
    sigma,
    sigma_variants,
    survival,
)
from sigcube.kernels.registry import Kernel, KernelError, Parameter, get_kernel, kernel_names, register

__all__ = ["Kernel", "KernelError", "Parameter", "get_kernel", "kernel_names", "register"]
