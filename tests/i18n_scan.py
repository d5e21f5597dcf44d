"""Find English words left in Chinese outputs (shared by the i18n tests)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# What a Chinese reader expects to see in Latin letters: units, abbreviations that Chinese
# reports print as they are, proper names, the program's own name.
WHITELIST = {
    # units
    "MW",
    "MWh",
    "GWh",
    "kWh",
    "kWp",
    "kW",
    "km²",
    "m²",
    "h",
    "t",
    "yr",
    "CNY",
    # abbreviations Chinese reports use as they are
    "PV",
    "BIPV",
    "LCOE",
    "CO2",
    "SHA-256",
    "UTC",
    "DC",
    "AC",
    "PNG",
    "HTML",
    "CSV",
    "GCJ-02",
    "WGS84",
    "EPSG",
    "CGCS2000",
    "DEMO",
    # proper names: the program, its packages, the place
    "census",
    "Hangzhou",
    "Leaflet",
    "matplotlib",
    "pvlib",
    "windpowerlib",
    "Noto",
    "Sans",
    "CJK",
    "Debian",
    "fonts-noto-cjk",
    "adcode",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def _is_id(token: str) -> bool:
    """Ids, numbers, paths, file names, dotted keys and hashes are not words."""
    return bool(
        re.search(r"\d", token)
        or "/" in token
        or "\\" in token
        or re.search(r"\w\.\w", token)
        or ":" in token.strip(":")
        or "_" in token
    )


def english_words(text: str, *, proper_names: set[str] = frozenset()) -> list[str]:
    """Return the English words of ``text`` outside the whitelist, ids and proper names."""
    out = []
    for token in text.split():
        if re.fullmatch(r"\[[a-z_.]+\]", token):
            continue  # a config section such as [targets]
        token = token.strip("()[]（）【】,.;:，。；：、!?\"'“”")
        if not token or _is_id(token) or token in proper_names:
            continue
        for word in _WORD.findall(token):
            if word not in WHITELIST and word not in proper_names:
                out.append(word)
    return out


class VisibleText(HTMLParser):
    """Collect text a reader sees, skipping style/script and elements marked lang="en"."""

    SKIP = {"style", "script", "title"}
    VOID = {"br", "img", "meta", "link", "input", "hr", "col", "area", "base", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            alt = dict(attrs).get("alt")
            if alt and not any(s for _, s in self.stack):
                self.parts.append(alt)
            return
        skip = tag in self.SKIP or dict(attrs).get("lang") == "en"
        self.stack.append((tag, skip or any(s for _, s in self.stack)))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if not any(s for _, s in self.stack) and data.strip():
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)
