"""The ``.sigcube`` accessor of ``xarray.Dataset``: a kernel's predictions and scores on any dataset whose variables
fit a sweepable kind of cube, and the best parameters and posterior of a sweep's result.

    >>> cube = sigcube.open("cubes/sparc.zarr")               # doctest: +SKIP
    >>> cube.sigcube.score("sigma").mean_rms                    # doctest: +SKIP
    >>> result = sigcube.open("cubes/sigma-A0-k.zarr")         # doctest: +SKIP
    >>> result.sigcube.best("mean_rms")                         # doctest: +SKIP

A dataset is a cube of a kind when its variables fit that kind's schema — the variables its packer needs, with the
schema's dims and units astropy converts to the schema's (:func:`sigcube.io.datasets.conform`) — whatever its
attributes say: a dataset built by hand with ``r``, ``v_obs``, ``e_v_obs``, ``v_gas``, ``v_disk``, ``v_bul`` over
``(galaxy, radius)`` and an ``inclination`` per galaxy is a cube of rotation curves.

The accessor is registered when this module is imported — by ``import sigcube`` as soon as xarray is (see
:mod:`sigcube`) — so it imports nothing of sigcube's until a method runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import xarray as xr

if TYPE_CHECKING:
    from sigcube.conventions import SampleCuts
    from sigcube.model.points import PointSet
    from sigcube.stats.population import Population, TauPrior
    from sigcube.stats.posterior import GridPosterior

_BASELINE: Any = object()
"""Stands for :data:`sigcube.model.kernels.baseline.BASELINE`, the default of :meth:`SigcubeAccessor.score`."""


@xr.register_dataset_accessor("sigcube")
class SigcubeAccessor:
    """sigcube's methods on an ``xr.Dataset`` (``ds.sigcube.<method>``)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    @property
    def kind(self) -> str:
        """What the dataset is: a sweep result (``sweep``), a fit result (``fit``), a joint sweep's result (``joint``),
        or the kind of dataset cube its variables fit (a SigcubeError says why it fits none)."""
        from sigcube.io.cubes import FIT_KIND, JOINT_KIND, RESULT_KIND

        if self._is_result():
            return RESULT_KIND
        if self._ds.attrs.get("sigcube_kind") == FIT_KIND and "converged" in self._ds:
            return FIT_KIND
        if self._ds.attrs.get("sigcube_kind") == JOINT_KIND and "posterior_joint" in self._ds:
            return JOINT_KIND
        return str(self._cube().attrs["sigcube_kind"])

    def points(self, cuts: SampleCuts | dict[str, Any] | None = None) -> PointSet:
        """The dataset's objects packed into points, through the sample ``cuts`` (default: its kind's)."""
        from sigcube.conventions import SampleCuts
        from sigcube.io.datasets import pack

        return pack(self._cube(), SampleCuts.of(cuts))

    def predict(self, kernel: str, *, cuts: SampleCuts | dict[str, Any] | None = None, **params: Any) -> xr.DataArray:
        """V_pred [km/s] of ``kernel`` at ``params``: :func:`sigcube.engines.evaluate.predict`."""
        from sigcube.engines.evaluate import predict

        return predict(self._cube(), kernel, cuts=cuts, **params)

    def score(self, kernel: str, baseline: str | None = _BASELINE, *,
              cuts: SampleCuts | dict[str, Any] | None = None, **params: Any) -> xr.Dataset:
        """Every metric of ``kernel`` at ``params``: :func:`sigcube.engines.evaluate.score` (``baseline``: the kernel
        ``win_rate`` is against, default :data:`~sigcube.model.kernels.baseline.BASELINE`; None: no win rate)."""
        from sigcube.engines.evaluate import score
        from sigcube.model.kernels.baseline import BASELINE

        return score(self._cube(), kernel, BASELINE if baseline is _BASELINE else baseline, cuts=cuts, **params)

    def best(self, metric: str = "mean_rms", maximize: bool | None = None) -> dict[str, Any]:
        """The grid point of a sweep result that optimises a global ``metric``, and the metric there."""
        from sigcube.engines.sweep.result import best_parameters

        return best_parameters(self._result(), metric, maximize)

    def best_per_object(self, metric: str = "rms") -> xr.Dataset:
        """For each object of a sweep result, the parameters that minimise a per-object ``metric``."""
        from sigcube.engines.sweep.result import best_per_galaxy

        return best_per_galaxy(self._result(), metric)

    def posterior(self) -> GridPosterior:
        """The normalised posterior over a nuisance sweep's grid (its stated global prior), with its marginals."""
        from sigcube.engines.sweep.nuisance import sweep_posterior

        return sweep_posterior(self._result())

    def population(self, param: str, *, scale: str = "linear", others: str = "marginalise",
                   tau_prior: TauPrior | None = None, **kwargs: Any) -> Population:
        """Is ``param`` universal? The hierarchical model θ_g ~ N(μ, τ²) (or log10 θ_g with ``scale="log"``) on a
        nuisance sweep's per-object ``loglike``, the other grid axes marginalised (``others="marginalise"``) or at
        the best grid point (``"best"``): :func:`sigcube.interfaces.population_report.population_of` (further
        keywords: ``mu_range``, ``prior_zero``, ``n_mu``, ``n_tau``). Its warnings are in ``.notes``."""
        from sigcube.interfaces.population_report import population_of

        return population_of(self._result(), param, scale=scale, others=others, tau_prior=tau_prior, **kwargs)[0]

    def to_datatree(self, population: str | None = None, **kwargs: Any) -> xr.DataTree:
        """The ArviZ-conformant DataTree of a nuisance sweep's grid posterior, or with ``population`` of that
        parameter's population posterior (:mod:`sigcube.interfaces.arviz_export`; keywords: ``chains``, ``draws``,
        ``seed``, and ``jitter`` or ``scale``/``others``/``tau_prior``)."""
        from sigcube.interfaces.arviz_export import population_tree, sweep_tree
        from sigcube.io.cubes import FIT_KIND

        ds = self._ds if self._ds.attrs.get("sigcube_kind") == FIT_KIND else self._result()  # a fit: refused, saying why
        return sweep_tree(ds, **kwargs) if population is None else population_tree(ds, population, **kwargs)

    def _is_result(self) -> bool:
        return {"done", "baseline_rms"} <= set(self._ds.variables)

    def _result(self) -> xr.Dataset:
        from sigcube.errors import SigcubeError

        if not self._is_result():
            raise SigcubeError("this dataset is not a sweep's result cube (it has no done and baseline_rms); open "
                               "one with sigcube.open(PATH)")
        return self._ds

    def _cube(self) -> xr.Dataset:
        from sigcube.errors import SigcubeError
        from sigcube.io.datasets import conform

        if self._is_result():
            raise SigcubeError("this dataset is a sweep's result cube; predict and score take a dataset cube")
        return conform(self._ds)
