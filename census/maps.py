r"""Candidate-site maps: self-contained, offline, safe HTML built with folium.

One map for the city and one per district. Each map has a layer per site
category (toggled in the layer control), eligible and excluded sites styled
apart, wind-turbine points, district boundaries labelled in Chinese and English
with their totals, a legend, popups with each site's numbers and fitted bounds.

Offline
    Every JavaScript and CSS asset is inlined from Python packages: Leaflet
    (JS, CSS and its images as ``data:`` URIs) comes from ``XStatic-Leaflet``.
    folium's other default assets (jQuery, Bootstrap, Font Awesome,
    Leaflet.awesome-markers) are not used by these maps and are left out, so
    nothing is fetched from a CDN. Base tiles are optional: give a URL template
    (``tiles=``) or none; without tiles the map still shows boundaries and sites.

Safety
    Text from input data never reaches an HTML parser unescaped. Popups and
    tooltips are built in the browser with ``textContent`` from JSON that is
    escaped for a ``<script>`` element (``<``, ``>``, ``&``, U+2028 and U+2029
    as ``\uXXXX``); titles, legend entries and layer names are written into the
    page with :func:`html.escape`. (folium's own ``GeoJsonPopup`` and
    ``GeoJsonTooltip`` insert property values with ``innerHTML`` unescaped, so
    they are not used here.)

Scale
    Geometry is simplified in the metric CRS and coordinates are rounded before
    they are written. A category with more than ``max_sites_detail`` sites is
    drawn, below ``detail_min_zoom``, as square cells that aggregate its sites
    (count, eligible count, capacity, energy); single sites are drawn only at
    ``detail_min_zoom`` and above, for the cells in view, on a canvas renderer.
    See ``benchmarks/RESULTS.md`` for file size and load time of 100,000 sites.

All geometry inputs are in the metric CRS (:data:`census.crs.METRIC_CRS`,
EPSG:4549); they are reprojected to :data:`census.crs.DISPLAY_CRS` for display
only.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from census.crs import DISPLAY_CRS, METRIC_CRS, require_crs, transformer
from census.exceptions import OutputExistsError, SchemaError
from census.i18n import Translator, district_names, load_terms
from census.io.runfolder import LAYOUT, open_run, register_files
from census.schema import require_columns
from census.units import capacity_factor_to_full_load_hours, mwh_to_gwh

__all__ = [
    "CATEGORY_COLORS",
    "build_map",
    "district_map_filename",
    "embedded_assets",
    "maps_from_run",
    "save_map",
    "write_maps",
    "zones_by_district",
]

logger = logging.getLogger(__name__)

CATEGORY_COLORS: dict[str, str] = {
    "rooftop": "#d95f02",
    "pond": "#1f78b4",
    "mine": "#6a3d9a",
    "landfill": "#8c510a",
    "forest": "#1b9e77",
    "mudflat": "#e6ab02",
    "agri": "#7fbc41",
    "park_rooftop": "#b2182b",
    "sewage_cover": "#01665e",
    "facade": "#c51b7d",
}
"""Fill colour of each known site category; other categories get :data:`_EXTRA_COLORS`."""

_EXTRA_COLORS = ("#e7298a", "#66a61e", "#a6761d", "#386cb0", "#f0027f", "#bf5b17", "#17becf")

_SITE_REQUIRED = ("site_id", "category", "eligible")
_DISTRICT_REQUIRED = ("adcode", "name_zh", "name_en")
_TURBINE_REQUIRED = ("site_id", "turbine_id")

# (column, label, unit, decimals); decimals None marks a text column.
_SITE_FIELDS: tuple[tuple[str, str, str, int | None], ...] = (
    ("district", "District", "", None),
    ("technology", "Technology", "", None),
    ("area_m2", "Area", "m²", 0),
    ("usable_area_m2", "Usable area", "m²", 0),
    ("capacity_mw_dc", "Capacity", "MW", 3),
    ("energy_mwh_yr", "Energy", "MWh/yr", 1),
    ("specific_yield_kwh_kwp", "Specific yield", "kWh/kWp/yr", 0),
    ("capacity_factor", "Capacity factor", "", 3),
    ("n_turbines", "Turbines", "", 0),
    ("exclusion_reasons", "Reasons for exclusion", "", None),
    ("clipped_by", "Clipped by", "", None),
)
_DISTRICT_FIELDS: tuple[tuple[str, str, str, int | None], ...] = (
    ("capacity_mw_dc", "Capacity", "MW", 1),
    ("pv_capacity_mw", "PV capacity", "MW", 1),
    ("wind_capacity_mw", "Wind capacity", "MW", 1),
    ("energy_gwh_yr", "Energy", "GWh/yr", 1),
    ("eligible_sites", "Eligible sites", "", 0),
)

_COORD_DECIMALS = 5
"""Decimals kept in displayed longitudes and latitudes (1e-5 deg is about 1 m)."""

_CENTROID_X, _CENTROID_Y = "_centroid_x_m", "_centroid_y_m"
"""Optional site columns: the centroid in the sites' metric CRS (saves recomputing it). [m]"""

_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}

_REMOTE_TAG = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)
_REMOTE_CSS = re.compile(r"(?:url\(\s*[\"']?\s*(?:https?:)?//|@import)", re.IGNORECASE)


# --------------------------------------------------------------------------- assets


def _xstatic_leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as xs_leaflet
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "census maps embed Leaflet from the XStatic-Leaflet package so that they open "
            "offline; install it with: pip install 'xstatic-leaflet>=1.9.3'"
        ) from err
    return Path(xs_leaflet.BASE_DIR)


@cache
def _leaflet_assets() -> tuple[str, str]:
    """Return Leaflet's (JS, CSS) text, CSS images inlined as ``data:`` URIs."""
    base = _xstatic_leaflet_dir()
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith("#") or ref.startswith("data:"):
            return match.group(0)
        path = base / ref
        if not path.is_file():
            raise FileNotFoundError(f"Leaflet CSS refers to {ref}, not found in {base}")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    css = re.sub(r"url\(([^)]*)\)", inline, css)
    return js.replace("</script", "<\\/script"), css.replace("</style", "<\\/style")


def embedded_assets() -> dict[str, str]:
    """Return the JS and CSS texts that every map embeds, by name.

    Returns
    -------
    dict of str to str
        ``leaflet.js``, ``leaflet.css``, ``census.js`` and ``census.css``.
    """
    js, css = _leaflet_assets()
    return {
        "leaflet.js": js,
        "leaflet.css": css,
        "census.js": _CENSUS_JS,
        "census.css": _CENSUS_CSS,
    }


_CENSUS_CSS = """
.census-title{position:fixed;top:10px;left:50%;transform:translateX(-50%);z-index:1001;
 background:rgba(255,255,255,.92);padding:4px 12px;border-radius:4px;
 font:600 15px/1.3 system-ui,sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:60%;
 text-align:center}
.census-banner{display:block;margin-top:3px;padding:2px 8px;background:#b30000;color:#fff;
 font-weight:700;font-size:13px;border-radius:3px}
.census-legend{position:fixed;bottom:24px;right:10px;z-index:1001;background:rgba(255,255,255,.94);
 padding:6px 10px;border-radius:4px;font:12px/1.5 system-ui,sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:45vh;overflow:auto}
.census-legend h4{margin:0 0 3px;font-size:13px}
.census-legend .sw{display:inline-block;width:14px;height:10px;margin-right:6px;
 vertical-align:middle;border:1px solid #333}
.census-legend .pt{display:inline-block;width:8px;height:8px;margin:0 9px 0 3px;border-radius:50%;
 border:2px solid #222;background:#fff;vertical-align:middle}
.census-legend .ln{display:inline-block;width:14px;height:0;margin-right:6px;vertical-align:middle;
 border-top:2px solid #222}
.census-legend .note{color:#555;max-width:220px}
.leaflet-container{background:#f4f2ec}
.census-popup{font:12px/1.4 system-ui,sans-serif;min-width:200px}
.census-popup .t{font-weight:700;font-size:13px}
.census-popup .s{color:#555;margin-bottom:3px}
.census-popup .ok{color:#1a7f37;font-weight:700}
.census-popup .no{color:#b30000;font-weight:700}
.census-popup table{border-collapse:collapse}
.census-popup th{text-align:left;font-weight:600;padding:1px 8px 1px 0;vertical-align:top}
.census-popup td{padding:1px 0;text-align:right}
.census-popup td.txt{text-align:left;max-width:220px}
.census-label{background:none;border:none}
.census-label div{transform:translate(-50%,-50%);white-space:nowrap;text-align:center;
 font:600 12px/1.2 system-ui,sans-serif;color:#222;cursor:pointer;
 text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff}
.census-label .en{font-weight:400}
.census-label .tot{font-weight:400;color:#444;font-size:11px}
"""

# The browser side. Data arrive as JSON in <script type="application/json"> elements;
# every text from the data enters the page through textContent only.
_CENSUS_JS = r"""
(function () {
  "use strict";
  var census = window.census = window.census || {};
  census.maps = census.maps || [];
  census.isReady = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) { return null; }
    if (typeof v !== "number") { return String(v); }
    return v.toLocaleString("en-US", {maximumFractionDigits: digits});
  }
  // fields: [[label, unit, decimals or null], ...], values aligned with fields.
  function box(title, subtitle, status, fields, values) {
    var div = el("div", "census-popup");
    div.appendChild(el("div", "t", title));
    if (subtitle) { div.appendChild(el("div", "s", subtitle)); }
    if (status) { div.appendChild(el("div", status[0], status[1])); }
    var table = el("table");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i], v = values[i];
      if (v === null || v === undefined || v === "") { continue; }
      var text = f[2] === null ? String(v) : fmt(v, f[2]);
      if (text === null) { continue; }
      if (f[1]) { text += " " + f[1]; }
      var tr = el("tr");
      tr.appendChild(el("th", null, f[0]));
      tr.appendChild(el("td", f[2] === null ? "txt" : null, text));
      table.appendChild(tr);
    }
    div.appendChild(table);
    return div;
  }
  function readJSON(id) { return JSON.parse(document.getElementById(id).textContent); }
  function tag(layer, kind) { layer.censusKind = kind; return layer; }
  // One canvas renderer per map, shared by every layer drawn on canvas (one hit test).
  function canvasOf(state) {
    return state.canvas || (state.canvas = L.canvas({padding: 0.3, tolerance: 2}));
  }

  census.init = function (map, opts) {
    if (map.attributionControl) { map.attributionControl.setPrefix("Leaflet"); }
    var pane = map.createPane("censusDistricts");
    pane.style.zIndex = 350;
    var state = {map: map, opts: opts, t: opts.t, sites: {}, districts: null, turbines: null};
    map.census = state;
    census.maps.push(state);
  };

  // Packed columns and geometries of a site layer (census.maps._packed_column and
  // _packed_geoms): base64 text of LEB128 varints, numbers and coordinates as integers.
  function varints(b64) {
    var s = atob(b64 || ""), n = s.length, count = 0, i;
    for (i = 0; i < n; i++) { if (s.charCodeAt(i) < 128) { count++; } }
    var out = new Float64Array(count), v = 0, mul = 1, m = 0;
    for (i = 0; i < n; i++) {
      var c = s.charCodeAt(i);
      v += (c & 127) * mul;
      if (c & 128) { mul *= 128; } else { out[m++] = v; v = 0; mul = 1; }
    }
    return out;
  }
  function unzig(u) { return u % 2 ? -(u + 1) / 2 : u / 2; }
  // A column as an array of numbers, texts or nulls (what the popup shows).
  function column(c, n) {
    var out = new Array(n), k;
    if (!c) { for (k = 0; k < n; k++) { out[k] = null; } return out; }
    if (c.j) { return c.j; }
    var v = varints(c.v);
    if (c.c) {
      for (k = 0; k < n; k++) { out[k] = v[k] ? c.c[v[k] - 1] : null; }
      return out;
    }
    var scale = Math.pow(10, c.n);
    for (k = 0; k < n; k++) {
      out[k] = v[k] ? (c.n ? unzig(v[k] - 1) / scale : unzig(v[k] - 1)) : null;
    }
    return out;
  }
  // Geometries: geometry(k) gives site k's GeoJSON geometry (or null), built when asked.
  function geometries(g, n) {
    if (!n) { return function () { return null; }; }
    var kinds = g.kind ? null : varints(g.kinds), parts = varints(g.parts);
    var rings = varints(g.rings), lens = varints(g.lens), d = varints(g.xy);
    var xy = new Float64Array(d.length), scale = g.scale, extra = g.extra || {};
    for (var i = 0, x = 0, y = 0; i < d.length; i += 2) {
      x += unzig(d[i]); y += unzig(d[i + 1]);
      xy[i] = x / scale; xy[i + 1] = y / scale;
    }
    // where site k starts in each stream
    var at = new Int32Array(4 * (n + 1)), ip = 0, ir = 0, il = 0, ic = 0;
    for (var k = 0; k < n; k++) {
      at[4 * k] = ip; at[4 * k + 1] = ir; at[4 * k + 2] = il; at[4 * k + 3] = ic;
      var kind = kinds ? kinds[k] : g.kind;
      if (kind < 1 || kind > 6) { continue; }
      var np = kind >= 4 ? parts[ip++] : 1;
      for (var j = 0; j < np; j++) {
        if (kind % 3 === 1) { ic += 1; continue; }  // a point
        var nr = kind % 3 === 0 ? rings[ir++] : 1;
        for (var r = 0; r < nr; r++) { ic += lens[il++]; }
      }
    }
    return function (k) {
      var kind = kinds ? kinds[k] : g.kind;
      if (kind === 7) { return extra[k]; }
      if (kind < 1 || kind > 6) { return null; }
      var ip = at[4 * k], ir = at[4 * k + 1], il = at[4 * k + 2], ic = at[4 * k + 3];
      function pt() { var p = [xy[2 * ic], xy[2 * ic + 1]]; ic++; return p; }
      function line() {
        var a = [], m = lens[il++];
        for (var q = 0; q < m; q++) { a.push(pt()); }
        return a;
      }
      function poly() {
        var a = [], m = rings[ir++];
        for (var q = 0; q < m; q++) { a.push(line()); }
        return a;
      }
      var one = kind % 3 === 1 ? pt : (kind % 3 === 2 ? line : poly);
      var types = ["", "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                   "MultiPolygon"];
      if (kind < 4) { return {type: types[kind], coordinates: one()}; }
      var all = [], np = parts[ip];
      for (var j = 0; j < np; j++) { all.push(one()); }
      return {type: types[kind], coordinates: all};
    };
  }

  census.addSites = function (map, group, dataId) {
    var p = readJSON(dataId), m = p.meta, n = p.n, cols = p.cols;
    var ids = n ? column(cols.id, n) : [], names = n ? column(cols.name, n) : [];
    var elig = n ? column(cols.eligible, n) : [];
    var values = n ? cols.fields.map(function (c) { return column(c, n); }) : [];
    var geometry = geometries(p.geom, n);
    var state = map.census, canvas = m.cells !== null, T = state.t;
    var base = "census-site census-cat-" + m.index;
    var styleE = {color: m.color, weight: 1, opacity: 0.95, fillColor: m.color,
                  fillOpacity: 0.6, className: base + " census-eligible"};
    var styleX = {color: "#555", weight: 1, opacity: 0.9, dashArray: "4 3", fillColor: "#a8a8a8",
                  fillOpacity: 0.35, className: base + " census-excluded"};
    if (canvas) { styleE.className = styleX.className = undefined; }
    function styleOf(f) { return elig[f.properties.k] ? styleE : styleX; }
    function title(k) { return names[k] ? names[k] : T.site + " " + ids[k]; }
    function popup(layer) {
      var k = layer.feature.properties.k;
      var sub = (names[k] ? T.site + " " + ids[k] + " · " : "") + m.label;
      var status = elig[k] ? ["ok", T.eligible] : ["no", T.excluded];
      return box(title(k), sub, status, m.fields, values.map(function (c) { return c[k]; }));
    }
    function tooltip(layer) {
      var k = layer.feature.properties.k;
      return el("span", null, title(k) + (elig[k] ? "" : T.excludedSuffix));
    }
    // One feature per point of a MultiPoint and per member of a GeometryCollection (all
    // with the site's k): Leaflet makes those nested groups, which its tooltips on the
    // layer cannot take (no getElement), and the page would stop.
    function push(feats, geom, k) {
      if (!geom) { return; }
      if (geom.type === "GeometryCollection") {
        geom.geometries.forEach(function (g) { push(feats, g, k); });
      } else if (geom.type === "MultiPoint") {
        geom.coordinates.forEach(function (c) {
          feats.push({type: "Feature", geometry: {type: "Point", coordinates: c},
                      properties: {k: k}});
        });
      } else {
        feats.push({type: "Feature", geometry: geom, properties: {k: k}});
      }
    }
    function make(from, to) {
      var feats = [];
      for (var k = from; k < to; k++) { push(feats, geometry(k), k); }
      var opts = {
        style: styleOf,
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, Object.assign({radius: 5}, styleOf(f)));
        },
        onEachFeature: function (f, layer) { tag(layer, "site"); }
      };
      if (canvas) { opts.renderer = canvasOf(state); }
      var lyr = L.geoJSON(feats, opts);
      lyr.bindPopup(popup, {maxWidth: 320});
      lyr.bindTooltip(tooltip, {sticky: true});
      return lyr;
    }
    var entry = {group: group, meta: m, n: n};
    // site k as the popup and the map read it (for checks: census.maps[0].sites[i].site(k))
    entry.site = function (k) {
      return {id: ids[k], name: names[k], eligible: elig[k],
              values: values.map(function (c) { return c[k]; }), geometry: geometry(k)};
    };
    state.sites[m.index] = entry;
    if (!canvas) {
      group.addLayer(make(0, n));
      return;
    }
    // Aggregated mode: cells [south, west, north, east, start, end, n, n_eligible, MW, MWh/yr]
    // and, on an index map (m.links), [..., link index]: the cell opens the detail map of
    // its sites at the cell's centre (#zoom/lat/lon) instead of drawing them here.
    var cells = m.cells, built = new Array(cells.length), bounds = new Array(cells.length);
    var links = m.links || null;
    var maxN = 1;
    cells.forEach(function (c, i) {
      bounds[i] = L.latLngBounds([c[0], c[1]], [c[2], c[3]]);
      maxN = Math.max(maxN, c[6]);
    });
    var cellFields = [[T.sites, "", 0], [T.eligibleSites, "", 0], [T.eligibleCapacity, "MW", 2],
                      [T.eligibleEnergy, T.mwhYr, 0]];
    var cellLayer = L.featureGroup();
    cells.forEach(function (c, i) {
      var op = 0.25 + 0.55 * Math.log(1 + c[6]) / Math.log(1 + maxN);
      var rect = tag(L.rectangle(bounds[i], {
        color: m.color, weight: 0.6, opacity: 0.9, fillColor: c[7] > 0 ? m.color : "#a8a8a8",
        fillOpacity: op, renderer: canvasOf(state)
      }), "cell");
      rect.censusCell = i;
      cellLayer.addLayer(rect);
    });
    cellLayer.bindTooltip(function (layer) {
      var c = cells[layer.censusCell];
      return el("span", null, m.label + ": " + fmt(c[6], 0) + T.sitesCount + ", " + fmt(c[8], 2) +
        " MW");
    }, {sticky: true});
    cellLayer.bindPopup(function (layer) {
      var c = cells[layer.censusCell];
      if (links) {
        var div = box(m.label + ": " + fmt(c[6], 0) + T.sitesCount, T.detailHint, null, cellFields,
          [c[6], c[7], c[8], c[9]]);
        div.appendChild(census.detailLink(links[c[10]], (c[0] + c[2]) / 2, (c[1] + c[3]) / 2,
          m.detailZoom, T.openDetail));
        return div;
      }
      return box(m.label + ": " + fmt(c[6], 0) + T.sitesCount, m.zoomHint, null, cellFields,
        [c[6], c[7], c[8], c[9]]);
    });
    entry.cells = cellLayer;
    function update() {
      if (!map._loaded || !map.hasLayer(group)) { return; }
      if (links || map.getZoom() < m.detailZoom) {
        for (var i = 0; i < built.length; i++) { if (built[i]) { group.removeLayer(built[i]); } }
        if (!group.hasLayer(cellLayer)) { group.addLayer(cellLayer); }
        return;
      }
      if (group.hasLayer(cellLayer)) { group.removeLayer(cellLayer); }
      var view = map.getBounds().pad(0.3);
      for (var j = 0; j < cells.length; j++) {
        if (view.intersects(bounds[j])) {
          if (!built[j]) { built[j] = make(cells[j][4], cells[j][5]); }
          if (!group.hasLayer(built[j])) { group.addLayer(built[j]); }
        } else if (built[j] && group.hasLayer(built[j])) {
          group.removeLayer(built[j]);
        }
      }
    }
    map.on("moveend zoomend overlayadd", update);
    map.whenReady(update);
  };

  // District rows: [adcode, name_zh, name_en, values aligned with meta.fields...]
  census.addDistricts = function (map, group, dataId) {
    var p = readJSON(dataId), m = p.meta, rows = p.rows;
    var feats = [];
    for (var k = 0; k < rows.length; k++) {
      if (p.geoms[k]) { feats.push({type: "Feature", geometry: p.geoms[k], properties: {k: k}}); }
    }
    var lyr = L.geoJSON(feats, {
      pane: "censusDistricts", interactive: false,
      style: {color: "#222", weight: 2, opacity: 0.9, fillColor: "#ffffff", fillOpacity: 0.15,
              className: "census-district"},
      onEachFeature: function (f, layer) { tag(layer, "district"); }
    });
    group.addLayer(lyr);
    rows.forEach(function (r, k) {
      var pt = p.labels[k];
      if (!pt) { return; }
      var div = el("div");
      div.appendChild(el("span", "zh", r[1]));
      if (r[2] !== r[1]) {  // a city without a Chinese name is named once
        div.appendChild(el("br"));
        div.appendChild(el("span", "en", r[2]));
      }
      if (m.labelIndex !== null && r[3 + m.labelIndex] !== null) {
        div.appendChild(el("br"));
        div.appendChild(el("span", "tot", fmt(r[3 + m.labelIndex], m.labelUnit === "MW" ? 0 : 1) +
          " " + m.labelUnit));
      }
      var icon = L.divIcon({html: div, className: "census-label", iconSize: null});
      var marker = tag(L.marker(pt, {icon: icon, keyboard: false}), "label");
      marker.bindPopup(function () {
        var T = map.census.t;
        // a city's code is shown when it is one (GB/T 2260: six digits), not a number 1..N
        var code = m.kind !== "city" || r[0] >= 100000 ? " " + r[0] : "";
        var div = box(r[2] !== r[1] ? r[1] + " " + r[2] : r[1],
          (m.kind === "city" ? T.city : T.district) + code, null, m.fields, r.slice(3));
        // a province map's city links to that city's own map (a relative file)
        if (m.links && m.links[k]) {
          div.appendChild(census.detailLink(m.links[k], null, null, null, T.openMap));
        }
        return div;
      });
      group.addLayer(marker);
    });
    map.census.districts = group;
  };

  // Zone rows: [zone key, values aligned with meta.fields...]; dashed outlines whose popup
  // gives the zone's totals (villages, townships, parks: census run --zones)
  census.addZones = function (map, group, dataId) {
    var p = readJSON(dataId), m = p.meta, rows = p.rows;
    var feats = [];
    for (var k = 0; k < rows.length; k++) {
      if (p.geoms[k]) { feats.push({type: "Feature", geometry: p.geoms[k], properties: {k: k}}); }
    }
    var lyr = L.geoJSON(feats, {
      pane: "censusDistricts",
      style: {color: "#6a3d9a", weight: 2, opacity: 0.9, dashArray: "6 4", fillColor: "#6a3d9a",
              fillOpacity: 0.06, className: "census-zone"},
      onEachFeature: function (f, layer) {
        tag(layer, "zone");
        var r = rows[f.properties.k];
        layer.bindPopup(function () { return box(r[0], m.label, null, m.fields, r.slice(1)); });
      }
    });
    group.addLayer(lyr);
    map.census.zones = group;
  };

  // Turbine rows: [turbine_id, site_id, energy MWh/yr], points [[lat, lon], ...]
  census.addTurbines = function (map, group, dataId) {
    var p = readJSON(dataId), rows = p.rows, canvas = p.meta.canvas;
    var style = {radius: 4, color: "#111", weight: 1.5, fillColor: "#ffffff", fillOpacity: 1,
                 className: "census-turbine"};
    if (canvas) {
      style.className = undefined;
      style.renderer = canvasOf(map.census);
    }
    var lyr = L.featureGroup();
    rows.forEach(function (r, k) {
      var mk = tag(L.circleMarker(p.points[k], style), "turbine");
      mk.censusRow = k;
      lyr.addLayer(mk);
    });
    var T = map.census.t;
    var fields = [[T.site, "", null], [T.energy, T.mwhYr, 0]];
    lyr.bindPopup(function (layer) {
      var r = rows[layer.censusRow];
      return box(T.turbineTitle + " " + r[0], T.turbine, null, fields, [r[1], r[2]]);
    });
    lyr.bindTooltip(function (layer) {
      return el("span", null, T.turbineTitle + " " + rows[layer.censusRow][0]);
    }, {sticky: true});
    group.addLayer(lyr);
    map.census.turbines = group;
  };

  // Count what is on the map now, by kind ("site", "cell", "district", "label", "turbine").
  census.drawn = function (map) {
    var out = {site: 0, cell: 0, district: 0, label: 0, turbine: 0};
    map.eachLayer(function (l) { if (l.censusKind) { out[l.censusKind] += 1; } });
    return out;
  };

  // A link to a detail map, opened at a point and zoom ("file.html#zoom/lat/lon").
  // A link to another map file, opened at a view (#zoom/lat/lon) or, zoom null, its own.
  census.detailLink = function (file, lat, lon, zoom, label) {
    var a = el("a", "census-link", label);
    a.href = encodeURI(file) +
      (zoom === null ? "" : "#" + zoom + "/" + lat.toFixed(5) + "/" + lon.toFixed(5));
    var p = el("div");
    p.appendChild(a);
    return p;
  };

  census.ready = function (map) {
    // a view asked for in the address (#zoom/lat/lon, from an index map's link)
    var h = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    if (h) { map.setView([parseFloat(h[2]), parseFloat(h[3])], parseFloat(h[1])); }
    map.whenReady(function () {
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          census.loadedMs = performance.now();
          census.isReady = true;
        });
      });
    });
  };
})();
"""


# --------------------------------------------------------------------------- elements


def _esc(text: str) -> str:
    """Escape text for HTML, and ``{``/``}`` too.

    folium renders an element's macros and then compiles the result again as a
    Jinja template (branca ``MacroElement.render``), so ``{{ ... }}`` in a layer
    name or an attribution would be evaluated; as HTML entities they are not.
    """
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


class _Verbatim(Element):
    """Text put into the page as it is, never compiled as a Jinja template.

    A plain branca ``Element(text)`` compiles ``text`` as a template: data
    holding ``{{ ... }}`` would be evaluated (template injection), and lexing a
    payload of tens of MB costs seconds. The text here is a template variable.
    """

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text


class _Raw(_Verbatim):
    """A header element holding inline CSS or JS (named so it is added once)."""


class _CensusCall(MacroElement):
    """Embed one JSON payload and call a ``census.*`` JS function on its parent layer."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
census.{{ this.func }}(
    {{ this.map_name }}, {{ this._parent.get_name() }}, "{{ this.get_name() }}_data");
{% endmacro %}
"""
    )

    def __init__(self, func: str, payload: str, map_name: str) -> None:
        super().__init__()
        self._name = "CensusCall"
        self.func = func
        self.payload = payload
        self.map_name = map_name

    def render(self, **kwargs: Any) -> None:
        """Put the payload into the page verbatim, then render the call."""
        name = self.get_name()
        self.get_root().html.add_child(
            _Verbatim(f'<script type="application/json" id="{name}_data">{self.payload}</script>'),
            name=f"{name}_data",
        )
        super().render(**kwargs)


class _MapScript(MacroElement):
    """Run one line of JS with the map variable, optionally with body HTML."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
census.{{ this.func }}({{ this._parent.get_name() }}{% if this.arg %}, {{ this.arg }}{% endif %});
{% endmacro %}
"""
    )

    def __init__(self, func: str, *, arg: str = "", body_html: str = "") -> None:
        super().__init__()
        self._name = "CensusMapScript"
        self.func = func
        self.arg = arg
        self.body_html = body_html

    def render(self, **kwargs: Any) -> None:
        """Put the body HTML into the page verbatim, then render the call."""
        if self.body_html:
            self.get_root().html.add_child(
                _Verbatim(self.body_html), name=f"{self.get_name()}_html"
            )
        super().render(**kwargs)


# --------------------------------------------------------------------------- helpers


def _script_json(obj: Any) -> str:
    """Dump JSON that is safe inside a ``<script>`` element (no ``</script>`` break-out)."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # str.replace per character is ~10x faster than str.translate on long payloads
    for char, escaped in _SCRIPT_ESCAPES.items():
        if char in text:
            text = text.replace(char, escaped)
    return text


def _require_columns(df: pd.DataFrame, required: Sequence[str], what: str) -> None:
    require_columns(df, required, what=what)


def _map_columns(sites: gpd.GeoDataFrame, *, index: bool = False) -> gpd.GeoDataFrame:
    """Keep the columns a map reads (a run's site table has ~50; each subset copies all).

    An ``index`` map (cells only) reads fewer: those of the cells and district totals.
    """
    keep = {
        *_SITE_REQUIRED,
        "adcode",
        "capacity_mw_dc",
        "energy_mwh_yr",
        "technology",
        "_cell_sites",
        "_cell_eligible",
        _CENTROID_X,
        _CENTROID_Y,
    }
    if not index:
        keep |= {"name", *(c for c, *_ in _SITE_FIELDS)}
    cols = [c for c in sites.columns if c in keep or c == sites.geometry.name]
    return sites[cols] if len(cols) < sites.shape[1] else sites


def _metric(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in a projected metric CRS (reprojecting geographic data to METRIC_CRS)."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"{layer} must be a geopandas.GeoDataFrame; got {type(gdf).__name__}.")
    crs = require_crs(gdf, layer=layer)
    if crs.is_geographic:
        return gdf.to_crs(METRIC_CRS)
    return gdf


def _clean(values: Iterable[Any], decimals: int | None) -> list[Any]:
    """Turn a column into JSON-ready values: rounded floats, str, or None for missing."""
    if isinstance(values, pd.Series):
        fast = _clean_fast(values, decimals)
        if fast is not None:
            return fast
    out: list[Any] = []
    for v in values:
        if v is None or (isinstance(v, float | np.floating) and not math.isfinite(float(v))):
            out.append(None)
        elif v is pd.NA or v is pd.NaT:
            out.append(None)
        elif decimals is None:
            text = str(v)
            out.append(text if text else None)
        elif isinstance(v, bool | np.bool_):
            out.append(int(bool(v)))
        else:
            try:
                x = float(v)
            except (TypeError, ValueError):
                out.append(str(v))
                continue
            if not math.isfinite(x):
                out.append(None)
            elif decimals <= 0:
                out.append(int(round(x)))
            else:
                out.append(round(x, decimals))
    return out


def _clean_fast(values: pd.Series, decimals: int | None) -> list[Any] | None:
    """Vectorised :func:`_clean` for numeric and text columns (``None``: use the loop).

    The per-value loop costs about 1 s per million values and column; a map of a
    million sites has a dozen columns.
    """
    dtype = values.dtype
    if decimals is not None and pd.api.types.is_bool_dtype(dtype) and not values.hasnans:
        return values.to_numpy(dtype=np.int64).tolist()
    if (
        decimals is not None
        and pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
    ):
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(x)
        if decimals <= 0:
            r: np.ndarray = np.where(ok, np.round(x), 0.0).astype(np.int64).astype(object)
        else:
            # np.round(x, d) = rint(x * 10**d) / 10**d, the nearest double to the decimal
            # (Python's round() agrees except on exact binary ties, below the 5th decimal)
            r = np.round(x, decimals).astype(object)
        r[~ok] = None
        return r.tolist()
    if decimals is None and (
        pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
    ):
        obj = values.to_numpy(dtype=object, copy=True)
        missing = pd.isna(obj)
        if not isinstance(dtype, pd.StringDtype) and not all(
            isinstance(v, str) for v in obj[~missing]
        ):
            return None
        obj[missing] = None
        obj[obj == ""] = None
        return obj.tolist()
    return None


def _map_unique(values: pd.Series, func: Any) -> pd.Series:
    """Apply ``func`` once per distinct value (missing values become None).

    Site tables repeat a few dozen reason strings a million times.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]
    mapped[-1] = None  # code -1: missing
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _display_geoms(
    geoms: np.ndarray, *, crs: Any, tolerance_m: np.ndarray | float, coverage: bool = False
) -> list[str | None]:
    """Simplify metric geometries, reproject to DISPLAY_CRS, round, return GeoJSON strings."""
    geoms = np.asarray(geoms, dtype=object)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out: list[str | None] = [None] * len(geoms)
    if not valid.any():
        return out
    g = geoms[valid]
    tol = np.broadcast_to(np.asarray(tolerance_m, dtype=float), geoms.shape)[valid]
    if coverage:
        g = shapely.coverage_simplify(g, float(tol.max()))
    else:
        # a point or a ring of four corners (most rooftops) cannot be simplified
        # without becoming invalid, so only larger geometries are passed on
        many = shapely.get_num_coordinates(g) > 5
        if many.any():
            g = g.copy()
            g[many] = shapely.simplify(g[many], tol[many], preserve_topology=True)
    # reproject and round in one pass over the coordinates
    to_display = transformer(crs, DISPLAY_CRS)

    def project(c: np.ndarray) -> np.ndarray:
        x, y = to_display.transform(c[:, 0], c[:, 1])
        return np.round(np.column_stack([x, y]), _COORD_DECIMALS)

    g = shapely.transform(np.asarray(g, dtype=object), project)
    texts = shapely.to_geojson(g)
    for i, t in zip(np.flatnonzero(valid), texts, strict=True):
        out[i] = None if t is None else str(t)
    return out


def _join_payload(meta: dict[str, Any], rows: list[list[Any]], geoms: list[str | None]) -> str:
    """Build a JSON payload; geometries are numeric GeoJSON strings and need no escaping."""
    geoms_json = ",".join("null" if g is None else g for g in geoms)
    return (
        '{"meta":'
        + _script_json(meta)
        + ',"rows":'
        + _script_json(rows)
        + ',"geoms":['
        + geoms_json
        + "]}"
    )


# --------------------------------------------------------------------------- compact site data
#
# A site layer's data are columnar and packed: unsigned integers as LEB128 varints (7 bits a
# byte, the high bit set on all but the last byte) in base64 text, signed ones zigzag-coded
# first (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...). Written by hand: no packer in the dependencies
# does vectorised varints, and the browser side decodes them in a dozen lines of JS.
# Coordinates are integers of 10**-_COORD_DECIMALS deg, the rounding the maps always had,
# delta-coded along the layer; numbers are integers of 10**-decimals of their unit.

_GEOM_KINDS = np.array([1, 2, 2, 3, 4, 5, 6, 7], dtype=np.int64)
"""Kind code of each shapely type id: 1 Point, 2 LineString (and LinearRing), 3 Polygon,
4 MultiPoint, 5 MultiLineString, 6 MultiPolygon, 7 GeometryCollection."""

_MAX_SAFE = 2**53
"""Largest integer a JavaScript number holds exactly."""


def _varints(values: np.ndarray) -> str:
    """Pack non-negative integers (< 2**63) as LEB128 varints in base64 text."""
    u = np.asarray(values)
    if not len(u):
        return ""
    top = int(u.max())
    if top < 128:  # one byte each (counts, flags, codes of a few texts)
        return base64.b64encode(u.astype(np.uint8).tobytes()).decode("ascii")
    u = u.astype(np.uint32 if top < 2**32 else np.uint64, copy=False)
    nbytes = np.ones(len(u), dtype=np.uint8)
    for j in range(1, -(-top.bit_length() // 7)):
        nbytes += u >= (1 << (7 * j))
    # byte k of the stream is byte `nth` of value `of`; all but a value's last byte
    # carry the continuation bit
    of = np.repeat(np.arange(len(u)), nbytes)
    first = np.cumsum(nbytes, dtype=np.int64) - nbytes
    nth = np.arange(len(of)) - first[of]
    byte = (u[of] >> (nth * 7).astype(u.dtype)) & 0x7F
    byte |= (nth + 1 < nbytes[of]).astype(u.dtype) << 7
    return base64.b64encode(byte.astype(np.uint8).tobytes()).decode("ascii")


def _zigzag(values: np.ndarray) -> np.ndarray:
    """Map signed integers to unsigned ones: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ..."""
    v = np.asarray(values, dtype=np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def _packed_column(
    values: pd.Series | list[Any], decimals: int | None, *, categorical: bool = True
) -> dict[str, Any]:
    """One popup column, packed. The browser shows the values :func:`_clean` gives.

    - ``{"n": decimals, "v": varints}``: numbers as ``zigzag(round(x * 10**decimals)) + 1``,
      0 for missing, decoded as ``k / 10**decimals`` (the double ``np.round(x, decimals)``
      gives, as numpy rounds by that product too);
    - ``{"c": [texts], "v": varints}``: repeated texts as 1 + their index, 0 for missing;
    - ``{"j": [values]}``: anything else (and texts when not ``categorical``), as
      :func:`_clean` gives it.
    """
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if decimals is not None and pd.api.types.is_bool_dtype(dtype) and not values.hasnans:
            k = values.to_numpy(dtype=np.int64)
            return {"n": 0, "v": _varints(_zigzag(k) + np.uint64(1))}
        if (
            decimals is not None
            and pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_bool_dtype(dtype)
        ):
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            ok = np.isfinite(x)
            d = max(int(decimals), 0)
            with np.errstate(invalid="ignore", over="ignore"):
                k = np.rint(x * 10.0**d) if d else np.rint(x)
            if not ok.any() or np.abs(k[ok]).max() < _MAX_SAFE // 4:
                code = np.zeros(len(x), dtype=np.uint64)
                code[ok] = _zigzag(k[ok].astype(np.int64)) + np.uint64(1)
                return {"n": d, "v": _varints(code)}
        if categorical and decimals is None:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            texts = list(uniques)
            if all(isinstance(u, str) for u in texts) and len(texts) <= max(16, len(values) // 2):
                if "" in texts:  # an empty text is shown as missing, as _clean does
                    empty = texts.index("")
                    codes = np.where(codes == empty, -1, codes - (codes > empty))
                    texts.pop(empty)
                return {"c": texts, "v": _varints(codes + 1)}
    return {"j": _clean(values, decimals)}


def _packed_geoms(
    geoms: np.ndarray,
    *,
    crs: Any,
    tolerance_m: np.ndarray | float | Callable[[np.ndarray], np.ndarray],
) -> dict[str, Any]:
    """Simplify metric geometries, reproject to DISPLAY_CRS and pack them.

    The coordinates are those :func:`_display_geoms` writes as GeoJSON (same
    simplification, same rounding), as integers of ``10**-_COORD_DECIMALS`` deg.
    ``tolerance_m`` is one per geometry, one for all, or a function giving those of the
    geometries it is given (called only for those with more than 5 vertices). [m]

    Returns
    -------
    dict
        ``kind`` (one GeoJSON kind code for all, 0 when mixed) or ``kinds`` (varints a
        site: 0 none, 1 Point, 2 LineString, 3 Polygon, 4-6 Multi*, 7 other, then in
        ``extra`` as GeoJSON by site), ``parts`` (varints: parts of each Multi* geometry),
        ``rings`` (varints: rings of each polygon), ``lens`` (varints: vertices of each
        line or ring), ``xy`` (varints: zigzag deltas of lon, lat, lon, lat ... along the
        layer) and ``scale`` (10**_COORD_DECIMALS).
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    kinds = np.zeros(n, dtype=np.int64)
    out: dict[str, Any] = {"scale": 10**_COORD_DECIMALS, "extra": {}}
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    g = geoms[valid]
    if callable(tolerance_m):
        tol = np.zeros(len(g))
    else:
        tol = np.broadcast_to(np.asarray(tolerance_m, dtype=float), geoms.shape)[valid]
    # a point or a ring of four corners (most rooftops) cannot be simplified
    # without becoming invalid, so only larger geometries are passed on
    n_coords = shapely.get_num_coordinates(g)
    many = n_coords > 5
    if many.any():
        g = g.copy()
        if callable(tolerance_m):
            tol = tol.copy()
            tol[many] = tolerance_m(g[many])
        g[many] = shapely.simplify(g[many], tol[many], preserve_topology=True)
        n_coords[many] = shapely.get_num_coordinates(g[many])
    type_id = shapely.get_type_id(g)
    kinds[valid] = _GEOM_KINDS[type_id]
    other = np.flatnonzero(valid)[type_id > 6]
    if len(other):  # geometry collections: GeoJSON as before
        texts = _display_geoms(geoms[other], crs=crs, tolerance_m=tol[type_id > 6])
        out["extra"] = {str(int(i)): json.loads(t) for i, t in zip(other, texts, strict=True)}
        g, n_coords = g[type_id <= 6], n_coords[type_id <= 6]
        type_id = type_id[type_id <= 6]
    multi = type_id >= 4
    if multi.any():
        parts, part_of = shapely.get_parts(g, return_index=True)
        keep = ~shapely.is_empty(parts)  # an empty part of a Multi* draws nothing
        parts, part_of = parts[keep], part_of[keep]
    else:
        parts, part_of = g, np.arange(len(g))
    part_type = shapely.get_type_id(parts)
    is_poly = part_type == 3
    n_rings = np.zeros(len(parts), dtype=np.int64)
    n_rings[is_poly] = shapely.get_num_interior_rings(parts[is_poly]) + 1
    # vertices of each line and ring, in part order: a polygon without holes is one ring
    # of all its vertices, so only polygons with holes are cut into rings
    part_lens = shapely.get_num_coordinates(parts) if multi.any() else n_coords
    one_ring = np.flatnonzero((part_type != 0) & (n_rings <= 1))
    holed = np.flatnonzero(n_rings > 1)
    if len(holed):
        rings, ring_of = shapely.get_rings(parts[holed], return_index=True)
        lens_of = np.concatenate([one_ring, holed[ring_of]])
        lens = np.concatenate([part_lens[one_ring], shapely.get_num_coordinates(rings)])
        lens = lens[np.argsort(lens_of, kind="stable")]
    else:
        lens = part_lens[one_ring]
    xy = shapely.get_coordinates(parts)  # parts in order, each ring after ring
    lon, lat = transformer(crs, DISPLAY_CRS).transform(xy[:, 0], xy[:, 1])
    scale = float(10**_COORD_DECIMALS)
    ints = np.rint(np.column_stack([np.asarray(lon) * scale, np.asarray(lat) * scale]))
    ints = ints.astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    present = kinds[kinds > 0]
    if len(present) == n and len(np.unique(present)) == 1:
        out["kind"] = int(present[0])
    else:
        out["kind"] = 0
        out["kinds"] = _varints(kinds)
    out["parts"] = _varints(np.bincount(part_of, minlength=len(g))[multi])
    out["rings"] = _varints(n_rings[is_poly])
    out["lens"] = _varints(lens)
    out["xy"] = _varints(_zigzag(deltas))
    return out


def _category_label(category: str, tr: Translator | None = None) -> str:
    if tr is not None and tr.zh:
        return tr.code("category", category) or "（无类型）"
    return str(category).replace("_", " ").strip().capitalize() or "(no category)"


def _field_label(col: str, label: str, unit: str, tr: Translator | None) -> tuple[str, str]:
    """Popup label and unit of a column: the English ones, or the Chinese terms."""
    if tr is None or not tr.zh:
        return label, unit
    term = load_terms().get(f"col.{col}")
    name = term.zh if term is not None else tr.term(f"col.{col}", default=label)
    if col == "capacity_factor":
        return name, tr.term("unit.h")  # shown as 年利用小时数
    shown, _ = tr.unit(term.unit, scale="site") if term is not None else (unit, None)
    return name, shown


def _map_strings(tr: Translator, zoom: int) -> dict[str, str]:
    """Return the words the map's JavaScript writes into popups and tooltips."""
    keys = {
        "site": "map.site",
        "eligible": "map.eligible",
        "excluded": "map.excluded",
        "excludedSuffix": "map.excluded_suffix",
        "sites": "map.sites",
        "eligibleSites": "map.eligible_sites",
        "eligibleCapacity": "map.eligible_capacity",
        "eligibleEnergy": "map.eligible_energy",
        "sitesCount": "map.sites_count",
        "district": "map.district",
        "city": "map.city",
        "openMap": "map.open_map",
        "turbine": "map.turbine",
        "turbineTitle": "map.turbine_title",
        "energy": "map.energy",
        "mwhYr": "map.mwh_yr",
        "detailHint": "map.detail_hint",
        "openDetail": "map.open_detail",
    }
    out = {k: tr(v) for k, v in keys.items()}
    out["zoomHint"] = tr("map.zoom_hint", zoom=zoom)
    return out


def _category_color(category: str, index: int) -> str:
    return CATEGORY_COLORS.get(str(category), _EXTRA_COLORS[index % len(_EXTRA_COLORS)])


def _cell_weights(sites: pd.DataFrame, eligible: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the sites and eligible sites each row stands for.

    1 and its eligibility; or, for rows that are already cells (``_cell_sites`` and
    ``_cell_eligible``, from :mod:`census.batch_merge` for a city index map built
    district by district), their counts.
    """
    if "_cell_sites" in sites.columns:
        return (
            sites["_cell_sites"].to_numpy(np.int64),
            sites["_cell_eligible"].to_numpy(np.int64),
        )
    return np.ones(len(sites), np.int64), np.asarray(eligible, dtype=np.int64)


def _sites_payload(
    sites: gpd.GeoDataFrame,
    *,
    rows: np.ndarray | None = None,
    category: str,
    index: int,
    max_sites_detail: int,
    detail_min_zoom: int,
    aggregate_cell_m: float,
    simplify_tolerance_m: float,
    tr: Translator | None = None,
    links: pd.Series | None = None,
) -> tuple[str, bool, int, int]:
    """Return one category layer's JSON payload, whether it is aggregated, and its counts.

    The counts are its sites and eligible sites (counting the sites a pre-aggregated
    row stands for). ``rows`` are the positions of the layer's sites in ``sites``
    (default: all), taken once, in cell order. With ``links`` (a detail-map file per
    site, aligned with ``sites`` by position) the layer is an index: cells only, each
    linking to the detail map most of its sites are on.
    """
    rows = np.arange(len(sites)) if rows is None else np.asarray(rows)
    n = len(rows)
    zh = tr is not None and tr.zh
    aggregated = n > max_sites_detail or links is not None
    fields = [(c, lab, unit, dec) for c, lab, unit, dec in _SITE_FIELDS if c in sites.columns]
    cells: list[list[Any]] | None = None
    if aggregated:
        if _CENTROID_X in sites.columns:  # computed once for every map (maps_scale)
            cx, cy = sites[_CENTROID_X].to_numpy()[rows], sites[_CENTROID_Y].to_numpy()[rows]
        else:
            centroids = shapely.centroid(np.asarray(sites.geometry.values, dtype=object)[rows])
            cx, cy = shapely.get_x(centroids), shapely.get_y(centroids)
        ix = np.floor(cx / aggregate_cell_m).astype(np.int64)
        iy = np.floor(cy / aggregate_cell_m).astype(np.int64)
        order = np.lexsort((iy, ix))
        ix, iy, rows = ix[order], iy[order], rows[order]
    sites = sites.iloc[rows]  # the layer's sites, in cell order when aggregated
    elig = sites["eligible"].fillna(False).astype(bool).to_numpy()
    n_rows, n_elig = _cell_weights(sites, elig)
    totals = (int(n_rows.sum()), int(n_elig.sum()))
    if aggregated:
        starts = np.flatnonzero(np.r_[True, (ix[1:] != ix[:-1]) | (iy[1:] != iy[:-1])])
        ends = np.r_[starts[1:], n]
        cap = pd.to_numeric(sites.get("capacity_mw_dc", pd.Series(0.0, index=sites.index)))
        energy = pd.to_numeric(sites.get("energy_mwh_yr", pd.Series(0.0, index=sites.index)))
        cap_e = np.where(elig, cap.fillna(0.0).to_numpy(), 0.0)
        energy_e = np.where(elig, energy.fillna(0.0).to_numpy(), 0.0)
        link_codes = None
        if links is not None:  # positions of a link file, sorted by name
            raw, uniques = pd.factorize(links.iloc[rows], use_na_sentinel=False)
            link_codes, link_uniques = pd.factorize(pd.Series(uniques).astype(str), sort=True)
            link_codes = link_codes[raw]
        cell_x = ix[starts] * aggregate_cell_m
        cell_y = iy[starts] * aggregate_cell_m
        boxes = shapely.box(cell_x, cell_y, cell_x + aggregate_cell_m, cell_y + aggregate_cell_m)
        bounds = gpd.GeoSeries(boxes, crs=sites.crs).to_crs(DISPLAY_CRS).bounds.to_numpy()
        counts = np.add.reduceat(n_rows, starts) if n else n_rows[:0]  # integers: exact
        counts_e = np.add.reduceat(n_elig, starts) if n else n_elig[:0]
        cells = []
        for j, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            minx, miny, maxx, maxy = (round(v, _COORD_DECIMALS) for v in bounds[j].tolist())
            cells.append(
                [
                    miny,
                    minx,
                    maxy,
                    maxx,
                    s,
                    e,
                    int(counts[j]),
                    int(counts_e[j]),
                    round(float(cap_e[s:e].sum()), 3),
                    round(float(energy_e[s:e].sum()), 1),
                ]
            )
        link_names: list[str] = []
        if link_codes is not None:
            for cell, s, e in zip(cells, starts, ends, strict=True):
                cell.append(int(np.bincount(link_codes[s:e], weights=n_rows[s:e]).argmax()))
            link_names = [str(v) for v in link_uniques]
    if links is not None:  # an index map carries no single sites
        meta = {
            "index": index,
            "category": str(category),
            "label": _category_label(category),
            "color": _category_color(category, index),
            "fields": [],
            "cells": cells,
            "links": link_names,
            "detailZoom": detail_min_zoom,
        }
        return _site_data_json(meta, 0, {}, {}), True, *totals

    eligible = sites["eligible"]
    if pd.api.types.is_bool_dtype(eligible.dtype) and not eligible.hasnans:
        elig01 = eligible.to_numpy(dtype=np.int64)
    else:
        elig01 = np.array([int(bool(v)) if pd.notna(v) else 0 for v in eligible], np.int64)
    columns: dict[str, Any] = {
        "id": _packed_column(sites["site_id"], None, categorical=False),
        "name": _packed_column(sites["name"], None) if "name" in sites.columns else None,
        "eligible": {"n": 0, "v": _varints(_zigzag(elig01) + np.uint64(1))},
        "fields": [],
    }
    for col, _label, _unit, dec in fields:
        values = sites[col]
        if col in ("exclusion_reasons", "clipped_by"):
            values = _map_unique(
                values,
                lambda v: (
                    ("；" if zh else "; ").join(
                        tr.code("reason", p.strip()) if zh else p.strip()  # type: ignore[union-attr]
                        for p in str(v).split(";")
                        if p.strip()
                    )
                    if isinstance(v, str)
                    else None
                ),
            )
        elif zh and col == "technology":
            values = _map_unique(
                values,
                lambda v: tr.code("technology", v) if isinstance(v, str) else None,  # type: ignore[union-attr]
            )
        elif zh and col == "district" and "adcode" in sites.columns and tr.district_names:  # type: ignore[union-attr]
            names = pd.to_numeric(sites["adcode"], errors="coerce").map(tr.district_names)  # type: ignore[union-attr]
            values = names.where(names.notna(), values)
        elif zh and col == "capacity_factor":
            values = capacity_factor_to_full_load_hours(pd.to_numeric(values, errors="coerce"))
            dec = 0
        columns["fields"].append(_packed_column(values, dec))

    def tolerance_m(g: np.ndarray) -> np.ndarray:
        area = shapely.area(g)
        return np.clip(0.01 * np.sqrt(np.nan_to_num(area)), simplify_tolerance_m, 20.0)

    geoms = _packed_geoms(
        np.asarray(sites.geometry.values, dtype=object), crs=sites.crs, tolerance_m=tolerance_m
    )
    meta = {
        "index": index,
        "category": str(category),
        "label": _category_label(category, tr),
        "color": _category_color(category, index),
        "fields": [
            [*_field_label(c, lab, unit, tr), 0 if zh and c == "capacity_factor" else dec]
            for c, lab, unit, dec in fields
        ],
        "cells": cells,
        "detailZoom": detail_min_zoom,
        "zoomHint": (tr or Translator("en"))("map.zoom_hint", zoom=detail_min_zoom),
    }
    return _site_data_json(meta, n, columns, geoms), aggregated, *totals


def _site_data_json(
    meta: dict[str, Any], n: int, columns: dict[str, Any], geoms: dict[str, Any]
) -> str:
    """Return a site layer's JSON: ``meta``, ``n`` sites, packed ``cols`` and ``geom``."""
    return _script_json({"meta": meta, "n": n, "cols": columns, "geom": geoms})


def _totals_from_sites(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """District totals from the site table, used when no roll-up table is given."""
    if "adcode" not in sites.columns or "capacity_mw_dc" not in sites.columns:
        return pd.DataFrame(columns=["adcode"])
    df = pd.DataFrame(
        {
            "adcode": sites["adcode"].to_numpy(),
            "eligible": sites["eligible"].fillna(False).astype(bool).to_numpy(),
            "capacity_mw_dc": pd.to_numeric(sites["capacity_mw_dc"]).fillna(0.0).to_numpy(),
            "energy_mwh_yr": pd.to_numeric(
                sites.get("energy_mwh_yr", pd.Series(0.0, index=sites.index))
            )
            .fillna(0.0)
            .to_numpy(),
            "wind": (
                sites.get("technology", pd.Series("", index=sites.index)) == "wind"
            ).to_numpy(),
        }
    )
    df = df[df["eligible"]]
    df["pv_capacity_mw"] = np.where(df["wind"], 0.0, df["capacity_mw_dc"])
    df["wind_capacity_mw"] = np.where(df["wind"], df["capacity_mw_dc"], 0.0)
    out = df.groupby("adcode").agg(
        capacity_mw_dc=("capacity_mw_dc", "sum"),
        pv_capacity_mw=("pv_capacity_mw", "sum"),
        wind_capacity_mw=("wind_capacity_mw", "sum"),
        energy_mwh_yr=("energy_mwh_yr", "sum"),
        eligible_sites=("eligible", "size"),
    )
    out["energy_gwh_yr"] = mwh_to_gwh(out.pop("energy_mwh_yr"))
    return out.reset_index()


def _districts_payload(
    districts: gpd.GeoDataFrame,
    totals: pd.DataFrame | None,
    *,
    tolerance_m: float,
    tr: Translator | None = None,
    links: Sequence[str | None] | None = None,
    kind: str = "district",
) -> str:
    """District outlines, labels and totals: rows ``[adcode, name_zh, name_en, values...]``.

    ``links`` (one relative file or None per district row) puts a link to that file
    in the district's popup; ``kind`` "city" makes the rows cities (a province map).
    """
    table = pd.DataFrame(districts.drop(columns=districts.geometry.name))
    if totals is not None and "adcode" in totals.columns and len(totals):
        keep = ["adcode"] + [c for c, *_ in _DISTRICT_FIELDS if c in totals.columns]
        table = table.merge(
            totals[keep].drop_duplicates("adcode"), on="adcode", how="left", suffixes=("", "_t")
        )
    fields = [(c, lab, unit, dec) for c, lab, unit, dec in _DISTRICT_FIELDS if c in table.columns]
    columns = [
        _clean(table["adcode"], 0),
        _clean(table["name_zh"], None),
        _clean(table["name_en"], None),
    ] + [_clean(table[c], dec) for c, _lab, _unit, dec in fields]
    rows = [list(r) for r in zip(*columns, strict=True)]
    geoms = _display_geoms(
        districts.geometry.values, crs=districts.crs, tolerance_m=tolerance_m, coverage=True
    )
    valid = ~(districts.geometry.is_empty | districts.geometry.isna())
    labels: list[list[float] | None] = [None] * len(districts)
    if valid.any():
        pts = districts.geometry[valid].representative_point().to_crs(DISPLAY_CRS)
        for i, p in zip(np.flatnonzero(valid.to_numpy()), pts, strict=True):
            labels[i] = [round(p.y, _COORD_DECIMALS), round(p.x, _COORD_DECIMALS)]
    names = [c for c, *_ in fields]
    if tr is not None and tr.zh:
        # district totals as Chinese statistics write them: 万千瓦, 亿千瓦时
        for j, (c, *_rest) in enumerate(fields):
            term = load_terms().get(f"col.{c}")
            _, conv = tr.unit(term.unit) if term is not None else ("", None)
            if conv is not None:
                columns[3 + j] = _clean(conv(pd.to_numeric(table[c]).astype(float)), 2)
        rows = [list(r) for r in zip(*columns, strict=True)]
    meta = {
        "fields": [
            [*_district_field_label(c, lab, unit, tr), 2 if tr is not None and tr.zh else dec]
            for c, lab, unit, dec in fields
        ],
        "labelUnit": tr.term("unit.wan_kw") if tr is not None and tr.zh else "MW",
        "labelIndex": names.index("capacity_mw_dc") if "capacity_mw_dc" in names else None,
        "kind": kind,
        "links": None if links is None else [None if v is None else str(v) for v in links],
    }
    payload = _join_payload(meta, rows, geoms)
    return payload[:-1] + ',"labels":' + _script_json(labels) + "}"


_ZONE_FIELDS: tuple[tuple[str, str, str, int | None], ...] = (
    ("sites", "Sites", "", 0),
    ("eligible_sites", "Eligible sites", "", 0),
    ("capacity_mw_dc", "Capacity DC", "MW", 1),
    ("capacity_mw_ac", "Capacity AC", "MW", 1),
    ("energy_gwh_yr", "Energy", "GWh/yr", 1),
)
"""Popup fields of a zone (columns of :func:`census.zones.summarize_by_zone`)."""


def _zones_payload(
    zones: gpd.GeoDataFrame,
    totals: pd.DataFrame | None,
    *,
    zone_field: str,
    tolerance_m: float,
    tr: Translator | None = None,
) -> str:
    """Zone outlines and their totals: rows ``[key, sites, eligible, MW DC, MW AC, GWh/yr]``."""
    if zone_field not in zones.columns:
        raise SchemaError(
            f"build_map(zones) has no field '{zone_field}'; its fields are "
            f"{[c for c in zones.columns if c != zones.geometry.name]}."
        )
    keys = zones[zone_field].astype(str).reset_index(drop=True)
    table = pd.DataFrame({"zone": keys})
    if totals is not None and "zone" in totals.columns and len(totals):
        tot = totals.copy()
        if "energy_gwh_yr" not in tot.columns and "energy_mwh_yr" in tot.columns:
            tot["energy_gwh_yr"] = mwh_to_gwh(tot["energy_mwh_yr"])
        keep = ["zone"] + [c for c, *_ in _ZONE_FIELDS if c in tot.columns]
        tot = tot[keep].assign(zone=tot["zone"].astype(str)).drop_duplicates("zone")
        table = table.merge(tot, on="zone", how="left")
    fields = [(c, lab, unit, dec) for c, lab, unit, dec in _ZONE_FIELDS if c in table.columns]
    columns = [_clean(table["zone"], None)]
    for c, *_rest, dec in fields:
        values = pd.to_numeric(table[c], errors="coerce").astype(float)
        if tr is not None and tr.zh and c != "sites" and c != "eligible_sites":
            term = load_terms().get(f"col.{c}")
            _, conv = tr.unit(term.unit) if term is not None else ("", None)
            if conv is not None:
                values, dec = conv(values), 2
        columns.append(_clean(values, dec))
    rows = [list(r) for r in zip(*columns, strict=True)]
    geoms = _display_geoms(zones.geometry.values, crs=zones.crs, tolerance_m=tolerance_m)
    label = tr("map.zone") if tr is not None else "Zone"
    meta = {
        "label": label,
        "fields": [
            [*_district_field_label(c, lab, unit, tr), 2 if tr is not None and tr.zh else dec]
            for c, lab, unit, dec in fields
        ],
    }
    return _join_payload(meta, rows, geoms)


def _turbines_payload(turbines: gpd.GeoDataFrame, *, canvas: bool) -> str:
    geoms = turbines.geometry
    ok = ~(geoms.is_empty | geoms.isna())
    turbines, geoms = turbines[ok.to_numpy()], geoms[ok]
    lon, lat = transformer(turbines.crs, DISPLAY_CRS).transform(
        geoms.x.to_numpy(), geoms.y.to_numpy()
    )
    points = np.round(np.column_stack([lat, lon]), _COORD_DECIMALS)
    n = len(points)
    energy = turbines["energy_mwh_yr"] if "energy_mwh_yr" in turbines.columns else [None] * n
    rows = [
        list(r)
        for r in zip(
            _clean(turbines["turbine_id"], None),
            _clean(turbines["site_id"], None),
            _clean(energy, 0),
            strict=True,
        )
    ]
    return (
        '{"meta":'
        + _script_json({"canvas": canvas})
        + ',"rows":'
        + _script_json(rows)
        + ',"points":'
        + json.dumps(points.tolist(), separators=(",", ":"))
        + "}"
    )


def _district_field_label(
    col: str, label: str, unit: str, tr: Translator | None
) -> tuple[str, str]:
    if tr is None or not tr.zh:
        return label, unit
    term = load_terms().get(f"col.{col}")
    if term is None:
        return tr.term(f"col.{col}", default=label), unit
    shown, _ = tr.unit(term.unit)
    return term.zh, shown


def _legend_html(
    entries: list[tuple[str, str, int, int, bool]],
    *,
    turbines: bool,
    cell_m: float,
    zoom: int,
    tr: Translator | None = None,
    index: bool = False,
    cities: bool = False,
    city_links: bool = False,
) -> str:
    esc = _esc
    tr = tr or Translator("en")
    parts = [f'<div class="census-legend" id="census-legend"><h4>{esc(tr("map.legend"))}</h4>']
    for label, color, n, n_elig, aggregated in entries:
        star = " *" if aggregated else ""
        counts = tr("map.legend_entry", eligible=f"{n_elig:,}", n=f"{n:,}")
        parts.append(
            f'<div><span class="sw" style="background:{esc(color)}"></span>{esc(label)}'
            f"{'' if tr.zh else ' '}{esc(counts)}{star}</div>"
        )
    if entries:  # no sites, nothing excluded to explain (a province map)
        parts.append(
            '<div><span class="sw" style="background:#a8a8a8;border:1px dashed #555"></span>'
            f"{esc(tr('map.excluded_site'))}</div>"
        )
    if turbines:
        parts.append(f'<div><span class="pt"></span>{esc(tr("map.turbine"))}</div>')
    boundary = tr("map.city_boundary" if cities else "map.district_boundary")
    parts.append(f'<div><span class="ln"></span>{esc(boundary)}</div>')
    if cities and city_links:
        parts.append(f'<div class="note">{esc(tr("map.province_note"))}</div>')
    if index:
        note = tr("map.index_note", cell=f"{cell_m:,.0f}")
        parts.append(f'<div class="note">{esc(note)}</div>')
    elif any(e[4] for e in entries):
        note = tr("map.aggregated_note", cell=f"{cell_m:,.0f}", zoom=zoom)
        parts.append(f'<div class="note">{esc(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _title_html(title: str, synthetic: bool, tr: Translator | None = None) -> str:
    tr = tr or Translator("en")
    banner = (
        f'<span class="census-banner" id="census-synthetic-banner">{_esc(tr("map.banner"))}</span>'
        if synthetic
        else ""
    )
    return f'<div class="census-title" id="census-title">{_esc(title)}{banner}</div>'


# --------------------------------------------------------------------------- public API


def build_map(
    sites: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    turbines: gpd.GeoDataFrame | None = None,
    district_totals: pd.DataFrame | None = None,
    title: str,
    synthetic: bool = False,
    tiles: str | None = None,
    attribution: str | None = None,
    max_sites_detail: int = 5_000,
    detail_min_zoom: int = 15,
    aggregate_cell_m: float = 1_000.0,
    simplify_tolerance_m: float = 1.0,
    district_tolerance_m: float = 25.0,
    lang: str = "en",
    detail_links: pd.Series | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_totals: pd.DataFrame | None = None,
    zone_field: str = "zone",
    district_links: Sequence[str | None] | None = None,
    district_kind: Literal["district", "city"] = "district",
) -> folium.Map:
    """Build a candidate-site map with a layer per category.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        The site table, in a projected metric CRS (normally EPSG:4549). Needs
        ``site_id``, ``category`` and ``eligible``; shows ``name``, ``district``,
        ``technology``, ``area_m2``, ``usable_area_m2``, ``capacity_mw_dc``,
        ``energy_mwh_yr``, ``specific_yield_kwh_kwp``, ``capacity_factor``,
        ``n_turbines``, ``exclusion_reasons`` and ``clipped_by`` when present.
    districts : geopandas.GeoDataFrame
        District boundaries with ``adcode``, ``name_zh`` and ``name_en``, metric CRS.
    turbines : geopandas.GeoDataFrame, optional
        Turbine points with ``site_id``, ``turbine_id`` and ``energy_mwh_yr``
        [MWh yr⁻¹], metric CRS.
    district_totals : pandas.DataFrame, optional
        District totals by ``adcode``: ``capacity_mw_dc`` [MW], ``pv_capacity_mw`` [MW],
        ``wind_capacity_mw`` [MW], ``energy_gwh_yr`` [GWh yr⁻¹], ``eligible_sites``.
        When omitted, totals of the eligible sites are computed from ``sites``.
    title : str
        Title shown on the map and in the browser tab (escaped).
    synthetic : bool, default False
        Show the banner "Demo: synthetic site layers".
    tiles : str, optional
        Base-tile URL template (``https://.../{z}/{x}/{y}.png`` or a local
        ``tiles/{z}/{x}/{y}.png``); None draws no base map, so the file needs no network.
    attribution : str, optional
        Attribution text of the tiles (shown as plain text).
    max_sites_detail : int, default 5000
        Categories with more sites are aggregated into cells below ``detail_min_zoom``.
    detail_min_zoom : int, default 15
        Web-map zoom level from which aggregated categories show single sites.
    aggregate_cell_m : float, default 1000
        Side of the aggregation cells, in the metric CRS. [m]
    simplify_tolerance_m : float, default 1
        Smallest display simplification of a site; larger sites use 1 % of the
        square root of their area, up to 20 m. [m]
    district_tolerance_m : float, default 25
        Display simplification of district boundaries (topology kept). [m]
    lang : {"en", "zh"}, default "en"
        Language of the legend, layer names, popups and tooltips (:mod:`census.i18n`);
        Chinese popups show 年利用小时数 for the capacity factor and district totals in
        万千瓦 and 亿千瓦时.
    detail_links : pandas.Series, optional
        Makes an index map (see :mod:`census.maps_scale`): for each site (same
        index as ``sites``) the relative file of the detail map that draws it.
        Every category is then drawn as cells only, each cell linking to the
        detail map of most of its sites, opened at the cell.
    zones : geopandas.GeoDataFrame, optional
        Zone polygons (villages, townships, parks; ``census run --zones``) with the key
        column ``zone_field``, any CRS; drawn as dashed outlines in their own layer.
    zone_totals : pandas.DataFrame, optional
        :func:`census.zones.summarize_by_zone` output (``zone``, ``sites``,
        ``eligible_sites``, ``capacity_mw_dc``, ``capacity_mw_ac`` [MW],
        ``energy_gwh_yr`` [GWh yr⁻¹]), shown in each zone's popup.
    zone_field : str, default "zone"
        Key column of ``zones``.
    district_links : sequence of str or None, optional
        One relative file (or None) per row of ``districts``: the row's popup links to
        it (a province map links each city to the city's ``map.html``).
    district_kind : {"district", "city"}, default "district"
        What the rows of ``districts`` are: "city" names the layer and the popups
        for cities (:func:`census.province.province_map`).

    Returns
    -------
    folium.Map
        Write it with :func:`save_map` to get one offline HTML file.

    Raises
    ------
    SchemaError
        A required column is missing.
    census.exceptions.MissingCRSError
        A layer has no CRS.
    """
    if not isinstance(title, str):
        raise TypeError(f"title must be a str; got {type(title).__name__}.")
    if max_sites_detail < 0:
        raise ValueError(f"max_sites_detail must be >= 0; got {max_sites_detail}.")
    if aggregate_cell_m <= 0 or simplify_tolerance_m < 0 or district_tolerance_m < 0:
        raise ValueError(
            "aggregate_cell_m must be > 0 and the tolerances >= 0 [m]; got "
            f"{aggregate_cell_m}, {simplify_tolerance_m}, {district_tolerance_m}."
        )
    if tiles is not None and not all(k in tiles for k in ("{z}", "{x}", "{y}")):
        raise ValueError(
            f"tiles must be a URL template with {{z}}, {{x}} and {{y}}; got {tiles!r}. "
            "Use tiles=None for a map without base tiles."
        )
    if district_kind not in ("district", "city"):
        raise ValueError(f"district_kind must be 'district' or 'city'; got {district_kind!r}.")
    if district_links is not None and len(district_links) != len(districts):
        raise ValueError(
            f"district_links needs one entry per district row ({len(districts)}); got "
            f"{len(district_links)}."
        )
    _require_columns(sites, _SITE_REQUIRED, "build_map(sites)")
    _require_columns(districts, _DISTRICT_REQUIRED, "build_map(districts)")
    sites = _map_columns(_metric(sites, "sites"), index=detail_links is not None)
    districts = _metric(districts, "districts").to_crs(sites.crs)
    if turbines is not None:
        _require_columns(turbines, _TURBINE_REQUIRED, "build_map(turbines)")
        turbines = _metric(turbines, "turbines")
    drawn = ~(sites.geometry.isna() | sites.geometry.is_empty)
    if not drawn.all():  # (a boolean selection copies the table even when it keeps all)
        sites = sites[drawn]
    if district_totals is None:
        district_totals = _totals_from_sites(sites)
    tr = Translator(lang, district_names=district_names(districts))  # type: ignore[arg-type]

    # each site's category as text (str per distinct value, not per site); a missing
    # category is "" (drawn in its own layer, "(no category)"), never dropped
    cat_codes, cat_uniques = pd.factorize(sites["category"], use_na_sentinel=False)
    category_of = np.array(["" if pd.isna(v) else str(v) for v in cat_uniques], dtype=object)[
        cat_codes
    ]
    counts = pd.Series(category_of, dtype=object).value_counts()
    known = [c for c in CATEGORY_COLORS if c in counts.index]
    categories = known + sorted(c for c in counts.index if c not in CATEGORY_COLORS)
    canvas = bool((counts > max_sites_detail).any()) or detail_links is not None

    m = folium.Map(tiles=None, prefer_canvas=False, control_scale=True, max_zoom=20, zoom_snap=0.5)
    # The assets are inlined below; folium's CDN links (Leaflet, jQuery, Bootstrap,
    # Font Awesome, awesome-markers) are dropped.
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.title = _esc(title)
    leaflet_js, leaflet_css = _leaflet_assets()
    root.header.add_child(_Raw(f"<style>{leaflet_css}</style>"), name="census_leaflet_css")
    root.header.add_child(_Raw(f"<style>{_CENSUS_CSS}</style>"), name="census_css")
    root.header.add_child(_Raw(f"<script>{leaflet_js}</script>"), name="census_leaflet_js")
    root.header.add_child(_Raw(f"<script>{_CENSUS_JS}</script>"), name="census_js")
    map_name = m.get_name()
    m.add_child(
        _MapScript(
            "init",
            arg=_script_json({"canvas": canvas, "t": _map_strings(tr, detail_min_zoom)}),
            body_html=_title_html(title, synthetic, tr),
        )
    )
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles,
            attr=_esc(attribution or "Base map tiles"),
            name=_esc(tr("map.base_map")),
            max_zoom=20,
            control=False,
        ).add_to(m)

    layer_name = tr("map.cities_layer" if district_kind == "city" else "map.districts_layer")
    fg = folium.FeatureGroup(name=_esc(layer_name), show=True)
    fg.add_child(
        _CensusCall(
            "addDistricts",
            _districts_payload(
                districts,
                district_totals,
                tolerance_m=district_tolerance_m,
                tr=tr,
                links=district_links,
                kind=district_kind,
            ),
            map_name,
        )
    )
    fg.add_to(m)
    if zones is not None and len(zones):
        zones = _metric(zones, "zones")
        zg = folium.FeatureGroup(name=_esc(tr("map.zones_layer", n=f"{len(zones):,}")), show=True)
        zg.add_child(
            _CensusCall(
                "addZones",
                _zones_payload(
                    zones,
                    zone_totals,
                    zone_field=zone_field,
                    tolerance_m=district_tolerance_m,
                    tr=tr,
                ),
                map_name,
            )
        )
        zg.add_to(m)

    entries: list[tuple[str, str, int, int, bool]] = []
    if detail_links is not None:
        detail_links = detail_links.reindex(sites.index)  # then taken by position
    for index, category in enumerate(categories):
        payload, aggregated, n_sub, n_elig = _sites_payload(
            sites,
            rows=np.flatnonzero(category_of == category),
            category=category,
            index=index,
            max_sites_detail=max_sites_detail,
            detail_min_zoom=detail_min_zoom,
            aggregate_cell_m=aggregate_cell_m,
            simplify_tolerance_m=simplify_tolerance_m,
            tr=tr,
            links=detail_links,
        )
        label = _category_label(category, tr)
        entries.append((label, _category_color(category, index), n_sub, n_elig, aggregated))
        group = folium.FeatureGroup(name=_esc(f"{label} ({n_sub:,})"), show=True)
        group.add_child(_CensusCall("addSites", payload, map_name))
        group.add_to(m)

    has_turbines = turbines is not None and len(turbines) > 0
    if has_turbines:
        group = folium.FeatureGroup(
            name=_esc(tr("map.turbines_layer", n=f"{len(turbines):,}")), show=True
        )
        group.add_child(
            _CensusCall("addTurbines", _turbines_payload(turbines, canvas=canvas), map_name)
        )
        group.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(
        _Verbatim(
            _legend_html(
                entries,
                turbines=has_turbines,
                cell_m=aggregate_cell_m,
                zoom=detail_min_zoom,
                tr=tr,
                index=detail_links is not None,
                cities=district_kind == "city",
                city_links=district_links is not None and any(district_links),
            )
        ),
        name="census_legend",
    )

    frames = [g.total_bounds for g in (districts.geometry, sites.geometry) if len(g)]
    if frames:
        # the box of the metric bounds (densified edges), not every vertex reprojected
        b = np.array(frames, dtype=float)
        box = (np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3]))
        bounds = np.array(
            transformer(sites.crs, DISPLAY_CRS).transform_bounds(*box, densify_pts=21)
            if np.all(np.isfinite(box))
            else [np.nan] * 4
        )
        if np.all(np.isfinite(bounds)):
            minx, miny, maxx, maxy = (float(v) for v in bounds)
            m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(10, 10))
    m.add_child(_MapScript("ready"))
    return m


_PAYLOAD_OPEN = '<script type="application/json" id="'


def _without_payloads(text: str) -> str:
    """Return the page without its JSON data blocks (for the offline check).

    The data blocks hold only JSON escaped for ``<script>`` (no ``<``), so they
    cannot load anything; leaving them out keeps the check fast at a million
    sites and free of false alarms from site names such as "@import".
    """
    parts: list[str] = []
    pos = 0
    while (start := text.find(_PAYLOAD_OPEN, pos)) >= 0:
        end = text.find("</script>", start)
        if end < 0:
            break
        parts.append(text[pos:start])
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`build_map`.
    path : str or os.PathLike
        Target file; its folder is created. An existing file is replaced.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        The page would load a script, style sheet or image from the network
        (e.g. a folium plugin added to the map pulls its assets from a CDN).
    """
    if not isinstance(m, folium.Map):
        raise TypeError(f"save_map needs a folium.Map; got {type(m).__name__}.")
    text = m.get_root().render()
    page = _without_payloads(text)
    bad = _REMOTE_TAG.search(page) or _REMOTE_CSS.search(page)
    if bad:
        raise ValueError(
            "The map would load an asset from the network "
            f"({text[bad.start() : bad.start() + 120]!r}); census maps must open offline. "
            "Remove the plugin or element that adds it, or inline its asset."
        )
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("wrote map %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


def district_map_filename(adcode: Any, name_en: Any) -> str:
    """Return the file name of a district map: ``<adcode>_<name_en>.html``.

    Characters other than ASCII letters, digits, ``-`` and ``_`` in the name
    become ``_``, so a name from the data cannot leave the ``maps`` folder.
    """
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", str(name_en)).strip("_") or "district"
    return f"{int(adcode)}_{slug}.html"


def _select_districts(districts: gpd.GeoDataFrame, wanted: Iterable[Any]) -> list[int]:
    by_key: dict[str, int] = {}
    for adcode, zh, en in zip(
        districts["adcode"], districts["name_zh"], districts["name_en"], strict=True
    ):
        for key in (str(int(adcode)), str(zh).strip().lower(), str(en).strip().lower()):
            by_key[key] = int(adcode)
    chosen: list[int] = []
    unknown: list[Any] = []
    for w in wanted:
        key = str(int(w)) if isinstance(w, int | np.integer) else str(w).strip().lower()
        if key in by_key:
            if by_key[key] not in chosen:
                chosen.append(by_key[key])
        else:
            unknown.append(w)
    if unknown:
        names = ", ".join(
            f"{int(a)} {en}"
            for a, en in zip(districts["adcode"], districts["name_en"], strict=True)
        )
        raise ValueError(
            f"Unknown district(s) {unknown}; use an adcode or a Chinese or English name "
            f"from: {names}."
        )
    return chosen


def refuse_existing(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Raise OutputExistsError naming the map files that exist, unless ``overwrite``."""
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"Map file(s) already exist: {', '.join(existing)}. Pass overwrite=True "
            "(census map RUN_DIR --overwrite) to replace them, or write to another folder."
        )


def zones_by_district(
    zones: gpd.GeoDataFrame | None, districts: gpd.GeoDataFrame
) -> dict[int, gpd.GeoDataFrame]:
    """Return the zones each district's map draws: those whose outline meets it.

    A zone across a border is drawn on both districts' maps, whole, with its whole
    totals (the zone table is by zone, not by zone and district).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or None
        Zone polygons, any CRS.
    districts : geopandas.GeoDataFrame
        District boundaries with ``adcode``, in a metric CRS.

    Returns
    -------
    dict of int to geopandas.GeoDataFrame
        Zones by adcode; empty without zones.
    """
    if zones is None or not len(zones):
        return {}
    metric = _metric(zones, "zones").to_crs(districts.crs)
    outlines = np.asarray(metric.geometry.values, dtype=object)
    out: dict[int, gpd.GeoDataFrame] = {}
    for code, district in zip(districts["adcode"], districts.geometry.values, strict=True):
        if district is None or district.is_empty:
            continue
        shapely.prepare(district)
        # a zone that only shares the border (a neighbour's park) is not drawn
        hit = shapely.intersects(district, outlines) & ~shapely.touches(district, outlines)
        if hit.any():
            out[int(code)] = zones[hit]
    return out


def write_maps(
    run_dir_or_folder: str | os.PathLike[str],
    sites: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    turbines: gpd.GeoDataFrame | None = None,
    district_totals: pd.DataFrame | None = None,
    districts_filter: Iterable[Any] | None = None,
    synthetic: bool = False,
    tiles: str | None = None,
    attribution: str | None = None,
    overwrite: bool = False,
    city_name: str = "Hangzhou",
    max_sites_detail: int = 5_000,
    lang: str = "en",
    max_sites_per_map: int | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_totals: pd.DataFrame | None = None,
    zone_field: str = "zone",
) -> list[Path]:
    """Write the city map and one map per district.

    Writes ``map.html`` (the city) and ``maps/<adcode>_<name_en>.html`` (each
    district, see :func:`district_map_filename`) into ``run_dir_or_folder``.
    With ``districts_filter`` only the chosen districts' maps are written, and
    no city map.

    Parameters
    ----------
    run_dir_or_folder : str or os.PathLike
        Folder to write into (created when missing).
    sites, districts, turbines, district_totals
        As in :func:`build_map`; the site table needs ``adcode`` (or ``district``
        holding the English name) to be split by district.
    districts_filter : iterable of int or str, optional
        Adcodes or Chinese or English names of the districts to write.
    synthetic : bool, default False
        Show the banner "Demo: synthetic site layers".
    tiles, attribution : str, optional
        Base tiles, as in :func:`build_map`.
    overwrite : bool, default False
        Replace existing map files; otherwise an existing file is an error.
    city_name : str, default "Hangzhou"
        Name used in the city map's title.
    max_sites_detail : int, default 5000
        As in :func:`build_map`.
    lang : {"en", "zh"}, default "en"
        Language of the maps, as in :func:`build_map`.
    max_sites_per_map : int, optional
        Most sites one map file draws. Above it the city map (and the map of a
        larger district) becomes an index of cells linking to detail maps; see
        :func:`census.maps_scale.write_maps_split`. Default: no limit.
    zones, zone_totals, zone_field
        Zone outlines and totals, as in :func:`build_map`: every zone on the city map
        (also when it is an index map), and on each district map the zones that meet
        the district (:func:`zones_by_district`).

    Returns
    -------
    list of pathlib.Path
        The files written, city map first.

    Raises
    ------
    OutputExistsError
        A target file exists and ``overwrite`` is False; nothing is written.
    ValueError
        ``districts_filter`` names an unknown district.
    """
    folder = Path(run_dir_or_folder).expanduser()
    _require_columns(districts, _DISTRICT_REQUIRED, "write_maps(districts)")
    if max_sites_per_map is not None and len(sites) > max_sites_per_map:
        from census.maps_scale import write_maps_split

        return write_maps_split(
            folder,
            sites,
            districts,
            max_sites_per_map=max_sites_per_map,
            turbines=turbines,
            district_totals=district_totals,
            districts_filter=districts_filter,
            synthetic=synthetic,
            tiles=tiles,
            attribution=attribution,
            overwrite=overwrite,
            city_name=city_name,
            max_sites_detail=max_sites_detail,
            lang=lang,
            zones=zones,
            zone_totals=zone_totals,
            zone_field=zone_field,
        )
    if isinstance(sites, gpd.GeoDataFrame):
        sites = _map_columns(sites)  # fewer columns to copy for each district
    if districts_filter is not None:
        if isinstance(districts_filter, str | int):
            districts_filter = [districts_filter]
        chosen = _select_districts(districts, districts_filter)
    else:
        chosen = [int(a) for a in districts["adcode"]]

    by_adcode = {int(a): i for i, a in enumerate(districts["adcode"])}
    jobs: list[tuple[Path, int | None]] = []
    if districts_filter is None:
        jobs.append((folder / LAYOUT.city_map, None))
    for adcode in chosen:
        name_en = districts["name_en"].iloc[by_adcode[adcode]]
        jobs.append((folder / LAYOUT.maps_dir / district_map_filename(adcode, name_en), adcode))
    refuse_existing([p for p, _ in jobs], overwrite=overwrite)

    common: dict[str, Any] = {
        "synthetic": synthetic,
        "tiles": tiles,
        "attribution": attribution,
        "max_sites_detail": max_sites_detail,
        "lang": lang,
    }
    tr = Translator(lang)  # type: ignore[arg-type]
    district_zones = zones_by_district(zones, districts)
    written: list[Path] = []
    for path, adcode in jobs:
        if adcode is None:
            m = build_map(
                sites,
                districts,
                turbines=turbines,
                district_totals=district_totals,
                title=tr("map.city_title", city=city_name),
                zones=zones,
                zone_totals=zone_totals,
                zone_field=zone_field,
                **common,
            )
        else:
            row = districts.iloc[by_adcode[adcode]]
            if "adcode" in sites.columns:
                mask = pd.to_numeric(sites["adcode"], errors="coerce") == adcode
            elif "district" in sites.columns:
                mask = sites["district"].astype(str) == str(row["name_en"])
            else:
                raise SchemaError(
                    "write_maps needs an 'adcode' or 'district' column in sites to split them "
                    f"by district; got {list(sites.columns)}."
                )
            sub = sites[mask.to_numpy()]
            sub_turbines = None
            if turbines is not None:
                sub_turbines = turbines[turbines["site_id"].isin(sub["site_id"]).to_numpy()]
            totals = None
            if district_totals is not None and "adcode" in district_totals.columns:
                totals = district_totals[
                    pd.to_numeric(district_totals["adcode"], errors="coerce") == adcode
                ]
            m = build_map(
                sub,
                districts.iloc[[by_adcode[adcode]]],
                turbines=sub_turbines,
                district_totals=totals,
                title=tr(
                    "map.district_title",
                    name=row["name_zh"] if tr.zh else f"{row['name_zh']} {row['name_en']}",
                ),
                zones=district_zones.get(adcode),
                zone_totals=zone_totals,
                zone_field=zone_field,
                **common,
            )
        written.append(save_map(m, path))
    return written


def maps_from_run(
    run_dir: str | os.PathLike[str],
    *,
    districts: Iterable[Any] | None = None,
    overwrite: bool = False,
    tiles: str | None = None,
    attribution: str | None = None,
) -> list[Path]:
    """Rebuild the maps of a finished run without recomputing it.

    Reads ``sites.gpkg`` (layers ``sites`` and, if present, ``turbines``),
    ``districts.gpkg`` (layer ``districts``), ``summary_by_district.csv`` (if
    present) and ``provenance.json`` (``synthetic_inputs``) from ``run_dir``
    and calls :func:`write_maps` on it.

    Parameters
    ----------
    run_dir : str or os.PathLike
        Folder of a finished run.
    districts : iterable of int or str, optional
        Only these districts (adcodes or names); the city map is then not written.
    overwrite : bool, default False
        Replace existing map files.
    tiles, attribution : str, optional
        Base tiles; by default ``outputs.map_tiles`` and ``outputs.map_tiles_attribution``
        from the run's recorded config, when present, else none.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    InputError
        A required file of the run is missing.
    """
    run = open_run(run_dir, need=[LAYOUT.sites, LAYOUT.districts, LAYOUT.provenance])
    provenance = run.provenance()
    synthetic = bool(provenance.get("synthetic_inputs", False))
    lang = provenance.get("language") or "en"
    outputs_cfg = (provenance.get("config") or {}).get("outputs") or {}
    if tiles is None and isinstance(outputs_cfg, dict):
        tiles = outputs_cfg.get("map_tiles") or None
        attribution = attribution or outputs_cfg.get("map_tiles_attribution") or None
    sites = run.sites()
    turbines = run.turbines()
    district_gdf = run.districts()
    has_totals = run.file(LAYOUT.summary_by_district).is_file()
    totals = run.table(LAYOUT.summary_by_district) if has_totals else None
    folder = run.path
    written = write_maps(
        folder,
        sites,
        district_gdf,
        turbines=turbines,
        district_totals=totals,
        districts_filter=districts,
        synthetic=synthetic,
        tiles=tiles,
        attribution=attribution,
        overwrite=overwrite,
        lang=lang,
        max_sites_per_map=_int_or_none(outputs_cfg.get("map_max_sites")),
    )
    register_files(folder, [Path(p).relative_to(folder).as_posix() for p in written])
    return written


def _int_or_none(v: Any) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None
