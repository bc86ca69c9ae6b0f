"""The built-in kinds of dataset cube, registered when :mod:`sigcube.io` is imported: SPARC, the Milky Way, the
CLASH clusters, the dwarfs, MaNGA, and users' rotation curves (``sigcube ingest table``, ``sigcube synth``)."""

from __future__ import annotations

from sigcube.io.datasets import DatasetKind, register_dataset
from sigcube.io.ingest.clusters import PACK_VARIABLES as CLUSTER_VARIABLES
from sigcube.io.ingest.clusters import (
    LENSING_VARIABLES, build_clusters_cube, lensing_likelihood, pack_clusters, pack_lensing,
)
from sigcube.io.ingest.dwarfs import build_dwarfs_cube
from sigcube.io.ingest.manga import build_manga_cube
from sigcube.io.ingest.milkyway import PACK_VARIABLES as MILKYWAY_VARIABLES
from sigcube.io.ingest.milkyway import build_milkyway_cube, pack_milkyway
from sigcube.io.ingest.sparc import build_sparc_cube
from sigcube.io.layouts import CLUSTERS, DWARFS, MANGA, MILKYWAY, ROTATION_CURVES, SPARC
from sigcube.io.rotation_curves import (
                                        PACK_NEEDS,
                                        PACK_VARIABLES,
                                        SELECT_VARIABLES,
                                        SURFACE_BRIGHTNESS,
                                        pack_sparc,
                                        select_sparc,
)

DEFAULT_KIND = SPARC.kind
"""The kind sweeps and fits read unless a spec names another."""

register_dataset(DatasetKind(SPARC, "SPARC rotation curves and Table 1", "galaxy",
                             build_sparc_cube, pack_sparc, manifest="sparc", select=select_sparc,
                             select_variables=SELECT_VARIABLES, pack_variables=PACK_VARIABLES,
                             input_variables=SURFACE_BRIGHTNESS, needs=PACK_NEEDS, has_curves=True, title="SPARC"))
register_dataset(DatasetKind(MILKYWAY, "Eilers+2019 bins and Mróz+2019 Cepheids, V_bar from galpy's McMillan17",
                             "tracer", build_milkyway_cube, pack_milkyway, manifest="milkyway",
                             needs=MILKYWAY_VARIABLES))
register_dataset(DatasetKind(CLUSTERS, "the CLASH RAR (Tian+2020) and weak-lensing profiles (Mistele+2025)",
                             "cluster", build_clusters_cube, pack_clusters, manifest="clusters",
                             needs=CLUSTER_VARIABLES))
register_dataset(DatasetKind(CLUSTERS, "the CLASH weak-lensing radii (Mistele+2025) inside Tian+2020's range, with "
                             "M_bar(<r) and the lensing likelihood", "cluster", packer=pack_lensing,
                             needs=LENSING_VARIABLES, view="lensing", likelihood=lensing_likelihood))
register_dataset(DatasetKind(DWARFS, "Simon 2019 and McConnachie 2012 dwarfs", "dwarf",
                             build_dwarfs_cube, manifest="dwarfs"))
register_dataset(DatasetKind(MANGA, "the MaNGA DynPop f_DM subset and counter-rotator matches", "galaxy",
                             build_manga_cube, manifest="manga"))
register_dataset(DatasetKind(ROTATION_CURVES, "rotation curves: a user's table (sigcube ingest table) or "
                             "synthetic galaxies (sigcube synth)", "galaxy", packer=pack_sparc, select=select_sparc,
                             select_variables=SELECT_VARIABLES, pack_variables=PACK_VARIABLES,
                             input_variables=SURFACE_BRIGHTNESS, needs=PACK_NEEDS, has_curves=True))

