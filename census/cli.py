"""The ``census`` command line (typer + rich).

Only this module sets up logging handlers. Every known problem with the inputs
ends in a one-line error and a non-zero exit code.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from census.exceptions import CensusError, ConfigError, OutputExistsError
from census.redact import RedactFilter, redact

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
    """Send log records to stderr (results alone go to stdout).

    ``--quiet`` filters at the handler, not at census's logger, so that a run still
    records every warning in its provenance (and the count the CLI prints).
    """
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True), show_path=False, show_time=False, rich_tracebacks=False
    )
    handler.setLevel(logging.ERROR if quiet else (logging.DEBUG if verbose else logging.WARNING))
    handler.addFilter(RedactFilter())  # no password in any line census prints
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("census").setLevel(logging.INFO if verbose else logging.WARNING)


def _fail(exc: BaseException) -> None:
    msg = redact(str(exc).strip()) or type(exc).__name__
    typer.echo(f"census: error: {msg}", err=True)
    raise typer.Exit(code=2)


INTERRUPTED = "census: interrupted, nothing written"


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every known failure of a command into one line on stderr and an exit code.

    A census error or an OS error: ``census: error: ...`` and exit code 2. Ctrl-C
    (or SIGTERM): the open run folder has already removed its temporary files on
    the way out; exit with 130 (:func:`main` says that nothing was written).
    """
    try:
        yield
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not add noise
        raise typer.Exit(code=130) from None
    except (CensusError, OSError) as exc:
        _fail(exc)


def _warning_count(result_warnings: list[str], where: Path | None) -> None:
    n = len(result_warnings)
    place = f" (listed in {where / 'provenance.json'})" if where is not None else ""
    typer.echo(f"census: {n} warning{'s' if n != 1 else ''}{place}", err=True)


def _zones_option(
    current: Any, zones: str | None, field: str | None, population_field: str | None
) -> Any:
    """Return ``[zones]`` with the CLI's --zones FILE[:LAYER], --zone-field, --population-field."""
    from census.config import ZonesConfig

    update = current.model_dump()
    if zones:
        path, _, layer = zones.partition(":") if not Path(zones).exists() else (zones, "", "")
        update.update(path=Path(path), layer=layer or None)
    if field:
        update["field"] = field
    if population_field:
        update["population_field"] = population_field
    try:
        return ZonesConfig.model_validate(update)
    except ValueError as exc:
        raise ConfigError(f"--zones: {exc}. Give --zone-field NAME with --zones.") from exc


@app.command()
def run(
    config: ConfigOpt = None,
    district: Annotated[
        list[str] | None,
        typer.Option("--district", "-d", help="District (adcode, 中文 or English name); repeat."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder to write.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors and a warning count.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of report, workbook, maps and this table: zh, en or auto "
            "(default: [outputs] language, auto = Chinese for a study area in China).",
        ),
    ] = None,
    zarr: Annotated[
        bool, typer.Option("--zarr", help="Also write the hourly profiles as profiles.zarr.")
    ] = False,
    zones: Annotated[
        str | None,
        typer.Option(
            "--zones", help="Zone polygons FILE[:LAYER] (villages, parks) for summary_by_zone.csv."
        ),
    ] = None,
    zone_field: Annotated[
        str | None, typer.Option("--zone-field", help="Zone key column of --zones.")
    ] = None,
    population_field: Annotated[
        str | None,
        typer.Option("--population-field", help="Zone column with population (kW per person)."),
    ] = None,
) -> None:
    """Run the census (the embedded Hangzhou demo without --config)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from census.pipeline import run_census

    _setup_logging(quiet, verbose)
    console = Console(stderr=True, quiet=quiet)
    with _errors():
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=quiet,
        ) as bar:
            task = bar.add_task("census", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"census: {stage}", completed=done, total=total)

            if zarr or zones or zone_field or population_field:
                from census.config import load_config

                config = load_config(config)
                if zarr:  # same as [outputs] zarr = true
                    config.config.outputs.zarr = True
                if zones or zone_field or population_field:  # same as a [zones] table
                    config.config.zones = _zones_option(
                        config.config.zones, zones, zone_field, population_field
                    )
            result = run_census(
                _with_language(config, lang),
                district or None,
                out_dir=out,
                overwrite=overwrite,
                progress=progress,
            )
    if quiet:
        _warning_count(result.warnings, result.run_dir)
        return
    _print_result(result, console)
    _print_exported(result.provenance)


def _print_exported(provenance: dict[str, Any]) -> None:
    """Say where ``[outputs] postgis`` exported the run (it raised if it could not)."""
    outputs = (provenance.get("config") or {}).get("outputs") or {}
    if outputs.get("postgis"):
        schema = outputs.get("postgis_schema")
        typer.echo(f"exported to PostGIS: {redact(outputs['postgis'])}, schema {schema}")


def _with_language(config: Path | None, lang: str | None):  # noqa: ANN202 - LoadedConfig or Path
    """Apply ``--lang`` to the configuration (``[outputs] language``)."""
    if lang is None:
        return config
    from census.config import load_config
    from census.exceptions import ConfigError

    if lang.strip().lower() not in ("zh", "en", "auto"):
        raise ConfigError(f"--lang must be zh, en or auto; got {lang!r}.")
    loaded = config if hasattr(config, "config") else load_config(config)
    loaded.config.outputs.language = lang.strip().lower()  # type: ignore[assignment]
    return loaded


def _print_result(result, console) -> None:  # noqa: ANN001 - CensusResult, rich Console
    """Print the district table and the targets in the run's language."""
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from census.i18n import Translator, format_cell, localize_table

    tr = Translator(result.provenance.get("language") or "en")
    if result.provenance.get("synthetic_inputs"):
        note = tr("report.synthetic_note") if tr.zh else result.provenance["note"]
        console.print(f"[bold yellow]{note}[/]")
    totals = result.district_totals
    cols = ["name_en", "name_zh", "sites", "eligible_sites", "pv_capacity_mw"]
    cols += ["wind_capacity_mw", "energy_gwh_yr"]
    total = {c: totals[c].sum() for c in cols[2:]}
    total.update(name_en="Total", name_zh=tr("cli.total"))
    shown = pd.concat([totals[cols], pd.DataFrame([total])], ignore_index=True)
    local = localize_table(shown, tr)
    table = Table(title=tr("cli.table_title"))
    for col, head in zip(local.columns, local.headers, strict=True):
        table.add_column(head, justify="left" if col.startswith("name_") else "right")
    rows = list(local.frame.itertuples(index=False, name=None))
    for i, rec in enumerate(rows):
        cells = [format_cell(k, v) for k, v in zip(local.formats, rec, strict=True)]
        table.add_row(*cells, style="bold" if i == len(rows) - 1 else None)
    Console().print(table)
    for row in result.targets.itertuples():
        Console().print(
            tr(
                "cli.target",
                target=tr.code("target", row.target),
                target_mw=_mw(row.target_mw, tr),
                potential_mw=_mw(row.potential_mw, tr),
            )
        )
    Console().print(tr("cli.outputs", path=result.run_dir))


def _mw(mw: float, tr) -> str:  # noqa: ANN001 - Translator
    """Capacity in 万千瓦 alongside MW (Chinese) or in MW."""
    from census.units import mw_to_wan_kw

    if tr.zh:
        return f"{mw_to_wan_kw(float(mw)):,.1f} {tr.term('unit.wan_kw')}（{mw:,.1f} MW）"
    return f"{mw:,.1f} MW"


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

    with _errors():
        paths = maps_from_run(run_dir, districts=district or None, overwrite=overwrite)
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
    from census.io.outputs import write_csv
    from census.io.runfolder import write_file_atomic

    with _errors():
        table = compare_runs(run_a, run_b)
        if out is not None and out.exists() and not overwrite:
            raise OutputExistsError(f"{out} exists; choose another --out or pass --overwrite.")
    typer.echo(format_comparison(table))
    if out is not None:
        with _errors():
            write_file_atomic(out, lambda tmp: write_csv(tmp, table))
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
    province: Annotated[
        Path | None,
        typer.Option(
            help="Province TOML listing cities (each a census config): runs them all and "
            "writes <out>/cities/<city>/ and <out>/province/ (docs/scale.md).",
        ),
    ] = None,
) -> None:
    """Run the census district by district on dask.distributed (resumable)."""
    from rich.console import Console

    from census.batch import run_batch

    _setup_logging(quiet, False)
    wanted = None if not districts or [d.lower() for d in districts] == ["all"] else districts
    console = Console(stderr=True, quiet=quiet)
    if province is not None:
        if config is not None or districts:
            typer.echo(
                "census: --province lists each city's config and districts; leave --config "
                "and --districts out.",
                err=True,
            )
            raise typer.Exit(code=2)
        _batch_province(province, out, workers, scheduler, force, quiet, console)
        return
    with _errors():
        with _count_bar("census batch", console, quiet) as (bar, task):
            result = run_batch(
                config,
                wanted,
                out_dir=out,
                workers=workers,
                scheduler=scheduler,
                force=force,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
            )
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
        from census.io.runfolder import open_run

        typer.echo(f"city outputs: {result.city_dir}")
        _print_exported(open_run(result.city_dir).provenance())  # [outputs] postgis


@contextmanager
def _count_bar(label: str, console: Any, quiet: bool) -> Iterator[tuple[Any, Any]]:
    """Show a transient "done of total" progress bar on stderr (off with --quiet)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as bar:
        yield bar, bar.add_task(label, total=None)


def _batch_province(
    province: Path,
    out: Path | None,
    workers: int,
    scheduler: str | None,
    force: bool,
    quiet: bool,
    console: Any,
) -> None:
    """``census batch --province``: every city's districts on one cluster, then roll-ups."""
    from census.batch import run_province

    with _errors():
        with _count_bar("census batch --province", console, quiet) as (bar, task):
            result = run_province(
                province,
                out_dir=out,
                workers=workers,
                scheduler=scheduler,
                force=force,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
            )
    from census.io.runfolder import LAYOUT, open_run

    for name, res in result.cities.items():
        if not quiet:
            typer.echo(
                f"{name}: done {len(res.done)}, skipped (already done) {len(res.skipped)}, "
                f"failed {len(res.failed)}; city outputs: {res.city_dir}"
            )
            if res.city_dir is not None:
                _print_exported(open_run(res.city_dir).provenance())  # [outputs] postgis
    for name, err in result.failed.items():
        typer.echo(f"census: district {name} failed: {err}", err=True)
    if result.failed:
        raise typer.Exit(code=1)
    if not quiet:
        typer.echo(f"province outputs: {result.province_dir}")
        if result.province_dir is not None:
            typer.echo(f"province map: {result.province_dir / LAYOUT.city_map}")


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
    with _errors():
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
    for w in caught:
        typer.echo(f"census: warning: {w.message}", err=True)
    for name, n in sorted(result.counts.items()):
        typer.echo(f"{name}: {n:,} features")
    typer.echo(f"config: {result.config}\nrun it with: census run --config {result.config}")


def _quiet_exit() -> None:
    """Before the process exits on Ctrl-C: no second interruption, no noise from writers.

    A writer stopped half-way (openpyxl's write-only sheets are lxml generators) is
    closed when the interpreter tears it down and reports "Exception ignored in ...";
    the run folder holding its file is already gone, so there is nothing to report.
    Only :func:`main` calls this, as the process ends (not a command run in-process).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.unraisablehook = lambda unraisable: None


def _terminate(signum: int, frame: object) -> None:
    # turn SIGTERM into an exception so that open run folders are removed on the way out
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``census`` console script."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130:  # Ctrl-C or SIGTERM, wherever it landed (typer exits with 130)
            _quiet_exit()
            typer.echo(interrupted_message(), err=True)
        elif not exc.code:
            # the command is done and said so: a Ctrl-C while the interpreter shuts down
            # (about 0.5 s after a run) must not turn its exit status into 130
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise


def interrupted_message() -> str:
    """Say what an interruption left: nothing, or the run folders finished before it."""
    from census.io.runfolder import COMMITTED

    if not COMMITTED:
        return INTERRUPTED
    last = COMMITTED[-1]
    if len(COMMITTED) == 1:
        return (
            f"census: interrupted after {last} was written (it is complete; a PostGIS "
            "export, if one was running, was not: run `census export` on it); nothing "
            "half-written is left"
        )
    return (
        f"census: interrupted; the {len(COMMITTED)} run folders finished before it are "
        f"complete (last: {last}; `census batch` reruns only what is missing); nothing "
        "half-written is left"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
