"""Counter-rotation tests: the Σ-vs-fraction prediction table and MaNGA DynPop f_DM of the cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from sigcube.constants import A0_MOND, KM_S, KPC_M
from sigcube.model.kernels import KernelError
from sigcube.model.points import velocity_points
from sigcube.study.published import figure
from sigcube.study.reports.regression.common import PREDICTION, Result, _enhancement, cite, cited
from sigcube.study.reports.regression.uncertainty import bootstrap, shown

COUNTER_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
COUNTER_MOND_NU = figure("counter.table.mond").number
"""The MOND enhancement of the paper's counter-rotation table (§5.2): an *input* that fixes the reference g_N
(the paper does not state its g), not a result."""
_TABLE = {"f=0": "counter.table.f0", "f=0.25": "counter.table.f25", "f=0.5": "counter.table.f50",
          "f=1": "counter.table.f100"}
"""The Σ column of the paper's §5.2 table, by counter-rotating fraction."""
COUNTER_V_MOND_KM_S = 200.0
"""Circular speed at the reference point (σ/v_c = 0.1 for σ = 20 km/s, as in the paper's §5.2 tables)."""


def _counter_reference() -> tuple[float, float]:
    """(g_N [m/s²], V_bar [km/s]) where MOND gives ν = 2.56 and a 200 km/s circular speed."""
    x = math.log(1.0 - 1.0 / COUNTER_MOND_NU) ** 2  # ν(x) = 1/(1 − e^{−√x}) inverted
    return x * A0_MOND, COUNTER_V_MOND_KM_S / math.sqrt(COUNTER_MOND_NU)


def counter_rotation_prediction() -> Result:
    """Σ against the counter-rotating mass fraction f (kernel ``sigma_counter_rotation``) vs the paper's table."""
    g_n, v_bar = _counter_reference()
    r_kpc = (v_bar * KM_S) ** 2 / g_n / KPC_M
    points = velocity_points("reference", ["reference"], [1], [r_kpc], [v_bar], [1.0], [v_bar])
    try:
        sigma = {f"f={f:g}": float(_enhancement("sigma_counter_rotation", points, f_counter=f)[0])
                 for f in COUNTER_FRACTIONS}
    except KernelError as exc:
        sigma = {"error": str(exc)}
    paper = {k: figure(key).number for k, key in _TABLE.items()}
    values: dict[str, Any] = {"sigma": sigma,
                              "reference_point": {"mond_nu_input": COUNTER_MOND_NU, "g_N": g_n, "v_bar": v_bar}}
    if "error" not in sigma:
        values["relative_enhancement"] = {k: (s - 1) / (sigma["f=0"] - 1) for k, s in sigma.items()}
        values["paper_relative_enhancement"] = {k: (v - 1) / (paper["f=0"] - 1) for k, v in paper.items()}
    headline = (", ".join(f"{k}: {v:.2f}" for k, v in sigma.items()) + f" at the g_N where MOND's ν = "
                f"{COUNTER_MOND_NU:g} (an input)" if "error" not in sigma else sigma["error"])
    return Result(
        name="Counter-rotation: Σ vs counter-rotating fraction",
        si4a=6,
        status="prediction-only",
        headline=f"{headline} ({PREDICTION})",
        values=values,
        published={**{k: cite(key) for k, key in _TABLE.items()}, **cited(mond_input="counter.table.mond")},
        conventions={
            "summary": "kernel sigma_counter_rotation at its defaults (σ1 = σ2 = 20 km/s), C of the predicted v",
            "reference_point": f"g_N = {g_n:.3e} m/s², chosen so that MOND's ν(g_N/a0) = {COUNTER_MOND_NU:g}, the "
                               f"paper's MOND column: an input, not a result; V_bar = {v_bar:.1f} km/s "
                               f"(MOND V = {COUNTER_V_MOND_KM_S:g} km/s)",
            "relative_enhancement": "(Σ(f) − 1)/(Σ(0) − 1): comparable with the paper's table whatever its g",
        },
        note=(f"{PREDICTION}. The MOND 2.56 is the input that fixes the reference g_N (the paper does not state its "
              "g), so it is not compared. The paper's table falls linearly, Σ − 1 ∝ 1 − f, "
              "reaching Σ = 1 at f = 1, which the σ_eff formula cannot give: it is symmetric in f ↔ 1 − f (a fully "
              "counter-rotating disk is a normal disk)."),
    )


def counter_rotation_fdm(manga: xr.Dataset) -> Result:
    """f_DM of counter-rotating cases vs controls, as far as the DynPop subset allows (1 case)."""
    case = manga["is_counter_rotating_case"].values
    cases = [str(g) for g in manga["galaxy"].values[case]]
    f_dm = manga["f_DM"]
    matched = {c: [str(g) for g in manga["control_plateifu"].values[manga["case_plateifu"].values == c]
                   if g in manga["galaxy"].values] for c in cases}
    controls = manga["is_matched_control"].values
    values = {
        "n_cases_in_subset": len(cases),
        "n_cases_total": int(len(set(manga["case_plateifu"].values))),
        "cases": {c: {"f_DM": float(f_dm.sel(galaxy=c)),
                      "matched_controls_in_subset": {g: float(f_dm.sel(galaxy=g)) for g in matched[c]}}
                  for c in cases},
        "n_controls_in_subset": int(controls.sum()),
        "median_f_DM_controls": float(np.median(f_dm.values[controls])),
        "median_f_DM_non_cases": float(np.median(f_dm.values[~case])),
        "uncertainty": {key: bootstrap(lambda i, v=v: np.median(v[i]), len(v), f"counter.{key}")
                        for key, v in (("median_f_DM_controls", f_dm.values[controls]),
                                       ("median_f_DM_non_cases", f_dm.values[~case]))},
        "p_value": None,
    }
    first = cases[0] if cases else None
    case_text = (f"{first}: f_DM = {values['cases'][first]['f_DM']:.3f}, its "
                 f"{len(matched[first])} matched controls in the subset: "
                 + ", ".join(f"{v:.3f}" for v in values["cases"][first]["matched_controls_in_subset"].values())
                 if first else "no case")
    return Result(
        name="Counter-rotation f_DM (MaNGA DynPop)",
        si4a=6,
        status="data unavailable",
        n=len(cases),
        headline=(f"N = {len(cases)} case with f_DM ({case_text}); no test possible, no p-value; median f_DM of the "
                  f"subset's controls {shown(values['uncertainty']['median_f_DM_controls'])}, of its non-cases "
                  f"{shown(values['uncertainty']['median_f_DM_non_cases'])}"),
        values=values,
        published=cited(f_DM_counter_rotating="counter.f_dm_counter", f_DM_normal="counter.f_dm_normal",
                        p="counter.p_value", n_cases="counter.n_galaxies"),
        conventions={"summary": "cases and controls found in the 534-galaxy f_DM subset by plate-IFU; […] = 68 % "
                                "interval of a seeded bootstrap over the galaxies",
                     "f_DM": "JAM_cyl + gNFW f_DM within R_eff (Zhu+2023 via TangoSIDM)"},
        note=("Only 1 of the 62 matched counter-rotating cases (and 22 of their 310 controls) is in the DynPop subset: "
              "a comparison of means needs the full DynPop JAM catalogue, which is not in the mirror."),
    )
