"""Benchmark the candidate-site map: build time, file size and browser load time.

Builds a city map of N synthetic sites (default 100,000: 90 % rooftops, the rest
ponds, forest, mines, landfills and mudflats with turbines), writes it with
``census.maps.save_map`` and opens it offline in Debian's headless Chromium via
playwright (``executable_path=/usr/bin/chromium``), several times.

Usage::

    python benchmarks/bench_map.py [--sites 100000] [--repeat 3] [--out /tmp/bench_map]
    python benchmarks/bench_map.py --sites 1000000 --max-sites-per-map 300000

With ``--max-sites-per-map`` the maps are written as a run writes them
(``census.maps.write_maps``): above that many sites the city map is an index of
cells and the single sites are on district maps (large districts split into
parts). It then measures the city map's first draw and the user's way to single
sites: open a dense town's cell popup, follow its link, wait until the detail
map has drawn single sites.

Prints a Markdown table for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from census.maps import build_map, save_map

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
X0, Y0 = 420_000.0, 3_290_000.0  # EPSG:4549, around Hangzhou
DX, DY = 40_000.0, 35_000.0  # 4 x 3 districts


def make_layers(n_sites: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    districts = gpd.GeoDataFrame(
        {
            "adcode": [330100 + k for k in range(12)],
            "name_zh": [f"测试{k}区" for k in range(12)],
            "name_en": [f"District {k}" for k in range(12)],
        },
        geometry=[
            shapely.box(X0 + i * DX, Y0 + j * DY, X0 + (i + 1) * DX, Y0 + (j + 1) * DY)
            for j in range(3)
            for i in range(4)
        ],
        crs="EPSG:4549",
    )
    shares = {
        "rooftop": 0.90,
        "pond": 0.05,
        "forest": 0.02,
        "mine": 0.01,
        "landfill": 0.005,
        "mudflat": 0.015,
    }
    counts = {k: int(round(v * n_sites)) for k, v in shares.items()}
    counts["rooftop"] += n_sites - sum(counts.values())
    towns = np.column_stack(
        [rng.uniform(X0 + 5e3, X0 + 4 * DX - 5e3, 40), rng.uniform(Y0 + 5e3, Y0 + 3 * DY - 5e3, 40)]
    )
    frames = []
    for cat, n in counts.items():
        if cat == "rooftop":
            centre = towns[rng.integers(0, len(towns), n)] + rng.normal(0, 1_500, (n, 2))
            half = rng.uniform(5, 20, n)
            geoms = shapely.box(
                centre[:, 0] - half, centre[:, 1] - half, centre[:, 0] + half, centre[:, 1] + half
            )
            tech = "pv_rooftop"
        else:
            centre = np.column_stack(
                [rng.uniform(X0, X0 + 4 * DX, n), rng.uniform(Y0, Y0 + 3 * DY, n)]
            )
            radius = {"pond": 80, "forest": 400, "mine": 200, "landfill": 150, "mudflat": 600}[cat]
            quad = {"pond": 4, "forest": 32, "mine": 8, "landfill": 8, "mudflat": 4}[cat]
            geoms = shapely.buffer(
                shapely.points(centre), rng.uniform(0.5, 1.5, n) * radius, quad_segs=quad
            )
            tech = {"pond": "pv_floating", "mudflat": "wind"}.get(cat, "pv_ground")
        frames.append(
            gpd.GeoDataFrame(
                {"category": [cat] * n, "technology": [tech] * n}, geometry=geoms, crs="EPSG:4549"
            )
        )
    sites = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4549")
    n = len(sites)
    sites["site_id"] = [f"S{k:06d}" for k in range(n)]
    sites["name"] = [f"Site {k}" for k in range(n)]
    joined = gpd.sjoin(
        sites[["geometry"]].set_geometry(sites.centroid), districts, how="left", predicate="within"
    )
    sites["adcode"] = joined["adcode"].fillna(0).astype(int).to_numpy()
    sites["district"] = joined["name_en"].fillna("").to_numpy()
    sites["area_m2"] = sites.area
    sites["eligible"] = rng.random(n) < 0.7
    sites["exclusion_reasons"] = np.where(sites["eligible"], "", "slope;shading")
    sites["clipped_by"] = ""
    sites["usable_area_m2"] = sites["area_m2"] * 0.6
    sites["capacity_mw_dc"] = sites["usable_area_m2"] * 1e-4
    sites["energy_mwh_yr"] = sites["capacity_mw_dc"] * 1_050.0
    wind = sites["technology"] == "wind"
    sites["specific_yield_kwh_kwp"] = np.where(wind, np.nan, 1_050.0)
    sites["capacity_factor"] = 0.12
    sites["n_turbines"] = np.where(wind, 3, np.nan)
    w = sites[wind]
    turbines = gpd.GeoDataFrame(
        {
            "site_id": np.repeat(w["site_id"].to_numpy(), 3),
            "turbine_id": [f"{s}-T{k}" for s in w["site_id"] for k in range(3)],
            "energy_mwh_yr": 5_000.0,
        },
        geometry=shapely.points(
            np.repeat(w.centroid.x.to_numpy(), 3) + np.tile([-300.0, 0.0, 300.0], len(w)),
            np.repeat(w.centroid.y.to_numpy(), 3),
        ),
        crs="EPSG:4549",
    )
    return sites, districts, turbines, towns


def browser_load(path: Path, town_latlon: tuple[float, float], repeat: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    loads, walls, zooms = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for _ in range(repeat):
            ctx = browser.new_context(offline=True, viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            t0 = time.perf_counter()
            page.goto(path.as_uri(), timeout=120_000)
            page.wait_for_function("window.census && window.census.isReady", timeout=120_000)
            walls.append(time.perf_counter() - t0)
            loads.append(page.evaluate("census.loadedMs") / 1000.0)
            t1 = time.perf_counter()
            lat, lon = town_latlon
            page.evaluate(f"void census.maps[0].map.setView([{lat}, {lon}], 16)")  # no Map back
            page.wait_for_function("census.drawn(census.maps[0].map).site > 0", timeout=60_000)
            page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            zooms.append(time.perf_counter() - t1)
            drawn = page.evaluate("census.drawn(census.maps[0].map)")
            if errors:
                raise RuntimeError(f"console errors: {errors}")
            ctx.close()
        browser.close()
    return {
        "ready_s": statistics.median(loads),
        "wall_s": statistics.median(walls),
        "zoom_s": statistics.median(zooms),
        "sites_at_z16": drawn["site"],
    }


def browser_split(city: Path, town_latlon: tuple[float, float], repeat: int) -> dict[str, float]:
    """City index map: first draw; then cell popup -> link -> detail map drawn."""
    from playwright.sync_api import sync_playwright

    loads, walls, follows = [], [], []
    detail_sites = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for _ in range(repeat):
            ctx = browser.new_context(offline=True, viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            t0 = time.perf_counter()
            page.goto(city.as_uri(), timeout=120_000)
            page.wait_for_function("window.census && window.census.isReady", timeout=120_000)
            walls.append(time.perf_counter() - t0)
            loads.append(page.evaluate("census.loadedMs") / 1000.0)
            lat, lon = town_latlon
            page.evaluate(
                "(() => { const s = Object.values(census.maps[0].sites)"
                ".find(s => s.meta.category === 'rooftop'); const ll = L.latLng"
                f"({lat}, {lon}); s.cells.eachLayer(l => {{ if (l.getBounds().contains(ll)) "
                "{ l.fire('click', {latlng: ll}, true); } }); })()"
            )
            link = page.locator(".leaflet-popup-content a.census-link")
            t1 = time.perf_counter()
            link.click()
            page.wait_for_function("window.census && window.census.isReady", timeout=120_000)
            page.wait_for_function("census.drawn(census.maps[0].map).site > 0", timeout=60_000)
            follows.append(time.perf_counter() - t1)
            detail_sites = page.evaluate("census.drawn(census.maps[0].map).site")
            if errors:
                raise RuntimeError(f"console errors: {errors}")
            ctx.close()
        browser.close()
    return {
        "ready_s": statistics.median(loads),
        "wall_s": statistics.median(walls),
        "follow_s": statistics.median(follows),
        "detail_sites": detail_sites,
    }


def main_split(args, sites, districts, turbines, towns) -> None:
    from census.maps import write_maps

    t0 = time.perf_counter()
    paths = write_maps(
        args.out,
        sites,
        districts,
        turbines=turbines,
        synthetic=True,
        overwrite=True,
        max_sites_per_map=args.max_sites_per_map,
    )
    t_write = time.perf_counter() - t0
    sizes = {str(p.relative_to(args.out)): p.stat().st_size / 1e6 for p in paths}
    town = gpd.GeoSeries(shapely.points(towns[:1]), crs="EPSG:4549").to_crs("EPSG:4326")
    res = browser_split(paths[0], (float(town.y.iloc[0]), float(town.x.iloc[0])), args.repeat)
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    print(f"machine: {platform.processor() or platform.machine()}, {chromium.strip()}")
    print(
        f"sites: {len(sites):,} ({(sites['category'] == 'rooftop').sum():,} rooftops), "
        f"turbines: {len(turbines):,}, districts: {len(districts)}, "
        f"max_sites_per_map: {args.max_sites_per_map:,}"
    )
    detail = [v for k, v in sizes.items() if k != "map.html"]
    print("| measure | value |\n|---|---|")
    print(f"| write_maps (all files) | {t_write:.1f} s |")
    print(f"| files | {len(paths)} (city index + {len(detail)} detail/index maps) |")
    print(f"| city index map size | {sizes['map.html']:.1f} MB |")
    print(f"| largest detail map | {max(detail):.1f} MB |")
    print(f"| all maps together | {sum(sizes.values()):.1f} MB |")
    print(
        f"| browser: city map, navigation start to drawn (median of {args.repeat}) | "
        f"{res['ready_s']:.2f} s |"
    )
    print(f"| browser: city map, goto() to drawn, wall clock | {res['wall_s']:.2f} s |")
    print(
        "| browser: click a town's cell link -> detail map drawn with single sites | "
        f"{res['follow_s']:.2f} s ({res['detail_sites']:,} sites) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_map"))
    parser.add_argument("--max-sites-per-map", type=int, default=None)
    args = parser.parse_args()

    sites, districts, turbines, towns = make_layers(args.sites)
    if args.max_sites_per_map is not None:
        main_split(args, sites, districts, turbines, towns)
        return
    t0 = time.perf_counter()
    m = build_map(sites, districts, turbines=turbines, title="Benchmark", synthetic=True)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    path = save_map(m, args.out / "map.html")
    t_save = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    town = gpd.GeoSeries(shapely.points(towns[:1]), crs="EPSG:4549").to_crs("EPSG:4326")
    res = browser_load(path, (float(town.y.iloc[0]), float(town.x.iloc[0])), args.repeat)
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    print(f"machine: {platform.processor() or platform.machine()}, {chromium.strip()}")
    print(
        f"sites: {len(sites):,} ({(sites['category'] == 'rooftop').sum():,} rooftops), "
        f"turbines: {len(turbines):,}, districts: {len(districts)}"
    )
    print("| measure | value |\n|---|---|")
    print(f"| build_map | {t_build:.1f} s |")
    print(f"| save_map (render + write) | {t_save:.1f} s |")
    print(f"| HTML file size | {size_mb:.1f} MB |")
    print(
        f"| browser: navigation start to map drawn (median of {args.repeat}) | "
        f"{res['ready_s']:.2f} s |"
    )
    print(f"| browser: goto() to map drawn, wall clock | {res['wall_s']:.2f} s |")
    print(
        f"| browser: zoom to level 16 in a dense town, single sites drawn | "
        f"{res['zoom_s']:.2f} s ({res['sites_at_z16']:,} sites) |"
    )


if __name__ == "__main__":
    main()
