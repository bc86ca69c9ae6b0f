"""`sigcube report regression`: the paper's regression tests, run on the data sigcube has.

Each test is a function returning a :class:`Result`: the computed figures, the published figures
they correspond to (MODEL.md §5 and the seeds), a status and the conventions used. Statuses:

- ``computed``: evaluated on real data — not always the paper's data; ``note`` says when not;
- ``prediction-only``: a model curve with no data to test it, labelled "prediction, no data";
- ``data unavailable``: the data the test needs are not in the mirror; what little can be said is
  said, and nothing counts as passed.

``reproduced`` compares a computed figure with a published one only where both come from the
same data and convention (it is empty otherwise): no test is a hard-coded pass.
"""

from __future__ import annotations

from sigcube.reports.regression.clusters import (
    CLUSTER_KERNELS,
    CLUSTER_PARAMS,
    PAPER_CLUSTER_POINT,
    SWEEP_SPEC,
    cluster_btfr,
    cluster_sweep,
    clusters_fox,
    clusters_lensing,
    clusters_rar,
)
from sigcube.reports.regression.common import GM_SUN, KINDS, PREDICTION, STATUSES, Result, each_kernel
from sigcube.reports.regression.counter_rotation import (
    COUNTER_FRACTIONS,
    COUNTER_MOND_NU,
    COUNTER_V_MOND_KM_S,
    counter_rotation_fdm,
    counter_rotation_prediction,
)
from sigcube.reports.regression.dwarfs import (
    M_V_SUN,
    R_V,
    UPSILON_V,
    WOLF_R3D_PER_RE,
    dwarfs_mcconnachie,
    dwarfs_simon,
)
from sigcube.reports.regression.galaxies import btfr_sparc, milky_way, sparc_rotation_curves
from sigcube.reports.regression.local import (
    AU_KPC,
    CASSINI_BOUND,
    EARTH_AU,
    MW_FIELD,
    SATURN_AU,
    SIGMA_RESOLUTION,
    WIDE_BINARY_AU,
    WIDE_BINARY_MASS_MSUN,
    XI_FLOOR_AU,
    lensing_slip,
    redshift,
    solar_system,
    wide_binaries,
)
from sigcube.reports.regression.suite import regression_report, render

__all__ = [
    # the report
    "KINDS", "PREDICTION", "STATUSES", "Result", "regression_report", "render", "each_kernel",
    # the tests, in report order
    "sparc_rotation_curves", "milky_way", "clusters_rar", "clusters_lensing", "clusters_fox", "cluster_sweep",
    "cluster_btfr", "dwarfs_simon", "dwarfs_mcconnachie", "btfr_sparc", "solar_system", "redshift",
    "lensing_slip", "counter_rotation_prediction", "wide_binaries", "counter_rotation_fdm",
    # their constants
    "GM_SUN", "CLUSTER_KERNELS", "CLUSTER_PARAMS", "PAPER_CLUSTER_POINT", "SWEEP_SPEC",
    "M_V_SUN", "R_V", "UPSILON_V", "WOLF_R3D_PER_RE",
    "AU_KPC", "CASSINI_BOUND", "EARTH_AU", "SATURN_AU", "MW_FIELD", "SIGMA_RESOLUTION", "WIDE_BINARY_AU",
    "WIDE_BINARY_MASS_MSUN", "XI_FLOOR_AU",
    "COUNTER_FRACTIONS", "COUNTER_MOND_NU", "COUNTER_V_MOND_KM_S",
]
