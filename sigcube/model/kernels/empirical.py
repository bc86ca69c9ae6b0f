"""The empirical Burr-XII kernel (note 001).

    g = g_N·(1 + K),   K(R) = A·[1 − (1 + (R/ℓ0)^p)^(−n_coh)],   V = V_bar·√(1 + K)

The seeds give no values. The defaults are the authors' earlier fitted hyper-parameters
(A = 0.591, ℓ0 = 4.993 kpc, p = 0.757, n_coh = 0.5; ``config/hyperparams_track2.json`` of
the public Σ-Gravity repository): starting values for sweeps, not a result of sigcube.
"""

from __future__ import annotations

from sigcube.model.kernels.common import boost
from sigcube.model.kernels.registry import Parameter, kernel

ELL0_DEFAULT = 4.993
"""The authors' fitted Burr-XII coherence length ℓ0 [kpc]."""


def burr_xii_window(r_kpc, ell0, p, n_coh):
    """C(R) = 1 − (1 + (R/ℓ0)^p)^(−n_coh), rising from 0 at R = 0 to 1 [dimensionless] ((R/ℓ0)^p as R^p·ℓ0^−p)."""
    return 1.0 - (1.0 + r_kpc**p * ell0**-p) ** -n_coh


@kernel(
    summary="Empirical Burr-XII kernel K(R) = A·[1 − (1 + (R/ℓ0)^p)^−n_coh].",
    source="note 001 (the empirical kernel the microphysics models aim to derive)",
    formula="V = V_bar·√(1 + K),  K = A·[1 − (1 + (R/ℓ0)^p)^(−n_coh)]",
    inputs=("r", "v_bar"),
    parameters=(
        Parameter("A", 0.591, "", (0.0, 50.0), description="amplitude"),
        Parameter("ell0", ELL0_DEFAULT, "kpc", (1e-3, 1e3), description="coherence length ℓ0"),
        Parameter("p", 0.757, "", (0.01, 10.0), description="Burr-XII shape exponent p"),
        Parameter("n_coh", 0.5, "", (0.01, 10.0), description="Burr-XII tail exponent n_coh"),
    ),
    amplitude="A",
    readings=("defaults: the authors' earlier fitted values (the seeds give none)",),
)
def burr_xii(points, *, A, ell0, p, n_coh):
    return boost(points["v_bar"], A * burr_xii_window(points["r"], ell0, p, n_coh))
