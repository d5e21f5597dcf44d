"""``census init``: a starter configuration written from a planner's own layers.

:func:`inspect_layers` reads what each file holds (layers, geometry type, CRS,
columns; any CRS and any driver pyogrio reads), guesses whether it is a site layer
(and its category) or an exclusion layer from its name, and maps the fields the
default screening rules need onto its columns. :func:`starter_config` then writes a
TOML file that lists, per category, each default rule with the fields and layers it
needs, and switches off (``disabled_rules``) what the data cannot support, each with
a comment saying why and how to switch it back on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from census.exceptions import CensusError, InputError, OutputExistsError

__all__ = ["LayerInfo", "inspect_layers", "starter_config", "write_starter_config"]

# words in a layer's or file's name -> site category (checked in this order)
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rooftop", ("roof", "building", "bldg", "屋顶", "建筑")),
    ("pond", ("pond", "fishpond", "pit_pond", "坑塘", "鱼塘", "水塘")),
    ("mine", ("mine", "quarry", "矿")),
    ("landfill", ("landfill", "dump", "填埋")),
    ("forest", ("forest", "woodland", "林地", "山林")),
    ("mudflat", ("mudflat", "tidal", "滩涂")),
    ("agri", ("agri", "greenhouse", "大棚", "设施农")),
    ("sewage_cover", ("sewage", "wastewater", "wwtp", "污水")),
)

# words -> exclusion layer names the default rules use
_EXCLUSION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("roads", ("road", "highway", "street", "道路", "公路")),
    ("protected_areas", ("protected", "reserve", "保护区", "自然保护")),
    ("drinking_water", ("drinking", "water_source", "水源")),
    ("ecological_redline", ("redline", "red_line", "生态红线", "生态保护红线")),
    ("scenic_areas", ("scenic", "heritage", "风景")),
    ("airport", ("airport", "机场")),
    ("seawalls", ("seawall", "dyke", "dike", "海塘", "海堤")),
    ("navigation_channels", ("navigation", "channel", "航道")),
    ("residential", ("residential", "settlement", "居民")),
    ("gas_infrastructure", ("gas", "燃气")),
)

# census field -> other column names that mean it (lower case)
_FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "water_use": ("water_use", "wateruse", "water_type", "用途", "水体用途"),
    "status": ("status", "state", "condition", "状态"),
    "closed_year": ("closed_year", "closure_year", "close_year", "year_closed", "封场年份"),
    "forest_type": ("forest_type", "foresttype", "land_type", "dlbm", "地类编码", "森林类型"),
    "shrub_cover_frac": ("shrub_cover_frac", "shrub_cover", "cover_frac", "覆盖度"),
    "forest_class": ("forest_class", "forestclass", "lz", "林种"),
    "roof_type": ("roof_type", "rooftype", "roof", "屋顶类型"),
    "roof_pitch_deg": ("roof_pitch_deg", "roof_pitch", "pitch", "坡度"),
}

_ID_NAMES = ("id", "fid", "site_id", "objectid", "code", "编号")


@dataclass
class LayerInfo:
    """What one layer of a user's file holds, and what census makes of it.

    Attributes
    ----------
    path : pathlib.Path
    layer : str or None
        Layer name inside a multi-layer file.
    name : str
        Config name of the layer (``[layers.<name>]`` or ``[exclusions.<name>]``).
    geometry_type : str
    crs : str or None
        The file's CRS as ``AUTH:CODE`` (or WKT) ; None when it has none.
    columns : list of str
    features : int
    category : str or None
        Site category (site layers).
    exclusion : str or None
        Exclusion layer name the default rules use (exclusion layers).
    fields : dict of str to str
        census field -> the layer's column, for fields the rules need.
    id_field : str or None
    """

    path: Path
    layer: str | None
    name: str
    geometry_type: str
    crs: str | None
    columns: list[str]
    features: int
    category: str | None = None
    exclusion: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    id_field: str | None = None


def _match(words: tuple[tuple[str, tuple[str, ...]], ...], text: str) -> str | None:
    text = text.lower()
    for key, keys in words:
        if any(k in text for k in keys):
            return key
    return None


def _slug(text: str) -> str:
    slug = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_").lower()
    return slug or "layer"


def _crs_text(crs) -> str | None:
    if crs is None:
        return None
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else c.to_wkt()


def inspect_layers(paths: list[Path]) -> list[LayerInfo]:
    """Read the layers of a user's files and guess what each one is.

    Parameters
    ----------
    paths : list of pathlib.Path
        Vector files (every layer of a multi-layer file is inspected).

    Returns
    -------
    list of LayerInfo

    Raises
    ------
    InputError
        A file that does not exist or that pyogrio cannot read.
    """
    import pyogrio

    out: list[LayerInfo] = []
    used: set[str] = set()
    for path in paths:
        path = Path(path).expanduser().resolve()
        if not path.exists():
            raise InputError(f"Layer file not found: {path}.")
        try:
            layers = [str(n) for n, _ in pyogrio.list_layers(path)]
        except (pyogrio.errors.DataSourceError, OSError) as exc:
            raise InputError(f"Cannot read {path} as a vector file: {exc}") from exc
        for layer in layers:
            try:
                info = pyogrio.read_info(path, layer=layer if len(layers) > 1 else None)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                raise InputError(f"Cannot read layer '{layer}' of {path}: {exc}") from exc
            label = f"{path.stem} {layer}"
            name = _slug(layer if len(layers) > 1 else path.stem)
            while name in used:
                name += "_2"
            used.add(name)
            geom = str(info.get("geometry_type") or "")
            columns = [str(c) for c in info["fields"]]
            li = LayerInfo(
                path=path,
                layer=layer if len(layers) > 1 else None,
                name=name,
                geometry_type=geom,
                crs=_crs_text(info.get("crs")),
                columns=columns,
                features=int(info.get("features") or 0),
            )
            category = _match(_CATEGORY_WORDS, label)
            if category is not None and "polygon" in geom.lower():
                li.category = category
            else:
                li.exclusion = _match(_EXCLUSION_WORDS, label)
            lower = {c.lower(): c for c in columns}
            for census_name, names in _FIELD_SYNONYMS.items():
                hit = next((lower[n] for n in names if n in lower), None)
                if hit is not None:
                    li.fields[census_name] = hit
            li.id_field = next((lower[n] for n in _ID_NAMES if n in lower), None) or next(
                (c for c in columns if c.lower().endswith("_id")), None
            )
            out.append(li)
    return out


def _q(value) -> str:
    """TOML literal of a str, number, bool or list."""
    import tomli_w

    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def _rel(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(Path(path).resolve())


def starter_config(
    layers: list[LayerInfo],
    *,
    dem: Path | None = None,
    landcover: Path | None = None,
    base: Path = Path("."),
) -> str:
    """Return the text of a starter config for these layers.

    Parameters
    ----------
    layers : list of LayerInfo
        From :func:`inspect_layers`.
    dem, landcover : pathlib.Path, optional
        The user's DEM and land-cover rasters.
    base : pathlib.Path
        Folder the config is written to (paths are written relative to it).

    Returns
    -------
    str
        TOML text with a comment on every choice.
    """
    from census.config import load_config
    from census.sites.registry import rule_needs

    defaults = load_config().config.rules
    sites = [li for li in layers if li.category]
    excl = [li for li in layers if li.exclusion]
    other = [li for li in layers if not li.category and not li.exclusion]
    lines = [
        "# census starter config, written by `census init` from your layers.",
        "# Check every line marked TODO, then: census validate --config THIS_FILE",
        "# Everything not set here (rules, PV, wind, targets, study area, weather) is the",
        "# packaged default: `census config show --config THIS_FILE` prints all of it.",
        "# Your [layers] and [exclusions] replace the demo's whole.",
        "",
    ]
    for li in sites:
        lines.append(
            f"# {li.path.name}{':' + li.layer if li.layer else ''}: {li.features:,} "
            f"{li.geometry_type} features, CRS {li.crs or 'NONE (TODO: set crs)'}, "
            f"columns {li.columns}"
        )
        lines.append(f"[layers.{li.name}]")
        lines.append(f"path = {_q(_rel(li.path, base))}")
        if li.layer:
            lines.append(f"layer = {_q(li.layer)}")
        if li.crs is None:
            lines.append('crs = "EPSG:4326"  # TODO: the file has no CRS; give the right one')
        lines.append(f"category = {_q(li.category)}")
        if li.id_field:
            lines.append(f"id_field = {_q(li.id_field)}")
        needed = {n.name for n in rule_needs(defaults.categories[li.category])}
        mapped = {k: v for k, v in li.fields.items() if k in needed}
        if mapped:
            lines.append(f"fields = {{ {', '.join(f'{k} = {_q(v)}' for k, v in mapped.items())} }}")
        lines.append("")
    for li in other:
        lines.append(
            f"# {li.path.name}{':' + li.layer if li.layer else ''} ({li.geometry_type}, "
            f"columns {li.columns}): census could not tell what it is from its name."
        )
        lines.append(
            "# TODO: make it a site layer ([layers.<name>] with a category) or an exclusion "
            "layer ([exclusions.<name>])."
        )
        lines.append("")
    lines.append("# Exclusion layers: the screening rules name them by these keys.")
    lines.append("[exclusions]")
    used = {
        n.name
        for li in sites
        for n in rule_needs(defaults.categories[li.category])
        if n.kind == "exclusion"
    }
    for li in excl:
        if li.exclusion not in used:
            lines.append(
                f"# {li.path.name}: no default rule of your categories uses '{li.exclusion}'; "
                "add one under [rules.categories.<name>] exclusions to use it"
            )
        lines.append(f"[exclusions.{li.exclusion}]")
        lines.append(f"path = {_q(_rel(li.path, base))}")
        if li.layer:
            lines.append(f"layer = {_q(li.layer)}")
        if li.crs is None:
            lines.append('crs = "EPSG:4326"  # TODO: the file has no CRS; give the right one')
    lines.append("")
    lines.append("[terrain]")
    lines.append(f"dem = {_q(_rel(dem, base))}" if dem else 'dem = ""  # no DEM given')
    lines.append(
        f"landcover = {_q(_rel(landcover, base))}"
        if landcover
        else 'landcover = ""  # no land-cover raster given'
    )
    lines.append("")
    if not any(li.category == "mudflat" for li in sites):
        lines.append("[wind.resource]")
        lines.append('atlas_dir = ""  # no wind sites: the demo\'s synthetic wind atlas is off')
        lines.append("")
    given_excl = {li.exclusion for li in excl}
    for category in dict.fromkeys(li.category for li in sites):
        rules = defaults.categories[category]
        layer_cols = set()
        fields_mapped: set[str] = set()
        for li in sites:
            if li.category == category:
                layer_cols |= set(li.columns)
                fields_mapped |= set(li.fields)
        lines.append(f"# Rules of category '{category}' (defaults in census/resources/rules.yaml):")
        lines.append(
            "#   area, setbacks, coverage: need only the geometry (min_area_m2 "
            f"{rules.min_area_m2:g} m2, edge_setback_m {rules.edge_setback_m:g} m, "
            f"coverage_cap_frac {rules.coverage_cap_frac:g})"
        )
        disabled: list[tuple[str, str]] = []
        for need in rule_needs(rules):
            if need.kind == "field":
                ok = need.name in fields_mapped or need.name in layer_cols
                state = "mapped" if ok else "MISSING"
                lines.append(
                    f"#   {need.family}/{need.code}: field '{need.name}' ({state})"
                    + (f"; {need.note}" if need.note else "")
                )
                if not ok and need.required:
                    disabled.append(
                        (
                            need.code,
                            f"your layer has no field for '{need.name}' (columns: "
                            f"{sorted(layer_cols)}); map one with fields.{need.name} = "
                            '"<column>" and remove this code',
                        )
                    )
                if (
                    need.family == "forest_type"
                    and need.name == "forest_type"
                    and not ok
                    and landcover is None
                ):
                    disabled.append(
                        (
                            "forest_type",
                            "neither a forest_type field nor a land-cover raster: the "
                            "forest-land rule of 自然资办发〔2023〕12号 is NOT applied (TODO)",
                        )
                    )
            elif need.kind == "exclusion":
                ok = need.name in given_excl
                lines.append(
                    f"#   {need.family}/{need.code}: exclusion layer '{need.name}' "
                    f"({'given' if ok else 'not given'})"
                )
                if not ok and need.required:
                    disabled.append(
                        (
                            need.code,
                            f"no '{need.name}' layer given: add [exclusions.{need.name}] and "
                            "remove this code",
                        )
                    )
            elif need.kind == "raster":
                given = dem if need.name == "dem" else landcover
                lines.append(
                    f"#   {need.family}/{need.code}: raster '{need.name}' "
                    f"({'given' if given else 'not given'})"
                )
                if given is None and need.family in ("terrain", "land_cover"):
                    disabled.append((need.family, f"no {need.name} given"))
        uniq = list(dict.fromkeys(disabled))
        lines.append(f"[rules.categories.{category}]")
        if uniq:
            lines.append("disabled_rules = [")
            for code, why in uniq:
                lines.append(f"    {_q(code)},  # {why}")
            lines.append("]")
        else:
            lines.append("disabled_rules = []  # your data supports every default rule")
        lines.append("")
    return "\n".join(lines)


def write_starter_config(
    layers: list[Path],
    *,
    out: Path,
    dem: Path | None = None,
    landcover: Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Inspect ``layers`` and write a starter config to ``out``.

    Raises
    ------
    OutputExistsError
        ``out`` exists and ``overwrite`` is False.
    InputError
        A layer or raster that cannot be read.
    """
    out = Path(out).expanduser().resolve()
    if out.exists() and not overwrite:
        raise OutputExistsError(
            f"{out} exists; choose another --out or pass --overwrite to replace it."
        )
    for raster in (dem, landcover):
        if raster is not None and not Path(raster).exists():
            raise InputError(f"Raster file not found: {raster}.")
    info = inspect_layers(layers)
    sites = [li for li in info if li.category]
    if not sites:
        raise InputError(
            "none of the layers looks like a site layer (polygons named like ponds, mines, "
            "landfills, forest, rooftops or mudflats); rename the files or write the "
            "[layers.<name>] tables by hand (see `census config show`)."
        )
    text = starter_config(info, dem=dem, landcover=landcover, base=out.parent)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CensusError(f"Cannot write {out}: {exc}") from exc
    return out
