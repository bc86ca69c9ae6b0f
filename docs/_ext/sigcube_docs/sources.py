"""Where the documentation reads sigcube: every import of a sigcube module by the docs build is in this file.

The pages refer to modules by name in one other place only, ``docs/api.md`` (the API reference's module list).
When the package is re-organised, these two files are what the docs need updated; ``make docs`` and
``tests/project/test_docs.py`` then name any page that still refers to a module that no longer exists.

Everything here is a function, imported on first use, so that ``conf.py`` stays cheap to load.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

CLI_SCRIPT = "sigcube"
"""The console script whose typer app the CLI reference documents (its module is read from the entry point)."""


def cli_entry_point() -> tuple[str, str]:
    """``(module, attribute)`` of the ``sigcube`` console script, e.g. ``("sigcube.cli", "app")``."""
    (ep,) = [ep for ep in entry_points(group="console_scripts") if ep.name == CLI_SCRIPT]
    module, _, attr = ep.value.partition(":")
    return module, attr


def cli_app() -> Any:
    """The typer app behind ``sigcube``."""
    module, attr = cli_entry_point()
    return getattr(importlib.import_module(module), attr)


def spec_reference() -> str:
    """The sweep spec reference, a Markdown table generated from the pydantic schema."""
    from sigcube.engines.sweep.schema import spec_reference as generate

    return generate()


def spec_schema_command() -> str:
    """The command that prints the spec reference (as the README's marker names it)."""
    return "python -m sigcube.engines.sweep.schema"


def published_figures() -> dict[str, Any]:
    """Every figure printed in a seed file (``sigcube.study.published.FIGURES``), the seed files' short names, the
    verdict of a count matched by construction and the figure's printed value in plain text (``shown``: TeX's
    ``2.7 \\times 10^{-9}`` as ``2.7×10⁻⁹``, as the reports print it)."""
    from sigcube.study import published
    from sigcube.study.reports.regression.common import shown

    return {"figures": published.FIGURES, "seed_names": published.SEED_NAMES,
            "count_matched": published.COUNT_MATCHED, "shown": shown}


def kernels() -> list[dict[str, Any]]:
    """Every registered kernel described as ``sigcube kernels --json`` prints it."""
    from sigcube.model.kernels import get_kernel, kernel_names

    return [get_kernel(name).describe() for name in kernel_names()]


def metrics() -> list[Any]:
    """The metric registry (``Metric`` records: key, units, scope, direction, definition)."""
    from sigcube.model.metrics import METRICS

    return list(METRICS.values())


def bounds() -> list[Any]:
    """The physical bounds of the rotation-curve columns checked at ingest (``Bound`` records)."""
    from sigcube.io.ingest.bounds import BOUNDS

    return list(BOUNDS.values())


def dataset_kinds() -> list[Any]:
    """Every registered dataset kind (``DatasetKind`` records: schema, description, object dimension, packer)."""
    from sigcube.io.datasets import dataset_kinds as kinds

    return kinds()


def public_kinds() -> tuple[str, ...]:
    """The dataset kinds ingested from public files."""
    from sigcube.io.datasets import public_kinds as kinds

    return kinds()


def manifest(name: str) -> dict[str, Any]:
    """A dataset manifest (``ingest/<name>.toml``, installed as ``sigcube.manifests``), parsed."""
    import tomllib
    from importlib.resources import files

    return tomllib.loads(files("sigcube.manifests").joinpath(f"{name}.toml").read_text(encoding="utf-8"))


def load_spec(path: Any) -> Any:
    """A shipped sweep spec, parsed and checked (``SweepSpec``)."""
    from sigcube.engines.sweep import load_spec as load

    return load(path)


def load_joint_spec(path: Any) -> Any | None:
    """A shipped joint sweep spec, parsed and checked (``JointSpec``); None for a spec that is not a joint one."""
    from sigcube.engines.joint import is_joint_spec
    from sigcube.engines.joint import load_joint_spec as load

    return load(path) if is_joint_spec(path) else None


def load_fit_spec(path: Any) -> Any:
    """A shipped fit spec, parsed and checked (``FitSpec``)."""
    from sigcube.engines.fit import load_spec as load

    return load(path)


def presets() -> dict[str, Any]:
    """The named SPARC presets (conventions) by name."""
    from sigcube.model.kernels.presets import PRESETS

    return dict(PRESETS)


def report_renderers() -> dict[str, Any]:
    """Each report's own terminal renderer (``render(payload, console)``), by report name, to show a committed
    report exactly as ``sigcube report …`` prints it."""
    from sigcube.interfaces import joint_report as joint
    from sigcube.interfaces import population_report as population
    from sigcube.interfaces import sweep_report as sweep
    from sigcube.study.reports import (
        ablation, calibration, clusters, compare, kernels, regression, sensitivity, sparc, verdict,
    )

    return {"sparc": sparc.render_summary, "kernels": kernels.render, "regression": regression.render,
            "sensitivity": sensitivity.render, "ablation": ablation.render, "compare": compare.render,
            "calibrate": calibration.render, "clusters": clusters.render, "verdict": verdict.render,
            "sweep": sweep.render, "joint": joint.render, "population": population.render,
            "population_table": population.render_table}


def verdict_cells(row: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """A verdict row's (comparisons, readings, what moves it) as ``sigcube report verdict`` words them."""
    from sigcube.study.reports.verdict import row_cells

    return row_cells(row)


def report_rules() -> dict[str, Any]:
    """What the reports' numbers and verdicts rest on, for checking a committed record's identities: the Bayes factors'
    reference model, the factor of its numerical error a difference must exceed to decide, and a figure's verdicts."""
    from sigcube.stats.verdicts import DECIDED
    from sigcube.study.published import COUNT_MATCHED, REPRODUCED
    from sigcube.study.reports.compare_models import REFERENCE

    return {"reference": REFERENCE, "decided": DECIDED, "reproduced": REPRODUCED, "count_matched": COUNT_MATCHED}


def former_names() -> dict[str, str]:
    """Names the code used before a rename → its names now (the error models': ``lognormal_gobs`` is
    ``lognormal_first_order``), which a committed record made before the rename still prints."""
    from sigcube.stats.likelihood import LEGACY_ERROR_MODELS

    return dict(LEGACY_ERROR_MODELS)


def halo_summary(halos: Mapping[str, Any]) -> str:
    """The one-line summary of a comparison row's halo posteriors (an xarray Dataset's dictionary)."""
    import xarray as xr

    from sigcube.stats.halo_posteriors import halo_summary as summary

    return summary(xr.Dataset.from_dict(dict(halos)))


def plots() -> Any:
    """The plotting layer (:mod:`sigcube.interfaces.plots`): its figure modules, by name, ``save`` and ``figures``
    (the registered figure kinds)."""
    from types import SimpleNamespace

    from sigcube.interfaces.plots import (
        comparison, data, figures, fits, galaxies, halos, output, performance, population, posteriors, probes,
        published, rar,
    )
    from sigcube.interfaces.plots.registry import plain

    return SimpleNamespace(comparison=comparison, data=data, fits=fits, galaxies=galaxies, halos=halos,
                           performance=performance, population=population, posteriors=posteriors, probes=probes,
                           published=published, rar=rar, save=output.save, figures=figures, plain=plain)


def plots_source() -> list[Any]:
    """The source files of the plotting layer (a figure is redrawn when one of them changes)."""
    from pathlib import Path

    import sigcube.interfaces.plots as package

    return sorted(Path(package.__file__).parent.glob("*.py"))


def dataset_cube(kind: str) -> Any:
    """The ``kind`` dataset cube of ``$SIGCUBE_CUBE_DIR`` (default ``cubes/``), loaded; ingested from the data
    mirror first if it is missing (as the notebooks do)."""
    from sigcube.io.cubes import default_cube, open_cube, write_cube
    from sigcube.io.datasets import dataset_kind

    path = default_cube(kind)
    if not path.exists():
        write_cube(dataset_kind(kind).builder(), path)
    return open_cube(path).load()
