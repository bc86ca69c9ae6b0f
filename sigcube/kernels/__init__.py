"""Registered kernels. ``get_kernel(name)`` returns one; ``kernel_names()`` lists them."""

from sigcube.kernels import baseline, sigma  # noqa: F401  (registration)
from sigcube.kernels.registry import Kernel, KernelError, Parameter, get_kernel, kernel_names, register

__all__ = ["Kernel", "KernelError", "Parameter", "get_kernel", "kernel_names", "register"]
