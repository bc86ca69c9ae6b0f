"""Nuisance parameters and inference on grids: priors, input transforms, likelihood, adaptive quadrature.

:mod:`~sigcube.stats.priors` (prior families and their normal-deviate maps),
:mod:`~sigcube.stats.nuisance` (Li+2018 SPARC priors; how Υ, D, i change the kernel inputs and data),
:mod:`~sigcube.stats.likelihood` (Gaussian likelihood with an error floor σ_int),
:mod:`~sigcube.compute.quadrature` (marginalise / profile per (grid point, galaxy)),
:mod:`~sigcube.stats.synthetic` (synthetic galaxies with known truth),
:mod:`~sigcube.stats.population` (is a swept parameter universal? θ_g ~ N(μ, τ²) on per-galaxy grid likelihoods),
:mod:`~sigcube.stats.logo` (exact leave-one-galaxy-out predictive comparison),
:mod:`~sigcube.stats.export` (grid posteriors as ArviZ InferenceData groups in an xarray.DataTree),
:mod:`~sigcube.stats.tension` (tension between probes sharing parameters: evidence ratio, suspiciousness, shift).
"""
