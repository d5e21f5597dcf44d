"""Language of the human-facing outputs: Chinese (zh) or English (en).

Terms (quantities, categories, technologies, screening reasons, targets, units) are
data in ``resources/terms.yaml`` (key, zh, en, unit, source); the sentences of the
report, maps and CLI are in ``resources/strings.yaml`` (key, zh, en). Machine column
names in CSV and GeoPackage files never change; only what people read does.

Chinese outputs show quantities in the units Chinese statistics and plans use:
capacity in 万千瓦 (10 MW) alongside MW, energy in 亿千瓦时 or 万千瓦时, CO2 in 万吨,
capacity factor as 年利用小时数 (full-load hours). :func:`localize_table` converts the
roll-up tables once, through :mod:`census.units`, and every format (HTML, XLSX, DOCX,
PDF) shows that same converted table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from census import units
from census.resources import read_text

__all__ = [
    "LANGUAGES",
    "Language",
    "LocalTable",
    "Term",
    "Translator",
    "district_names",
    "format_cell",
    "load_strings",
    "load_terms",
    "localize_table",
    "resolve_language",
]

Language = Literal["zh", "en"]
LANGUAGES: tuple[str, ...] = ("zh", "en")
Scale = Literal["aggregate", "site"]


@dataclass(frozen=True)
class Term:
    """One term of ``terms.yaml``."""

    key: str
    zh: str
    en: str
    unit: str
    source: str
    glossary: bool = False


@cache
def load_terms() -> dict[str, Term]:
    """Return the terms of ``resources/terms.yaml`` by key.

    Raises
    ------
    ValueError
        An entry lacks ``zh``, ``en``, ``unit`` or ``source``, or has other fields.
    """
    raw = yaml.safe_load(read_text("terms.yaml"))
    out: dict[str, Term] = {}
    for key, node in raw.items():
        if key.startswith("_"):
            continue  # YAML anchors of the sources
        if not isinstance(node, dict) or not {"zh", "en", "unit", "source"} <= set(node):
            raise ValueError(f"terms.yaml: '{key}' needs zh, en, unit and source; got {node!r}.")
        extra = set(node) - {"zh", "en", "unit", "source", "glossary"}
        if extra:
            raise ValueError(f"terms.yaml: '{key}' has unknown fields {sorted(extra)}.")
        values = {k: str(node[k]).strip() for k in ("zh", "en", "unit", "source")}
        if not all(values.values()):
            raise ValueError(f"terms.yaml: '{key}' has an empty field: {values}.")
        out[str(key)] = Term(key=str(key), glossary=bool(node.get("glossary", False)), **values)
    return out


@cache
def load_strings() -> dict[str, dict[str, str]]:
    """Return the sentences of ``resources/strings.yaml``: key -> {zh, en}."""
    raw = yaml.safe_load(read_text("strings.yaml"))
    out: dict[str, dict[str, str]] = {}
    for key, node in raw.items():
        if not isinstance(node, dict) or set(node) != {"zh", "en"}:
            raise ValueError(f"strings.yaml: '{key}' needs exactly zh and en; got {node!r}.")
        out[str(key)] = {k: str(v) for k, v in node.items()}
    return out


def resolve_language(setting: str, districts: Any = None) -> Language:
    """Resolve ``[outputs] language`` to ``"zh"`` or ``"en"``.

    Parameters
    ----------
    setting : {"auto", "zh", "en"}
        The configured language; ``auto`` is Chinese when the study area lies in China.
    districts : geopandas.GeoDataFrame, optional
        The study area's boundaries (any CRS). ``auto`` looks at their combined
        representative point in EPSG:4326: inside the box around China that GCJ-02
        uses (:func:`census.crs.in_china`) gives Chinese, elsewhere English.

    Returns
    -------
    {"zh", "en"}
    """
    setting = str(setting).strip().lower()
    if setting in LANGUAGES:
        return setting  # type: ignore[return-value]
    if setting != "auto":
        raise ValueError(f"language must be 'auto', 'zh' or 'en'; got {setting!r}.")
    if districts is None or len(districts) == 0 or getattr(districts, "crs", None) is None:
        return "en"
    from census.crs import DISPLAY_CRS, in_china

    point = districts.to_crs(DISPLAY_CRS).geometry.union_all().representative_point()
    return "zh" if bool(in_china(point.x, point.y)) else "en"


# ----------------------------------------------------------------------------- units

# unit token -> {language: (unit term key, converter)} for the aggregate scale (district and
# city tables); at the site scale Chinese keeps MW/MWh (万千瓦 would show 0.01 for a rooftop).
_AGGREGATE: dict[str, dict[str, tuple[str, Callable[[Any], Any] | None]]] = {
    "mw": {"en": ("unit.mw", None), "zh": ("unit.wan_kw", units.mw_to_wan_kw)},
    "mwh": {"en": ("unit.mwh", None), "zh": ("unit.wan_kwh", units.mwh_to_wan_kwh)},
    "mwh_yr": {"en": ("unit.mwh_yr", None), "zh": ("unit.wan_kwh_yr", units.mwh_to_wan_kwh)},
    "gwh_yr": {"en": ("unit.gwh_yr", None), "zh": ("unit.yi_kwh_yr", units.gwh_to_yi_kwh)},
    "t_yr": {"en": ("unit.t_yr", None), "zh": ("unit.wan_t_yr", units.t_to_wan_t)},
}
_PLAIN = {
    "km2": "unit.km2",
    "m2": "unit.m2",
    "h": "unit.h",
    "kwh_kwp_yr": "unit.kwh_kwp_yr",
    "kwh_kw_yr": "unit.kwh_kw_yr",
    "cny_kwh": "unit.cny_kwh",
    "ratio": "unit.ratio",
    "mw": "unit.mw",
    "mwh": "unit.mwh",
    "mwh_yr": "unit.mwh_yr",
    "gwh_yr": "unit.gwh_yr",
    "t_yr": "unit.t_yr",
    "frac": "unit.frac",
    "kw_per_person": "unit.kw_per_person",
}
_NO_UNIT = {"-", "count"}

# text columns whose values are codes with terms
_CODE_COLUMNS = {
    "category": "category",
    "technology": "technology",
    "target": "target",
    "reason": "reason",
    "curve": "technology",
}


def _note_text(tr: Translator, text: Any) -> Any:
    """Translate the roll-up's fixed target notes; any other note is shown as written."""
    from census.rollup import NO_EXISTING_NOTE

    keys = {
        NO_EXISTING_NOTE: "note.no_existing",
        "existing capacity from the existing-capacity table": "note.from_existing",
    }
    return tr.term(keys[text]) if isinstance(text, str) and text in keys else text


_FACTOR_LABEL = re.compile(r"^(?P<name>\S.*?) \((?P<value>[0-9.eE+-]+) tCO2/MWh\)$")


def emission_factor_text(tr: Translator, text: Any) -> Any:
    """Translate the roll-up's emission-factor label ``"<preset> (<value> tCO2/MWh)"``."""
    m = _FACTOR_LABEL.match(text) if isinstance(text, str) else None
    if m is None or not tr.zh:
        return text
    name = tr.code("emission_factor", m["name"].replace(" ", "_"))
    return f"{name}（{m['value']} {tr.term('unit.tco2_mwh')}）"


def district_names(table: pd.DataFrame) -> dict[int, str]:
    """Return adcode -> Chinese name of a table with ``adcode`` and ``name_zh`` columns.

    Rows without an adcode are skipped; a table without the columns gives ``{}``. It is
    what :class:`Translator` takes as ``district_names``.
    """
    if not {"adcode", "name_zh"} <= set(table.columns):
        return {}
    return {
        int(a): str(z)
        for a, z in zip(table["adcode"], table["name_zh"], strict=True)
        if pd.notna(a)
    }


@dataclass
class Translator:
    """Look up terms and sentences in one language.

    Parameters
    ----------
    lang : {"zh", "en"}
        Output language.
    district_names : mapping of int to str, optional
        adcode -> Chinese district name, to show Chinese names where a table has
        only the English ``district`` column.

    Notes
    -----
    A code from the data without a term (a category a user added in config) is
    shown as it is and collected in :attr:`missing`, which the pipeline reports.
    """

    lang: Language = "en"
    district_names: Mapping[int, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"language must be 'zh' or 'en'; got {self.lang!r}.")

    @property
    def zh(self) -> bool:
        """Whether the language is Chinese."""
        return self.lang == "zh"

    def __call__(self, key: str, /, **values: Any) -> str:
        """Return the sentence ``key`` of strings.yaml (or a term), formatted with ``values``."""
        strings = load_strings()
        if key in strings:
            text = strings[key][self.lang]
        elif key in load_terms():
            text = getattr(load_terms()[key], self.lang)
        else:
            raise KeyError(f"no string or term '{key}' in census/resources/strings.yaml/terms.yaml")
        return text.format(**values) if values else text

    def term(self, key: str, default: str | None = None) -> str:
        """Return a term of terms.yaml; without it ``default`` (recorded as missing)."""
        t = load_terms().get(key)
        if t is not None:
            return getattr(t, self.lang)
        if default is None:
            raise KeyError(f"no term '{key}' in census/resources/terms.yaml")
        self.missing.add(key)
        return default

    def code(self, family: str, code: Any) -> str:
        """Translate a data code: ``code("category", "pond")`` -> 坑塘水面 / ponds."""
        text = "" if code is None or (isinstance(code, float) and math.isnan(code)) else str(code)
        if not text:
            return ""
        if family == "technology" and text.startswith("all ("):
            text = "all"  # the city total row of census.rollup.city_table
        return self.term(f"{family}.{text}", default=text)

    def codes(self, family: str, text: Any, sep: str = ",") -> str:
        """Translate a list of codes joined by ``sep`` (e.g. ``pv_2025, pv_2030``)."""
        if not isinstance(text, str) or not text.strip():
            return "" if not isinstance(text, str) else text
        joiner = "、" if self.zh else ", "
        parts = [p.strip() for p in text.replace(";", sep).split(sep) if p.strip()]
        return joiner.join(self.code(family, p) for p in parts)

    def unit(self, token: str, *, scale: Scale = "aggregate") -> tuple[str, Callable | None]:
        """Return the display unit and the converter of a stored unit token."""
        if token in _NO_UNIT:
            return "", None
        if scale == "aggregate" and token in _AGGREGATE:
            key, conv = _AGGREGATE[token][self.lang]
            return self.term(key), conv
        if token in _PLAIN:
            return self.term(_PLAIN[token]), None
        return token, None

    def header(self, column: str, *, scale: Scale = "aggregate") -> str:
        """Return the display header of a machine column name, with its unit."""
        term = load_terms().get(f"col.{column}")
        if term is None:
            self.missing.add(f"col.{column}")
            return column
        label = getattr(term, self.lang)
        if column == "capacity_factor" and self.zh:
            unit = self.term("unit.h")  # shown as 年利用小时数
        elif column == "capacity_factor":
            unit = ""
        else:
            unit, _ = self.unit(term.unit, scale=scale)
        if not unit:
            return label
        return f"{label}（{unit}）" if self.zh else f"{label} [{unit}]"

    def yes_no(self, value: bool) -> str:
        """Return yes/no in the language."""
        return self("word.yes") if value else self("word.no")


@dataclass
class LocalTable:
    """A table as people read it: converted values, translated codes and headers.

    Attributes
    ----------
    columns : list of str
        Machine names of the shown columns.
    headers : list of str
        Display headers (label and unit), aligned with ``columns``.
    frame : pandas.DataFrame
        Values in display units with codes translated; columns are ``columns``.
    formats : list of str
        Key that chooses the number format of each column (see :func:`format_cell`).
    """

    columns: list[str]
    headers: list[str]
    frame: pd.DataFrame
    formats: list[str]

    def with_headers(self) -> pd.DataFrame:
        """Return ``frame`` with the display headers as column names (for a workbook)."""
        return self.frame.set_axis(self.headers, axis=1)


def localize_table(
    df: pd.DataFrame,
    tr: Translator,
    *,
    columns: Iterable[str] | None = None,
    scale: Scale = "aggregate",
) -> LocalTable:
    """Turn a census table into what a reader of ``tr.lang`` sees.

    Parameters
    ----------
    df : pandas.DataFrame
        A roll-up, targets, supply-curve, tally or ledger table (machine column names).
    tr : Translator
        Language and district names.
    columns : iterable of str, optional
        Columns to show, in order (missing ones are skipped); default all. In Chinese
        the ``name_en`` column is left out and ``district`` shows the Chinese name.
    scale : {"aggregate", "site"}
        ``aggregate`` (district and city tables) shows Chinese capacity in 万千瓦 and
        energy in 万千瓦时 / 亿千瓦时, CO2 in 万吨; ``site`` keeps MW and MWh.

    Returns
    -------
    LocalTable
    """
    cols = [c for c in (list(columns) if columns is not None else list(df.columns)) if c in df]
    if tr.zh and "name_zh" in cols:
        cols = [c for c in cols if c != "name_en"]
    terms = load_terms()
    out: dict[str, Any] = {}
    formats: list[str] = []
    for col in cols:
        s = df[col]
        fmt = col
        term = terms.get(f"col.{col}")
        if col in _CODE_COLUMNS:
            fam = _CODE_COLUMNS[col]
            s = s.map(lambda v, fam=fam: tr.code(fam, v))
        elif col == "reaches_target":
            s = s.map(lambda v: tr.codes("target", v))
        elif col == "year":
            s = s.map(lambda v: str(int(v)) if pd.notna(v) else v)  # 2025, not 2,025
        elif col == "technologies":
            s = s.map(lambda v: tr.codes("technology", v))
        elif col in ("capacity_basis", "storage_basis"):
            s = s.map(lambda v: tr.code("basis", v))
        elif col == "label" and tr.zh and "target" in df:
            # a target's own label is the user's words; the plan's targets have terms
            s = pd.Series(
                [
                    tr.term(f"target.{t}") if f"target.{t}" in terms else lab
                    for t, lab in zip(df["target"], s, strict=True)
                ],
                index=s.index,
            )
        elif col == "note" and tr.zh:
            s = s.map(lambda v: _note_text(tr, v))
        elif col == "emission_factor" and tr.zh:
            s = s.map(lambda v: emission_factor_text(tr, v))
        elif col == "district" and tr.zh and tr.district_names and "adcode" in df:
            names = pd.to_numeric(df["adcode"], errors="coerce").map(
                lambda a: tr.district_names.get(int(a)) if pd.notna(a) else None
            )
            s = names.where(names.notna(), s)
        elif s.dtype == bool or col in ("overridden", "has_existing", "eligible"):
            s = s.map(lambda v: tr.yes_no(bool(v)) if isinstance(v, (bool, np.bool_)) else v)
        elif col == "capacity_factor" and tr.zh:
            s = units.capacity_factor_to_full_load_hours(pd.to_numeric(s, errors="coerce"))
            fmt = "full_load_hours_h"
        elif term is not None and term.unit == "count" and col not in ("rank",):
            fmt = "count"  # whole numbers even where a total row made the column float
        elif term is not None and pd.api.types.is_numeric_dtype(s):
            _, conv = tr.unit(term.unit, scale=scale)
            if conv is not None:
                s = conv(s.astype(float))
                fmt = f"{col}@{tr.lang}"
        elif col == "value" and "key" in df:
            fmt = "raw"  # ledger values are shown as written (a year is not 2,025)
        out[col] = s
        formats.append(fmt)
    frame = pd.DataFrame(out, index=df.index)[cols] if cols else pd.DataFrame(index=df.index)
    headers = [tr.header(c, scale=scale) for c in cols]
    return LocalTable(columns=cols, headers=headers, frame=frame, formats=formats)


_FMT3 = ("capacity_factor", "_frac", "ratio", "lcoe")


def format_cell(key: str, value: Any) -> str:
    """Format one table cell for reading (numbers with thousands separators).

    Parameters
    ----------
    key : str
        Format key of the column (:attr:`LocalTable.formats`; a machine column name).
    value : object
        The cell.

    Returns
    -------
    str
        ``–`` for missing values; adcodes as plain integers; ratios, capacity
        factors and costs with 3 decimals; full-load hours with none; other numbers
        with 1 decimal from 10 up, 2 from 1 up, 3 significant digits below.
    """
    if value is None or value is pd.NA:
        return "–"
    if key == "raw":
        return "–" if isinstance(value, float) and math.isnan(value) else str(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if key not in ("adcode", "rank") else str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if key in ("adcode", "rank") and x.is_integer():
            return str(int(x))
        if key == "count" and x.is_integer():
            return f"{int(x):,}"
        if key == "full_load_hours_h":
            return f"{x:,.0f}"
        if any(k in key for k in _FMT3):
            return f"{x:,.3f}"
        if abs(x) >= 10 or x == 0:
            return f"{x:,.1f}"
        return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# ----------------------------------------------------------------------------- fonts

_CJK_FAMILIES = (
    "Noto Sans CJK",
    "Source Han Sans",
    "WenQuanYi",
    "Microsoft YaHei",
    "SimHei",
    "PingFang",
    "Noto Serif CJK",
    "SimSun",
    "Droid Sans Fallback",
    "AR PL",
)
_CJK_PROBE = "装机容量年发电量万千瓦时二氧化碳减排"


@cache
def cjk_font() -> tuple[str, str] | None:
    """Find an installed font that draws Chinese, for matplotlib charts.

    Returns
    -------
    tuple of (family name, file path) or None
        The first font known to matplotlib whose family is a common CJK family and
        that has a glyph for each character of a probe text (checked with FreeType,
        so a font named CJK but lacking the glyphs is not taken). ``None`` when no
        such font is installed (Debian: ``apt-get install fonts-noto-cjk``).
    """
    try:
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    entries = sorted(
        (
            (rank, f.name, f.fname)
            for f in font_manager.fontManager.ttflist
            for rank, fam in enumerate(_CJK_FAMILIES)
            if fam.lower() in f.name.lower()
        ),
        key=lambda e: (e[0], "Bold" in e[2], e[2]),
    )
    for _rank, name, path in entries:
        if _has_glyphs(FT2Font, path):
            return name, path
    # fonts installed after matplotlib built its font cache are not in ttflist: look at the
    # system's font files by name and register the first one that draws Chinese
    for path in sorted(font_manager.findSystemFonts(), key=lambda p: ("bold" in p.lower(), p)):
        if _CJK_FILES.search(Path(path).name) and _has_glyphs(FT2Font, path):
            try:
                font_manager.fontManager.addfont(path)
                return FT2Font(path).family_name, path
            except (OSError, RuntimeError, ValueError):
                continue
    return None


_CJK_FILES = re.compile(
    r"cjk|wqy|wenquanyi|simsun|simhei|msyh|yahei|sourcehan|droidsansfallback|uming|ukai|pingfang",
    re.IGNORECASE,
)


def _has_glyphs(ft2font: Any, path: str) -> bool:
    """Whether the font file at ``path`` has a glyph for every probe character."""
    try:
        font = ft2font(path)
    except (OSError, RuntimeError):
        return False
    return all(font.get_char_index(ord(ch)) for ch in _CJK_PROBE)
