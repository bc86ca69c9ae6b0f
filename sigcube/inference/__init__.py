"""Nuisance parameters and inference on grids: priors, input transforms, likelihood, adaptive quadrature.

:mod:`~sigcube.inference.priors` (prior families and their normal-deviate maps),
:mod:`~sigcube.inference.nuisance` (Li+2018 SPARC priors; how Υ, D, i change the kernel inputs and data),
:mod:`~sigcube.inference.likelihood` (Gaussian likelihood with an error floor σ_int),
:mod:`~sigcube.inference.quadrature` (marginalise / profile per (grid point, galaxy)),
:mod:`~sigcube.inference.synthetic` (synthetic galaxies with known truth).
"""
