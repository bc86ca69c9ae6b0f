"""Registered kernels. ``get_kernel(name)`` returns one; ``kernel_names()`` lists them (with the
plugins of the ``sigcube.kernels`` entry-point group); ``@kernel(...)`` registers a new one.

One module per family: ``baseline`` (Newtonian, MOND ×3), ``sigma`` (canonical Σ and its
switches), ``sigma_variants`` (the seeds' Σ variants), ``survival``, ``empirical``
(Burr-XII), ``coherence`` (roughness, mass and velocity coherence), ``pairing``,
``resonance``, ``cmsi``, ``halo`` (NFW, Einasto, Burkert, pseudo-isothermal, DC14) and ``halo_lcdm`` (those haloes
under ΛCDM priors). ``common`` holds what several families share.
"""

from sigcube.model.kernels import (  # noqa: F401  (registration)
    baseline,
    cmsi,
    coherence,
    empirical,
    halo,
    halo_lcdm,
    pairing,
    resonance,
    sigma,
    sigma_variants,
    survival,
)
from sigcube.model.kernels.registry import (
    ENTRY_POINT_GROUP, FastReduce, Kernel, KernelError, Parameter, get_kernel, kernel, kernel_names, load_plugins,
    register,
)

__all__ = ["ENTRY_POINT_GROUP", "FastReduce", "Kernel", "KernelError", "Parameter", "get_kernel", "kernel",
           "kernel_names", "load_plugins", "register"]
