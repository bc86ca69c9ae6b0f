"""`sigcube ingest <kind>`: one command per dataset kind built from verified public files; `ingest table`."""

# No `from __future__ import annotations`: typer reads the per-kind option help of the
# generated commands from annotations that must be evaluated when they are made.
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from sigcube.cli.common import REPLACE_KIND, err_console, ingest_dataset, write_dataset
from sigcube.errors import SigcubeError
from sigcube.io.cubes import default_cube
from sigcube.io.datasets import DatasetKind, dataset_kinds

app = typer.Typer(help="Ingest a public dataset into a labelled Zarr cube.", no_args_is_help=True)


def _ingest_command(kind: DatasetKind) -> Callable[..., None]:
    """The ``ingest <kind>`` command of a kind with a builder."""

    def command(
        out: Annotated[Optional[str], typer.Option(
            help=f"Zarr store to write, a path or a store URL (default: cubes/{kind.name}.zarr)")] = None,
        force: Annotated[bool, typer.Option(help="Replace an existing, different dataset cube of this kind.")] = False,
        replace_kind: Annotated[bool, typer.Option(help=REPLACE_KIND)] = False,
    ) -> None:
        ingest_dataset(kind.name, out or default_cube(kind.name), force, replace_kind)

    what = kind.description
    command.__doc__ = f"{what[0].upper()}{what[1:]} → {kind.name} cube (files from $SIGCUBE_DATA_DIR or the archive)."
    command.__name__ = f"ingest_{kind.name}"
    return command


for _kind in dataset_kinds():
    if _kind.builder is not None:
        app.command(_kind.name)(_ingest_command(_kind))


def _pairs(text: Optional[str], option: str) -> dict[str, str]:
    """``a=b,c=d`` → {a: b, c: d}; anything else is a SigcubeError naming ``option``."""
    pairs: dict[str, str] = {}
    for item in text.split(",") if text is not None else []:
        key, sep, value = (part.strip() for part in item.partition("="))
        if not (key and sep and value):
            raise SigcubeError(f"{option} takes name=value pairs separated by commas; got {item.strip()!r}")
        pairs[key] = value
    return pairs


@app.command("table")
def ingest_table(
    file: Annotated[Path, typer.Argument(
        help="Your rotation curves: a table with a row per point (CSV, whitespace text, ECSV, FITS, …), or SPARC "
             "mass-model files (a <Galaxy>_rotmod.dat, or a folder of them).")],
    columns: Annotated[Optional[str], typer.Option(
        help="sigcube name=your column, e.g. galaxy=Name,r=Rad,v_obs=Vobs (default: the sigcube names).")] = None,
    units: Annotated[Optional[str], typer.Option(
        help="your column=unit for columns the file gives no unit, e.g. Rad=kpc,Vobs=km/s.")] = None,
    galaxies: Annotated[Optional[Path], typer.Option(
        help="A per-galaxy table joined on the galaxy name: distance, inclination, their errors, L36, L_bul, R_disk, "
             "M_HI, quality (any shape FILE takes, or SPARC's Table 1). Its rows without a curve are skipped.")] = None,
    galaxy_columns: Annotated[Optional[str], typer.Option(
        help="--columns of the --galaxies table, e.g. galaxy=Name,distance=D,e_distance=e_D.")] = None,
    galaxy_units: Annotated[Optional[str], typer.Option(
        help="--units of the --galaxies table, e.g. D=Mpc,e_D=Mpc.")] = None,
    bulges: Annotated[Optional[Path], typer.Option(
        help="The bulges' 3.6 μm luminosities L_bul, joined on the galaxy name: SPARC's Bulges.dat, or any table "
             "with a galaxy and an L_bul column. A galaxy without a bulge (V_bul = 0) needs no row.")] = None,
    bulge_columns: Annotated[Optional[str], typer.Option(
        help="--columns of the --bulges table, e.g. galaxy=Name,L_bul=Lb.")] = None,
    bulge_units: Annotated[Optional[str], typer.Option(
        help="--units of the --bulges table, e.g. Lb=1e9solLum.")] = None,
    allow_missing: Annotated[bool, typer.Option(
        help="Keep, with a warning, curves that have no row in the --galaxies table (without its distance, "
             "inclination, …), where they stop the ingest.")] = False,
    encoding: Annotated[Optional[str], typer.Option(
        help="Text encoding of the files, e.g. latin-1 (default: UTF-8, or as the file's byte-order mark says: "
             "UTF-16, UTF-32).")] = None,
    decimal: Annotated[Optional[str], typer.Option(
        help="The decimal mark of the numbers in delimited text, . or , (the other is then a thousands separator; "
             "default: found from the numbers, and a number that reads both ways is refused).")] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", help="astropy table format of FILE, e.g. ascii.csv (default: found from the file).")] = None,
    out: Annotated[Optional[str], typer.Option(
        help="Zarr store to write, a path or a store URL (default: cubes/rotation_curves.zarr)")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing, different dataset cube of this kind.")] = False,
    replace_kind: Annotated[bool, typer.Option(help=REPLACE_KIND)] = False,
) -> None:
    """Your rotation curves and mass models → rotation_curves cube (SPARC's variables and units)."""
    import warnings

    from sigcube.io.ingest.table_files import IngestNote, IngestWarning
    from sigcube.io.ingest.user_table import build_table_cube

    for table, option, options in ((galaxies, "--galaxies", (("--galaxy-columns", galaxy_columns),
                                                              ("--galaxy-units", galaxy_units),
                                                              ("--allow-missing", allow_missing))),
                                   (bulges, "--bulges", (("--bulge-columns", bulge_columns),
                                                         ("--bulge-units", bulge_units)))):
        given = [name for name, value in options if value]
        if table is None and given:
            raise SigcubeError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to a {option} table; "
                               f"give one with {option} FILE")
    if decimal not in (None, ".", ","):
        raise SigcubeError(f"--decimal takes . or , (the decimal mark of the file's numbers); got {decimal!r}")
    with err_console.status(f"reading {file} …"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IngestWarning)
        ds = build_table_cube(file, _pairs(columns, "--columns"), _pairs(units, "--units"), fmt,
                              galaxies=galaxies, galaxy_columns=_pairs(galaxy_columns, "--galaxy-columns"),
                              galaxy_units=_pairs(galaxy_units, "--galaxy-units"), bulges=bulges,
                              bulge_columns=_pairs(bulge_columns, "--bulge-columns"),
                              bulge_units=_pairs(bulge_units, "--bulge-units"), encoding=encoding, decimal=decimal,
                              allow_missing=allow_missing)
    for warning in caught:
        if issubclass(warning.category, IngestWarning):
            err_console.print(f"{'note' if issubclass(warning.category, IngestNote) else 'warning'}: "
                              f"{warning.message}")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    write_dataset(ds, out or default_cube("rotation_curves"), force, replace_kind)
