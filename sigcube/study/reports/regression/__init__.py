"""`sigcube report regression`: the paper's regression tests, run on the data sigcube has.

Each test is a function returning a :class:`Result`: the SI §4a test it belongs to (``si4a``, 1-16, or
None for an extra row), the computed figures, the published figures they correspond to — each read from
:mod:`sigcube.study.published` and shown with the seed section that prints it — a status and the conventions
used. Statuses:

- ``computed``: evaluated on real data (or published masses) — not always the paper's data; ``note``
  says when not;
- ``prediction-only``: a model value with no data to test it, labelled "prediction, no data";
- ``data unavailable``: the data the test needs are not in the mirror; what little can be said is
  said, and nothing counts as passed;
- ``not computable here``: the test needs machinery sigcube does not have (a cosmological simulation,
  a Boltzmann code);
- ``by construction``: the result is an assumption of the model (c_GW = c).

``reproduced`` compares a computed figure with a published one only where both come from the
same data and convention, or where the row names the inputs it used (it is empty otherwise): no
test is a hard-coded pass. A printed count that sigcube's sample cut was made to give is listed under
``matched_by_construction`` ("count matched by construction"), not as reproduced.
"""

from __future__ import annotations

from sigcube.study.reports.regression.clusters import (
    CLUSTER_CHI2, CLUSTER_KERNELS, CLUSTER_PARAMS, PAPER_CLUSTER_POINT, SWEEP_SPEC, cluster_btfr, cluster_chi2_red,
    cluster_sweep, clusters_fox, clusters_lensing, clusters_rar,
)
from sigcube.study.reports.regression.common import (
    AUTHOR_DSPHS, AUTHOR_G_DAGGER, AUTHOR_INPUTS, AUTHOR_SCRIPT, KINDS, PREDICTION, SI4A_TESTS, STATUSES, Result,
    agrees, cite, each_kernel, printed,
)
from sigcube.study.reports.regression.counter_rotation import (
    COUNTER_FRACTIONS, COUNTER_MOND_NU, COUNTER_V_MOND_KM_S, counter_rotation_fdm, counter_rotation_prediction,
)
from sigcube.study.reports.regression.dwarfs import (
    R_V, UPSILON_V, WOLF_R3D_PER_RE, author_dispersion, author_dsphs, dwarfs_mcconnachie, dwarfs_simon, wolf_points,
    wolf_sigma, wolf_window,
)
from sigcube.study.reports.regression.extended import (
    BULLET_MASS_UNIT_MSUN, BULLET_RADIUS_KPC, DF2, DF2_SOURCE, EFE_RADIUS_KPC, bullet_cluster, cmb, external_field,
    galaxy_galaxy_lensing, gravitational_waves, structure_formation, ultra_diffuse,
)
from sigcube.study.reports.regression.galaxies import author_btfr_ratio, btfr_sparc, milky_way, sparc_rotation_curves
from sigcube.study.reports.regression.local import (
    CASSINI_BOUND, EARTH_AU, MW_FIELD, SATURN_AU, SIGMA_RESOLUTION, WIDE_BINARY_AU, WIDE_BINARY_MASS_MSUN, XI_FLOOR_AU,
    lensing_slip, redshift, solar_system, wide_binaries,
)
from sigcube.study.reports.regression.suite import regression_report, render

__all__ = [
    # the report
    "KINDS", "PREDICTION", "SI4A_TESTS", "STATUSES", "Result", "regression_report", "render", "each_kernel",
    "agrees", "cite", "printed",
    # the tests, in report order
    "sparc_rotation_curves", "clusters_fox", "clusters_rar", "clusters_lensing", "cluster_sweep", "cluster_btfr",
    "milky_way", "redshift", "solar_system", "counter_rotation_fdm", "counter_rotation_prediction", "btfr_sparc",
    "wide_binaries", "dwarfs_simon", "dwarfs_mcconnachie", "ultra_diffuse", "galaxy_galaxy_lensing",
    "external_field", "gravitational_waves", "structure_formation", "cmb", "bullet_cluster", "lensing_slip",
    # their constants and shared pieces
    "AUTHOR_DSPHS", "AUTHOR_G_DAGGER", "AUTHOR_INPUTS", "AUTHOR_SCRIPT", "author_btfr_ratio", "author_dispersion",
    "author_dsphs", "CLUSTER_CHI2", "CLUSTER_KERNELS", "CLUSTER_PARAMS",
    "PAPER_CLUSTER_POINT", "SWEEP_SPEC", "cluster_chi2_red",
    "R_V", "UPSILON_V", "WOLF_R3D_PER_RE", "wolf_points", "wolf_sigma", "wolf_window",
    "DF2", "DF2_SOURCE", "EFE_RADIUS_KPC", "BULLET_MASS_UNIT_MSUN", "BULLET_RADIUS_KPC",
    "CASSINI_BOUND", "EARTH_AU", "SATURN_AU", "MW_FIELD", "SIGMA_RESOLUTION", "WIDE_BINARY_AU",
    "WIDE_BINARY_MASS_MSUN", "XI_FLOOR_AU",
    "COUNTER_FRACTIONS", "COUNTER_MOND_NU", "COUNTER_V_MOND_KM_S",
]
