"""QGIS layer styles in a GeoPackage, so ``sites.gpkg`` opens styled like the HTML map.

QGIS looks for a table ``layer_styles`` in a GeoPackage (the table QGIS itself writes
with "Save as default" on a GeoPackage layer) and applies the row whose
``f_table_name`` is the layer and whose ``useAsDefault`` is true. GDAL lists that
table as a layer without geometry; census's readers open layers by name. This module writes
such rows: sites by category in the HTML map's colours (eligible: filled, 60 %
opaque; excluded: grey, dashed outline, 35 % opaque, as on the map), turbines as white
circles with a dark outline, districts as outlines. The colours are read from
:data:`census.maps.CATEGORY_COLORS` (and the map's colours for other categories) when
the file is written, so a category added to the map is styled the same in QGIS.
The outputs stage calls :func:`style_run_geopackages` for every run folder (a batch's
city folder too) before the folder is committed.

Written by hand (a few XML templates) because no maintained library writes QGIS
styles without QGIS itself, which is ~170 Debian packages and not a census dependency.

The styles are QGIS QML documents with a rule-based renderer; symbol properties are
written as ``<prop k=.. v=..>`` elements, which every QGIS 3 release reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from census.exceptions import OutputWriteError

__all__ = [
    "LAYER_STYLES_DDL",
    "categories_in_map_order",
    "districts_style_qml",
    "sites_style_qml",
    "style_run_geopackages",
    "turbines_style_qml",
    "write_layer_styles",
]

LAYER_STYLES_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  f_table_catalog TEXT(256),
  f_table_schema TEXT(256),
  f_table_name TEXT(256),
  f_geometry_column TEXT(256),
  styleName TEXT(30),
  styleQML TEXT,
  styleSLD TEXT,
  useAsDefault BOOLEAN,
  description TEXT,
  owner TEXT(30),
  ui TEXT(30),
  update_time DATETIME DEFAULT CURRENT_TIMESTAMP
)"""
"""The ``layer_styles`` table as QGIS creates it in a GeoPackage."""

# the HTML map's styles (census.maps: styleE / styleX of the site layers)
_ELIGIBLE_FILL_ALPHA = 0.6
_ELIGIBLE_LINE_ALPHA = 0.95
_EXCLUDED_FILL = "#a8a8a8"
_EXCLUDED_FILL_ALPHA = 0.35
_EXCLUDED_LINE = "#555555"
_EXCLUDED_LINE_ALPHA = 0.9
_HEADER = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def _rgba(hex_color: str, alpha: float) -> str:
    """QGIS colour string ``r,g,b,a`` (0-255) from ``#rrggbb`` and an opacity in [0, 1]."""
    h = hex_color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _props(props: Mapping[str, str]) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())


def _fill_symbol(
    name: str, *, fill: str, outline: str, outline_style: str = "solid", width_mm: float = 0.26
) -> str:
    props = {
        "color": fill,
        "joinstyle": "bevel",
        "outline_color": outline,
        "outline_style": outline_style,
        "outline_width": f"{width_mm}",
        "outline_width_unit": "MM",
        "style": "solid" if not fill.endswith(",0") else "no",
    }
    return (
        f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
        'force_rhr="0"><layer class="SimpleFill" enabled="1" locked="0" pass="0">'
        f"{_props(props)}</layer></symbol>"
    )


def _qml(renderer: str) -> str:
    return (
        _HEADER + '<qgis version="3.22.0" styleCategories="Symbology">'
        f"{renderer}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>"
        "<layerOpacity>1</layerOpacity></qgis>\n"
    )


def _expr_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def categories_in_map_order(values: Sequence[str]) -> list[str]:
    """Distinct categories in the HTML map's order: its known ones first, then sorted."""
    import pandas as pd

    from census.maps import CATEGORY_COLORS

    present = {str(v) for v in pd.unique(pd.Series(values, dtype=object)) if v is not None}
    known = [c for c in CATEGORY_COLORS if c in present]
    return known + sorted(present - set(known))


def sites_style_qml(categories: Sequence[str]) -> str:
    """QML of the site layer: one rule per category for eligible sites, one for excluded.

    Parameters
    ----------
    categories : sequence of str
        Categories in the layer, in the HTML map's order (its known categories first,
        then the others sorted), which decides the colours of unknown categories.

    Returns
    -------
    str
        A QGIS QML document (rule-based renderer on ``category`` and ``eligible``).
    """
    from census.maps import _category_color  # the map's own colours: one place to change

    rules = [
        '<rule key="excluded" symbol="0" label="Excluded (any category)" '
        'filter="NOT coalesce(&quot;eligible&quot;, 0)"/>'
    ]
    symbols = [
        _fill_symbol(
            "0",
            fill=_rgba(_EXCLUDED_FILL, _EXCLUDED_FILL_ALPHA),
            outline=_rgba(_EXCLUDED_LINE, _EXCLUDED_LINE_ALPHA),
            outline_style="dash",
        )
    ]
    for index, category in enumerate(categories):
        color = _category_color(category, index)
        sym = str(index + 1)
        expr = f'"category" = {_expr_str(str(category))} AND "eligible"'
        label = f"{str(category).replace('_', ' ').capitalize()} (eligible)"
        rules.append(
            f"<rule key={quoteattr('cat' + sym)} symbol={quoteattr(sym)} "
            f"label={quoteattr(label)} filter={quoteattr(expr)}/>"
        )
        symbols.append(
            _fill_symbol(
                sym,
                fill=_rgba(color, _ELIGIBLE_FILL_ALPHA),
                outline=_rgba(color, _ELIGIBLE_LINE_ALPHA),
            )
        )
    renderer = (
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
        f'<rules key="root">{"".join(rules)}</rules>'
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )
    return _qml(renderer)


def turbines_style_qml() -> str:
    """QML of the turbine layer: white circles with a dark outline, as on the HTML map."""
    props = {
        "color": "255,255,255,255",
        "name": "circle",
        "outline_color": "17,17,17,255",
        "outline_style": "solid",
        "outline_width": "0.4",
        "outline_width_unit": "MM",
        "size": "2.6",
        "size_unit": "MM",
    }
    renderer = (
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        '<symbols><symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
        f"{_props(props)}</layer></symbol></symbols></renderer-v2>"
    )
    return _qml(renderer)


def districts_style_qml() -> str:
    """QML of the district layer: dark outlines, no fill."""
    renderer = (
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_fill_symbol('0', fill='255,255,255,0', outline='34,34,34,230', width_mm=0.5)}"
        "</symbols></renderer-v2>"
    )
    return _qml(renderer)


def write_layer_styles(
    gpkg: str | Path, styles: Mapping[str, str], *, geometry_column: str = "geom"
) -> None:
    """Write QML styles into a GeoPackage's ``layer_styles`` table as the default styles.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        An existing GeoPackage (written by census, not yet handed to the user).
    styles : mapping of str to str
        Layer name -> QML document. A layer's earlier default styles are replaced.
    geometry_column : str, default "geom"
        Geometry column name (GDAL's default in a GeoPackage).

    Raises
    ------
    census.exceptions.OutputWriteError
        SQLite could not write (disk full, no permission, not a GeoPackage).
    """
    try:
        con = sqlite3.connect(str(gpkg))
    except sqlite3.Error as exc:
        raise _write_error(gpkg, exc) from exc
    try:
        with con:
            con.execute(LAYER_STYLES_DDL)
            # registered as an attributes table, as QGIS does, so the file stays a valid
            # GeoPackage (GDAL then lists it as a table without geometry)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                "'QGIS layer styles')"
            )
            for layer, qml in styles.items():
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                    "description, owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
                    (
                        layer,
                        geometry_column,
                        f"census {layer}",
                        qml,
                        "census: the colours of the HTML map",
                    ),
                )
    except sqlite3.Error as exc:  # disk full, read-only folder: not a traceback
        raise _write_error(gpkg, exc) from exc
    finally:
        con.close()


def _write_error(gpkg: str | Path, exc: sqlite3.Error) -> OutputWriteError:
    return OutputWriteError(
        f"Cannot write the QGIS styles into {gpkg}: {exc}. Free disk space or choose "
        "another --out on a disk with room and write permission; nothing was left "
        "half-written."
    )


def style_run_geopackages(folder: str | Path, categories: Sequence[str], *, turbines: bool) -> None:
    """Write the default QGIS styles into a run folder's ``sites.gpkg`` and ``districts.gpkg``.

    Parameters
    ----------
    folder : str or pathlib.Path
        The run folder being written (its temporary folder, before the commit).
    categories : sequence of str
        The ``category`` value of every site (or the distinct ones).
    turbines : bool
        Whether ``sites.gpkg`` has a ``turbines`` layer.
    """
    from census.io.runfolder import LAYOUT

    folder = Path(folder)
    sites = folder / LAYOUT.sites
    if sites.is_file():
        styles = {LAYOUT.sites_layer: sites_style_qml(categories_in_map_order(categories))}
        if turbines:
            styles[LAYOUT.turbines_layer] = turbines_style_qml()
        write_layer_styles(sites, styles)
    if (folder / LAYOUT.districts).is_file():
        styles = {LAYOUT.districts_layer: districts_style_qml()}
        write_layer_styles(folder / LAYOUT.districts, styles)
