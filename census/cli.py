"""The ``census`` command line (typer + rich).

Only this module sets up logging handlers. Every known problem with the inputs
ends in a one-line error and a non-zero exit code.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from census.exceptions import CensusError

__all__ = ["app", "main"]

app = typer.Typer(
    name="census",
    help="Renewable-resource census (PV and wind) for Hangzhou from geospatial layers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
data_app = typer.Typer(help="Turn real data sources into census layers.", no_args_is_help=True)
app.add_typer(data_app, name="data")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML file overriding the defaults; omit for the demo."),
]


def _setup_logging(quiet: bool, verbose: bool) -> None:
    from rich.logging import RichHandler

    level = logging.ERROR if quiet else (logging.DEBUG if verbose else logging.WARNING)
    handler = RichHandler(show_path=False, show_time=False, rich_tracebacks=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("census").setLevel(logging.INFO if verbose else level)


def _fail(exc: BaseException) -> None:
    msg = str(exc).strip() or type(exc).__name__
    typer.echo(f"census: error: {msg}", err=True)
    raise typer.Exit(code=2 if isinstance(exc, CensusError) else 1)


@app.command()
def run(
    config: ConfigOpt = None,
    district: Annotated[
        list[str] | None,
        typer.Option("--district", "-d", help="District (adcode, 中文 or English name); repeat."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder to write.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")] = False,
    zarr: Annotated[
        bool, typer.Option("--zarr", help="Also write the hourly profiles as profiles.zarr.")
    ] = False,
) -> None:
    """Run the census (the embedded Hangzhou demo without --config)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from census.pipeline import run_census

    _setup_logging(quiet, verbose)
    console = Console(stderr=True, quiet=quiet)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=quiet,
        ) as bar:
            task = bar.add_task("census", total=6)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"census: {stage}", completed=done, total=total)

            if zarr:  # same as [outputs] zarr = true
                from census.config import load_config

                config = load_config(config)
                config.config.outputs.zarr = True
            result = run_census(
                config, district or None, out_dir=out, overwrite=overwrite, progress=progress
            )
    except (CensusError, OSError) as exc:
        _fail(exc)
        return
    if quiet:
        return
    from rich.table import Table

    if result.provenance.get("synthetic_inputs"):
        console.print(f"[bold yellow]{result.provenance['note']}[/]")
    table = Table(title="Census potential by district (eligible sites)")
    for col in ("District", "区县", "Sites", "Eligible", "PV MW", "Wind MW", "GWh/yr"):
        table.add_column(col, justify="right" if col not in ("District", "区县") else "left")
    for r in result.district_totals.itertuples():
        table.add_row(
            r.name_en,
            r.name_zh,
            f"{r.sites:,}",
            f"{r.eligible_sites:,}",
            f"{r.pv_capacity_mw:,.1f}",
            f"{r.wind_capacity_mw:,.1f}",
            f"{r.energy_gwh_yr:,.1f}",
        )
    t = result.district_totals
    table.add_row(
        "Total",
        "合计",
        f"{t.sites.sum():,}",
        f"{t.eligible_sites.sum():,}",
        f"{t.pv_capacity_mw.sum():,.1f}",
        f"{t.wind_capacity_mw.sum():,.1f}",
        f"{t.energy_gwh_yr.sum():,.1f}",
        style="bold",
    )
    Console().print(table)
    for row in result.targets.itertuples():
        Console().print(
            f"target {row.target}: {row.target_mw:,.0f} MW; census potential "
            f"{row.potential_mw:,.1f} MW"
        )
    Console().print(f"outputs: {result.run_dir}")


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """Print the resolved configuration as TOML (defaults overridden by --config)."""
    from census.config import config_to_toml, load_config

    try:
        loaded = load_config(config)
    except CensusError as exc:
        _fail(exc)
        return
    typer.echo(config_to_toml(loaded.config))


@app.command()
def validate(config: ConfigOpt = None) -> None:
    """Check a configuration against its inputs: every problem `census run` would stop on."""
    from census.config import load_config
    from census.validate import format_problems, validate_config

    try:
        loaded = load_config(config)
        problems = validate_config(loaded)
    except CensusError as exc:
        _fail(exc)
        return
    if problems:
        typer.echo(format_problems(problems), err=True)
        raise typer.Exit(code=2)
    typer.echo("configuration OK: `census run` finds every input it needs")


@app.command()
def init(
    layers: Annotated[list[Path], typer.Argument(help="Your vector files (any CRS, any format).")],
    dem: Annotated[Path | None, typer.Option(help="Your DEM (GeoTIFF).")] = None,
    landcover: Annotated[
        Path | None, typer.Option(help="Your land-cover raster (ESA WorldCover classes).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Config file to write.")] = Path(
        "census.toml"
    ),
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
) -> None:
    """Write a starter config from your own layers (fields mapped, unsupported rules off)."""
    from census.starter import write_starter_config

    try:
        path = write_starter_config(
            layers, out=out, dem=dem, landcover=landcover, overwrite=overwrite
        )
    except CensusError as exc:
        _fail(exc)
        return
    typer.echo(f"written: {path}\ncheck its TODO lines, then: census validate --config {path}")


@app.command("map")
def map_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    district: Annotated[list[str] | None, typer.Option("--district", "-d")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing map files.")] = False,
) -> None:
    """Rebuild the HTML maps of a finished run without recomputing it."""
    from census.maps import maps_from_run

    try:
        paths = maps_from_run(run_dir, districts=district or None, overwrite=overwrite)
    except (CensusError, OSError) as exc:
        _fail(exc)
        return
    for p in paths:
        typer.echo(str(p))


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="First finished run folder.")],
    run_b: Annotated[Path, typer.Argument(help="Second finished run folder.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table as CSV.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
) -> None:
    """Compare two runs by district and technology (b minus a)."""
    from census.compare import compare_runs, format_comparison

    try:
        table = compare_runs(run_a, run_b)
        if out is not None and out.exists() and not overwrite:
            raise CensusError(f"{out} exists; choose another --out or pass --overwrite.")
    except (CensusError, OSError) as exc:
        _fail(exc)
        return
    typer.echo(format_comparison(table))
    if out is not None:
        from census.io.outputs import write_csv

        tmp = out.with_name(f".{out.name}.tmp")
        write_csv(tmp, table)
        tmp.replace(out)
        typer.echo(f"written: {out}")


@app.command()
def batch(
    config: ConfigOpt = None,
    districts: Annotated[
        list[str] | None,
        typer.Option("--districts", "-d", help="Districts to run (repeat), or 'all' (default)."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes of the LocalCluster.")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running dask scheduler (tcp://host:8786).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Batch folder.")] = None,
    force: Annotated[bool, typer.Option(help="Recompute districts already done.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run the census district by district on dask.distributed (resumable)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from census.batch import run_batch

    _setup_logging(quiet, False)
    wanted = None if not districts or [d.lower() for d in districts] == ["all"] else districts
    console = Console(stderr=True, quiet=quiet)
    try:
        with Progress(
            TextColumn("census batch"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=quiet,
        ) as bar:
            task = bar.add_task("batch", total=None)
            result = run_batch(
                config,
                wanted,
                out_dir=out,
                workers=workers,
                scheduler=scheduler,
                force=force,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
            )
    except (CensusError, OSError) as exc:
        _fail(exc)
        return
    if not quiet:
        typer.echo(
            f"done: {len(result.done)}, skipped (already done): {len(result.skipped)}, "
            f"failed: {len(result.failed)}"
        )
    for name, err in result.failed.items():
        typer.echo(f"census: district {name} failed: {err}", err=True)
    if result.failed:
        raise typer.Exit(code=1)
    if not quiet:
        typer.echo(f"city outputs: {result.city_dir}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder (or a batch's city).")],
    postgis: Annotated[
        str,
        typer.Option(
            help="PostgreSQL URL, e.g. postgresql://gis@dbhost:5432/planning or service=NAME; "
            "the password comes from PGPASSWORD, ~/.pgpass or pg_service.conf.",
        ),
    ],
    schema: Annotated[str, typer.Option(help="Schema to write into (created if missing).")] = (
        "census"
    ),
    run_id: Annotated[
        str | None, typer.Option(help="Key of the run in the database (default: folder name).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Export a finished run into PostGIS; exporting it again replaces only its rows."""
    from census.io.postgis import export_run, has_password

    _setup_logging(quiet, False)
    if has_password(postgis) and not quiet:
        typer.echo(
            "census: warning: the URL holds a password (it is not shown or stored); prefer "
            "PGPASSWORD, ~/.pgpass or a service file.",
            err=True,
        )
    try:
        result = export_run(run_dir, postgis, schema=schema, run_id=run_id)
    except (CensusError, OSError) as exc:
        _fail(exc)
        return
    if quiet:
        return
    for table, n in result.rows.items():
        typer.echo(f"{result.schema}.{table}: {n:,} rows")
    verb = "replaced" if result.replaced else "exported"
    typer.echo(
        f"{verb} run {result.run_id!r} in {result.target} ({sum(result.rows.values()):,} rows "
        f"in {result.seconds:.1f} s, {result.rows_per_s:,.0f} rows/s)"
    )


@data_app.command("prepare")
def data_prepare(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (new).")],
    osm: Annotated[Path | None, typer.Option(help="OpenStreetMap extract (.osm.pbf).")] = None,
    overture_buildings: Annotated[
        Path | None,
        typer.Option(help="Overture Maps buildings GeoParquet; replaces OSM's rooftops."),
    ] = None,
    dem: Annotated[list[Path] | None, typer.Option(help="DEM GeoTIFF tile; repeat.")] = None,
    landcover: Annotated[
        list[Path] | None, typer.Option(help="ESA WorldCover GeoTIFF tile; repeat.")
    ] = None,
    wind_atlas: Annotated[
        Path | None, typer.Option(help="Folder of Global Wind Atlas GeoTIFFs.")
    ] = None,
    study_area: Annotated[
        Path | None, typer.Option(help="Study-area polygons (default: the districts).")
    ] = None,
    tags: Annotated[Path | None, typer.Option(help="YAML overriding the OSM tag mapping.")] = None,
    landuse: Annotated[
        Path | None, typer.Option(help="Land-use survey extract (三调 parcels, GB/T 21010 codes).")
    ] = None,
    landuse_layer: Annotated[str, typer.Option(help="Layer of the survey parcels.")] = "DLTB",
    code_field: Annotated[str, typer.Option(help="Survey field of the land-use code.")] = "DLBM",
    id_field: Annotated[str, typer.Option(help="Survey field of the feature id.")] = "BSM",
    village_field: Annotated[str, typer.Option(help="Survey field of the village.")] = "ZLDWMC",
    landuse_crs: Annotated[
        str | None, typer.Option(help="CRS of the survey if its file declares none.")
    ] = None,
    landuse_codes: Annotated[
        Path | None, typer.Option(help="YAML overriding the land-use code table.")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
) -> None:
    """Build census layers and a config (census.toml) from OSM, Overture, land use, DEM, ..."""
    import warnings as _warnings

    from census.prepare import prepare_data

    _setup_logging(False, False)
    try:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always", UserWarning)
            result = prepare_data(
                osm=osm,
                overture_buildings=overture_buildings,
                dem=dem or [],
                landcover=landcover or [],
                wind_atlas=wind_atlas,
                study_area=study_area,
                out=out,
                overwrite=overwrite,
                tags=tags,
                landuse=landuse,
                landuse_layer=landuse_layer or None,
                landuse_code_field=code_field,
                landuse_id_field=id_field,
                landuse_village_field=village_field or None,
                landuse_crs=landuse_crs,
                landuse_codes=landuse_codes,
            )
    except (CensusError, OSError) as exc:
        _fail(exc)
        return
    for w in caught:
        typer.echo(f"census: warning: {w.message}", err=True)
    for name, n in sorted(result.counts.items()):
        typer.echo(f"{name}: {n:,} features")
    typer.echo(f"config: {result.config}\nrun it with: census run --config {result.config}")


def _terminate(signum: int, frame: object) -> None:
    # turn SIGTERM into an exception so that open run folders are removed on the way out
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``census`` console script."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        typer.echo("census: interrupted; no partial outputs were left.", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
