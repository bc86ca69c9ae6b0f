"""The layouts of the built-in kinds of dataset cube: each kind's dimensions and variables, with units and labels.

:mod:`sigcube.io.schema` says what a schema is and checks cubes against it; here are the schemas of SPARC and of
users' rotation curves, the Milky Way, the CLASH clusters, the dwarfs and MaNGA, registered by kind.
"""

from __future__ import annotations

from sigcube.io.schema import CubeSchema, VarSpec, register_schema

_CURVE = ("galaxy", "radius")


_GAL = ("galaxy",)


CURVE_VARIABLES: dict[str, VarSpec] = {
    "galaxy": VarSpec(_GAL, "", "galaxy name", "T"),
    "radius": VarSpec(("radius",), "", "row index along the rotation curve", "i"),
    "r": VarSpec(_CURVE, "kpc", "galactocentric radius"),
    "v_obs": VarSpec(_CURVE, "km / s", "observed rotation velocity"),
    "e_v_obs": VarSpec(_CURVE, "km / s", "error on observed rotation velocity"),
    "v_gas": VarSpec(_CURVE, "km / s", "gas contribution to V (signed, with helium)"),
    "v_disk": VarSpec(_CURVE, "km / s", "stellar disk contribution to V at Υ = 1"),
    "v_bul": VarSpec(_CURVE, "km / s", "bulge contribution to V at Υ = 1"),
    "sb_disk": VarSpec(_CURVE, "solLum / pc2", "disk surface brightness at 3.6 μm"),
    "sb_bul": VarSpec(_CURVE, "solLum / pc2", "bulge surface brightness at 3.6 μm"),
    "n_points": VarSpec(_GAL, "", "number of rotation-curve rows", "i"),
}
"""The rotation curves and mass models, galaxy × radius (NaN past each curve's ``n_points`` rows)."""


GEOMETRY_VARIABLES: dict[str, VarSpec] = {
    "distance": VarSpec(_GAL, "Mpc", "distance"),
    "e_distance": VarSpec(_GAL, "Mpc", "error on distance"),
    "inclination": VarSpec(_GAL, "deg", "inclination"),
    "e_inclination": VarSpec(_GAL, "deg", "error on inclination"),
}
"""Each galaxy's distance and inclination with their errors."""


MASS_VARIABLES: dict[str, VarSpec] = {
    "L36": VarSpec(_GAL, "1e9 solLum", "total luminosity at 3.6 μm"),
    "L_bul": VarSpec(_GAL, "1e9 solLum", "bulge luminosity at 3.6 μm"),
    "R_disk": VarSpec(_GAL, "kpc", "disk scale length at 3.6 μm"),
    "M_HI": VarSpec(_GAL, "1e9 solMass", "total HI mass"),
}
"""The catalogue quantities kernels read: M_b = Υ_disk·L[3.6] + 1.33·M_HI, M★ = Υ_disk·(L[3.6] − L_bul) +
Υ_bul·L_bul (L_bul from SPARC's Bulges file), and R_disk (the ``table`` R_d)."""


SPARC = register_schema(CubeSchema(
    kind="sparc",
    dims=_CURVE,
    variables={
        **CURVE_VARIABLES,
        **GEOMETRY_VARIABLES,
        **MASS_VARIABLES,
        "rotmod_distance": VarSpec(_GAL, "Mpc", "distance stated in the rotmod file"),
        "hubble_type": VarSpec(_GAL, "", "Hubble type T (0 = S0 … 11 = BCD)", "i"),
        "distance_method": VarSpec(_GAL, "", "distance method (1 Hubble flow … 5 SN)", "i"),
        "e_L36": VarSpec(_GAL, "1e9 solLum", "error on total luminosity at 3.6 μm"),
        "R_eff": VarSpec(_GAL, "kpc", "effective radius at 3.6 μm"),
        "SB_eff": VarSpec(_GAL, "solLum / pc2", "effective surface brightness at 3.6 μm"),
        "SB_disk": VarSpec(_GAL, "solLum / pc2", "disk central surface brightness at 3.6 μm"),
        "R_HI": VarSpec(_GAL, "kpc", "HI radius at 1 M☉/pc²"),
        "V_flat": VarSpec(_GAL, "km / s", "asymptotically flat rotation velocity"),
        "e_V_flat": VarSpec(_GAL, "km / s", "error on flat rotation velocity"),
        "quality": VarSpec(_GAL, "", "quality flag (1 high, 2 medium, 3 low)", "i"),
        "ref": VarSpec(_GAL, "", "references for HI and Hα data", "T"),
    },
))


ROTATION_CURVES = register_schema(CubeSchema(
    kind="rotation_curves",
    dims=_CURVE,
    variables={**CURVE_VARIABLES, **GEOMETRY_VARIABLES, **MASS_VARIABLES},
))
"""A user's rotation curves (``sigcube ingest table``): SPARC's curve, geometry and mass variables, NaN where
the table gives none (all but the curve are optional); no quality flags or other Table-1 columns."""


def _asymmetric(dims: tuple[str, ...], name: str, units: str, long_name: str) -> dict[str, VarSpec]:
    """A value and its upper and lower errors (``e_<name>_plus``, ``e_<name>_minus``, both ≥ 0)."""
    return {
        name: VarSpec(dims, units, long_name),
        f"e_{name}_plus": VarSpec(dims, units, f"upper error on {long_name}"),
        f"e_{name}_minus": VarSpec(dims, units, f"lower error on {long_name} (a positive number)"),
    }


_BIN, _STAR = ("bin",), ("star",)


_V_BAR = "baryonic circular velocity, McMillan 2017 via galpy (stellar disks + gas disks + bulge, no halo)"


MILKYWAY = register_schema(CubeSchema(
    kind="milkyway",
    dims=("bin", "star"),
    variables={
        "bin": VarSpec(_BIN, "", "Eilers+2019 radial bin index", "i"),
        "star": VarSpec(_STAR, "", "Mróz+2019 Cepheid row index", "i"),
        "eilers_r": VarSpec(_BIN, "kpc", "galactocentric radius of the bin"),
        "eilers_v_c": VarSpec(_BIN, "km / s", "circular velocity (Jeans analysis of red giants, Eilers+2019)"),
        "e_eilers_v_c_minus": VarSpec(_BIN, "km / s", "lower error σ⁻ on the circular velocity"),
        "e_eilers_v_c_plus": VarSpec(_BIN, "km / s", "upper error σ⁺ on the circular velocity"),
        "eilers_v_bar": VarSpec(_BIN, "km / s", _V_BAR),
        "cepheid_r": VarSpec(_STAR, "kpc", "galactocentric radius of the Cepheid"),
        "e_cepheid_r": VarSpec(_STAR, "kpc", "error on the galactocentric radius"),
        "cepheid_v_c": VarSpec(_STAR, "km / s", "circular velocity at the Cepheid (Mróz+2019)"),
        "e_cepheid_v_c": VarSpec(_STAR, "km / s", "error on the circular velocity"),
        "cepheid_v_bar": VarSpec(_STAR, "km / s", _V_BAR),
    },
))


_CL, _CL_R, _CL_RR = ("cluster",), ("cluster", "radius"), ("cluster", "radius", "radius_b")


_LENS_M = "weak-lensing enclosed mass M(<r)"


_LENS_M2 = "enclosed mass M(<r), two-halo term subtracted"


CLUSTERS = register_schema(CubeSchema(
    kind="clusters",
    dims=("cluster", "radius", "radius_b"),
    variables={
        "cluster": VarSpec(_CL, "", "CLASH cluster (A = Abell, MACS = MACS J, RXJ = RX J)", "T"),
        "radius": VarSpec(("radius",), "", "row index along a cluster's profile", "i"),
        "radius_b": VarSpec(("radius_b",), "", "second row index of the correlation matrices", "i"),
        "rar_n": VarSpec(_CL, "", "number of RAR radii (Tian+2020)", "i"),
        "rar_r": VarSpec(_CL_R, "kpc", "radius of the RAR point"),
        "rar_log_g_bar": VarSpec(_CL_R, "dex(m / s2)", "log10 baryonic acceleration (X-ray gas + BCG)"),
        "rar_log_g_tot": VarSpec(_CL_R, "dex(m / s2)", "log10 total acceleration (strong + weak lensing)"),
        "rar_e_log_g_bar": VarSpec(_CL_R, "dex", "error on log10 g_bar"),
        "rar_e_log_g_tot": VarSpec(_CL_R, "dex", "error on log10 g_tot"),
        "lens_n": VarSpec(_CL, "", "number of lensing radii (Mistele+2025)", "i"),
        "lens_r": VarSpec(_CL_R, "kpc", "radius of the lensing bin"),
        "lens_M": VarSpec(_CL_R, "solMass", _LENS_M),
        "lens_M_stat_err": VarSpec(_CL_R, "solMass", f"statistical error on the {_LENS_M}"),
        "lens_M_syst_err_up": VarSpec(_CL_R, "solMass", f"upper systematic error on the {_LENS_M}"),
        "lens_M_syst_err_down": VarSpec(_CL_R, "solMass", f"lower systematic error on the {_LENS_M}"),
        "lens_M2hsub": VarSpec(_CL_R, "solMass", _LENS_M2),
        "lens_M2hsub_stat_err": VarSpec(_CL_R, "solMass", f"statistical error on the {_LENS_M2}"),
        "lens_M2hsub_syst_err_up": VarSpec(_CL_R, "solMass", f"upper systematic error on the {_LENS_M2}"),
        "lens_M2hsub_syst_err_down": VarSpec(_CL_R, "solMass", f"lower systematic error on the {_LENS_M2}"),
        "lens_rho": VarSpec(_CL_R, "solMass / Mpc3", "deprojected density"),
        "lens_rho_stat_err": VarSpec(_CL_R, "solMass / Mpc3", "statistical error on the density"),
        "lens_rho_syst_err_up": VarSpec(_CL_R, "solMass / Mpc3", "upper systematic error on the density"),
        "lens_rho_syst_err_down": VarSpec(_CL_R, "solMass / Mpc3", "lower systematic error on the density"),
        "lens_M_corr": VarSpec(_CL_RR, "", "correlation of M(<r) between radial bins (radius × radius_b)"),
        "summary_name": VarSpec(_CL, "", "cluster name in the Mistele+2025 summary table", "T"),
        **{f"{name}{variant}": VarSpec(_CL, units, f"{label}{suffix}")
           for variant, suffix in (("", ""), ("_2hsub", ", two-halo term subtracted"))
           for name, units, label in (
               ("V_flat", "km / s", "flat circular velocity"),
               ("e_V_flat", "km / s", "statistical error on V_flat"),
               ("log_Mb_beta", "dex(solMass)", "log10 baryonic mass, β-model gas extrapolation"),
               ("log_Mb_r4tail", "dex(solMass)", "log10 baryonic mass, r⁻⁴ gas tail"),
               ("log_M200c", "dex(solMass)", "log10 M200c (non-parametric)"),
               ("e_log_M200c", "dex", "statistical error on log10 M200c"),
               ("log_M200c_NFW", "dex(solMass)", "log10 M200c of the NFW fit"),
               ("e_log_M200c_NFW_plus", "dex", "upper error on log10 M200c (NFW)"),
               ("e_log_M200c_NFW_minus", "dex", "lower error on log10 M200c (NFW, a positive number)"),
           )},
    },
))


_DW, _NB = ("dwarf",), ("nearby",)


DWARFS = register_schema(CubeSchema(
    kind="dwarfs",
    dims=("dwarf", "nearby"),
    variables={
        "dwarf": VarSpec(_DW, "", "Milky Way satellite (Simon 2019)", "T"),
        **_asymmetric(_DW, "M_V", "mag", "absolute V magnitude"),
        **_asymmetric(_DW, "r_half", "pc", "projected half-light radius"),
        **_asymmetric(_DW, "distance", "kpc", "heliocentric distance"),
        **_asymmetric(_DW, "v_hel", "km / s", "heliocentric velocity"),
        **_asymmetric(_DW, "sigma", "km / s", "stellar velocity dispersion (the 90 % limit where flagged)"),
        "sigma_is_upper_limit": VarSpec(_DW, "", "sigma is a 90 % upper limit", "b"),
        **_asymmetric(_DW, "feh", "dex", "mean metallicity [Fe/H]"),
        **_asymmetric(_DW, "feh_spread", "dex", "metallicity dispersion σ[Fe/H] (the 90 % limit where flagged)"),
        "feh_spread_is_upper_limit": VarSpec(_DW, "", "σ[Fe/H] is a 90 % upper limit", "b"),
        "references": VarSpec(_DW, "", "reference codes for M_V, r_1/2, distance, v_hel, σ, [Fe/H], σ[Fe/H]", "T"),
        "nearby": VarSpec(_NB, "", "Local Group object (McConnachie 2012 database)", "T"),
        "nearby_ambiguous": VarSpec(_NB, "", "nature ambiguous (a leading * in the file)", "b"),
        "nearby_ra": VarSpec(_NB, "deg", "right ascension (J2000)"),
        "nearby_dec": VarSpec(_NB, "deg", "declination (J2000)"),
        "nearby_ebv": VarSpec(_NB, "mag", "foreground reddening E(B−V) (Schlegel+1998)"),
        **_asymmetric(_NB, "nearby_dmod", "mag", "distance modulus (m−M)₀"),
        **_asymmetric(_NB, "nearby_v_h", "km / s", "heliocentric radial velocity"),
        **_asymmetric(_NB, "nearby_vmag", "mag", "apparent V magnitude"),
        **_asymmetric(_NB, "nearby_ellipticity", "", "projected ellipticity 1 − b/a"),
        **_asymmetric(_NB, "nearby_r_half", "arcmin", "half-light radius on the major axis"),
        **_asymmetric(_NB, "nearby_sigma", "km / s", "stellar velocity dispersion"),
        "nearby_M_HI": VarSpec(_NB, "1e6 solMass", "HI mass"),
        **_asymmetric(_NB, "nearby_feh", "dex", "mean stellar metallicity [Fe/H]"),
        "nearby_references": VarSpec(_NB, "", "reference numbers (key in McConnachie's References.dat)", "T"),
    },
))


_GX, _MT = ("galaxy",), ("match",)


MANGA = register_schema(CubeSchema(
    kind="manga",
    dims=("galaxy", "match"),
    variables={
        "galaxy": VarSpec(_GX, "", "MaNGA plate-IFU of a DynPop f_DM subset galaxy", "T"),
        "match": VarSpec(_MT, "", "row of the counter-rotation case/control table", "i"),
        "mangaid": VarSpec(_GX, "", "MaNGA ID", "T"),
        "M_star": VarSpec(_GX, "solMass", "stellar mass (MGE luminosity × SPS M/L, Chabrier; TangoSIDM)"),
        "R_eff": VarSpec(_GX, "kpc", "effective radius of the MGE"),
        "f_DM": VarSpec(_GX, "", "dark-matter fraction within R_eff (JAM_cyl + gNFW)"),
        "is_counter_rotating_case": VarSpec(_GX, "", "one of the counter-rotating cases of the match table", "b"),
        "is_matched_control": VarSpec(_GX, "", "a matched control of the match table", "b"),
        "case_mangaid": VarSpec(_MT, "", "MaNGA ID of the counter-rotating case", "T"),
        "case_plateifu": VarSpec(_MT, "", "plate-IFU of the counter-rotating case", "T"),
        "control_mangaid": VarSpec(_MT, "", "MaNGA ID of the control", "T"),
        "control_plateifu": VarSpec(_MT, "", "plate-IFU of the control", "T"),
        "match_rank": VarSpec(_MT, "", "rank of the control among the case's 5 nearest neighbours", "i"),
        "standardized_distance": VarSpec(_MT, "", "distance between case and control in standardized covariates"),
    },
))
