"""Generate a SYNTHETIC city at any scale for the city-scale benchmark.

    python benchmarks/make_city.py [--rooftops 1000000] [--out data/processed/bench_city]

Everything is placed inside the real Hangzhou district boundaries (so the roll-up
by district is real work) and is deterministic (fixed seed):

- rooftops: rotated rectangles, 70 % in the eight eastern districts, written as
  GeoParquet (``rooftops.parquet``, EPSG:4549) because 1e6 polygons are what
  GeoParquet is for;
- ponds (default 5,000), mines (200), landfills (20), forest patches (2,000) as
  random convex-ish polygons, ``sites.gpkg``;
- the demo's mudflats and exclusion layers, land cover and wind atlas, reused;
- a 30 m DEM over the whole city (about 17,000 km2): the demo DEM resampled to
  30 m with bilinear interpolation plus a little seeded texture;
- ``census.toml``: a config that points ``census run`` at all of it.

Not survey data; nothing here is committed (the default output is git-ignored).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from rasterio.warp import Resampling, reproject

from census.config import PROJECT_ROOT
from census.io.boundaries import read_districts

SEED = 20261124
DEMO = PROJECT_ROOT / "data" / "raw" / "demo"
BOUNDARIES = PROJECT_ROOT / "data" / "raw" / "boundaries" / "hangzhou_districts_2021_gcj02.geojson"
EAST = {330102, 330105, 330106, 330108, 330109, 330110, 330113, 330114}  # urban/plain districts
EAST_SHARE = 0.7  # share of rooftops in the eastern districts
DEM_RES_M = 30.0  # benchmark DEM cell size [m]


def _points_in(rng, polys, n, *, batch=4.0):
    """Uniform random points inside a union of polygons (rejection sampling)."""
    union = shapely.union_all(polys)
    shapely.prepare(union)
    minx, miny, maxx, maxy = union.bounds
    out = []
    have = 0
    while have < n:
        m = int((n - have) * batch) + 100
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(union, x, y)
        pts = np.column_stack([x[ok], y[ok]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def _rectangles(centres, width_m, length_m, angle_deg):
    """Rotated rectangles as shapely polygons, fully vectorized."""
    ux = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    uy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    a = np.radians(angle_deg)[:, None]
    dx = ux[None, :] * length_m[:, None]
    dy = uy[None, :] * width_m[:, None]
    x = centres[:, 0:1] + dx * np.cos(a) - dy * np.sin(a)
    y = centres[:, 1:2] + dx * np.sin(a) + dy * np.cos(a)
    return shapely.polygons(np.stack([x, y], axis=-1))


def _blobs(rng, centres, area_m2, n_vert=12):
    """Irregular star-shaped polygons of roughly the given areas."""
    n = len(centres)
    t = np.sort(rng.uniform(0, 2 * np.pi, (n, n_vert)), axis=1)
    r = rng.uniform(0.75, 1.25, (n, n_vert))
    # area of a star polygon with unit mean radius ~ pi; scale to the wanted area
    scale = np.sqrt(area_m2 / np.pi)[:, None]
    x = centres[:, 0:1] + scale * r * np.cos(t)
    y = centres[:, 1:2] + scale * r * np.sin(t)
    ring = np.stack([x, y], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.make_valid(shapely.polygons(ring))


def build(
    out: Path, *, n_rooftops: int, n_ponds: int, n_mines: int, n_landfills: int, n_forest: int
) -> dict:
    from census.config import load_config
    from census.io.demo import ensure_demo_data

    ensure_demo_data(load_config().config)  # the demo layers reused below (a fresh clone)
    rng = np.random.default_rng(SEED)
    districts = read_districts(BOUNDARIES, crs="GCJ-02")
    east = districts[districts.adcode.isin(EAST)].geometry.values
    west = districts[~districts.adcode.isin(EAST)].geometry.values
    out.mkdir(parents=True)
    t0 = time.perf_counter()

    n_e = int(n_rooftops * EAST_SHARE)
    centres = np.concatenate([_points_in(rng, east, n_e), _points_in(rng, west, n_rooftops - n_e)])
    industrial = rng.random(n_rooftops) < 0.08
    length = np.where(industrial, rng.uniform(60, 200, n_rooftops), rng.uniform(12, 45, n_rooftops))
    width = np.where(industrial, rng.uniform(30, 100, n_rooftops), rng.uniform(8, 16, n_rooftops))
    angle = rng.uniform(0, 180, n_rooftops)
    pitched = (~industrial) & (rng.random(n_rooftops) < 0.3)
    floors = np.where(industrial, rng.integers(1, 3, n_rooftops), rng.integers(2, 30, n_rooftops))
    roofs = gpd.GeoDataFrame(
        {
            "building_id": np.char.add("R", np.arange(n_rooftops).astype(str)),
            "height_m": floors * 3.0,
            "floors": floors.astype("int32"),
            "roof_type": np.where(pitched, "pitched", "flat"),
            "roof_pitch_deg": np.where(pitched, rng.uniform(15, 35, n_rooftops), 0.0),
            "use": np.where(industrial, "industrial", "residential"),
        },
        geometry=_rectangles(centres, width, length, angle),
        crs="EPSG:4549",
    )
    # with the bbox covering column, so a run of some districts reads only their extent
    roofs.to_parquet(out / "rooftops.parquet", schema_version="1.1.0", write_covering_bbox=True)

    def polys(n, where, area_lo, area_hi, **cols):
        c = _points_in(rng, where, n)
        area = np.exp(rng.uniform(np.log(area_lo), np.log(area_hi), n))
        return gpd.GeoDataFrame(cols, geometry=_blobs(rng, c, area), crs="EPSG:4549")

    ponds = polys(
        n_ponds,
        east,
        3_000,
        400_000,
        pond_id=[f"P{i}" for i in range(n_ponds)],
        water_use=rng.choice(["aquaculture", "idle", "scenic"], n_ponds, p=[0.8, 0.15, 0.05]),
    )
    mines = polys(
        n_mines,
        west,
        10_000,
        400_000,
        mine_id=[f"M{i}" for i in range(n_mines)],
        status=rng.choice(["abandoned", "closed", "active"], n_mines),
    )
    landfills = polys(
        n_landfills,
        east,
        30_000,
        400_000,
        landfill_id=[f"L{i}" for i in range(n_landfills)],
        status=["closed"] * n_landfills,
        closed_year=rng.integers(2000, 2022, n_landfills),
    )
    forest = polys(
        n_forest,
        west,
        50_000,
        1_500_000,
        forest_id=[f"F{i}" for i in range(n_forest)],
        forest_class=rng.choice(["commercial", "ecological_public_welfare"], n_forest),
    )
    mudflats = pyogrio.read_dataframe(DEMO / "demo_sites.gpkg", layer="mudflats")
    for name, gdf in (
        ("ponds", ponds),
        ("mines", mines),
        ("landfills", landfills),
        ("forest", forest),
        ("mudflats", mudflats),
    ):
        pyogrio.write_dataframe(gdf, out / "sites.gpkg", layer=name)

    with rasterio.open(DEMO / "dem_100m.tif") as src:
        scale = src.res[0] / DEM_RES_M
        h, w = int(src.height * scale), int(src.width * scale)
        transform = src.transform * src.transform.scale(1 / scale, 1 / scale)
        dem = np.empty((h, w), dtype="float32")
        reproject(
            rasterio.band(src, 1),
            dem,
            dst_transform=transform,
            dst_crs=src.crs,
            resampling=Resampling.bilinear,
        )
        dem += rng.normal(0, 0.5, dem.shape).astype("float32")  # texture below 1 m
        profile = dict(
            driver="GTiff",
            height=h,
            width=w,
            count=1,
            dtype="float32",
            crs=src.crs,
            transform=transform,
            nodata=-9999.0,
            tiled=True,
            blockxsize=512,
            blockysize=512,
            compress="deflate",
            predictor=3,
        )
    with rasterio.open(out / "dem_30m.tif", "w", **profile) as dst:
        dst.write(dem, 1)

    def q(p: Path) -> str:
        return p.as_posix()

    layers = "".join(
        f'\n[layers.{n}]\npath = "sites.gpkg"\nlayer = "{n}"\ncategory = "{c}"\n'
        f'id_field = "{i}"\nsynthetic = true\n'
        for n, c, i in (
            ("ponds", "pond", "pond_id"),
            ("mines", "mine", "mine_id"),
            ("landfills", "landfill", "landfill_id"),
            ("forest", "forest", "forest_id"),
            ("mudflats", "mudflat", "mudflat_id"),
        )
    )
    (out / "census.toml").write_text(
        "# Benchmark city: SYNTHETIC layers from benchmarks/make_city.py\n"
        f'[layers.rooftops]\npath = "rooftops.parquet"\ncategory = "rooftop"\n'
        f'id_field = "building_id"\nsynthetic = true\n{layers}\n'
        f'[terrain]\ndem = "dem_30m.tif"\nlandcover = "{q(DEMO / "landcover_100m.tif")}"\n'
        "synthetic = true\n",
        encoding="utf-8",
    )
    return {
        "rooftops": n_rooftops,
        "ponds": n_ponds,
        "mines": n_mines,
        "landfills": n_landfills,
        "forest": n_forest,
        "mudflats": len(mudflats),
        "dem_cells": int(h * w),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rooftops", type=int, default=1_000_000)
    p.add_argument("--ponds", type=int, default=5_000)
    p.add_argument("--mines", type=int, default=200)
    p.add_argument("--landfills", type=int, default=20)
    p.add_argument("--forest", type=int, default=2_000)
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "data/processed/bench_city")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args()
    if a.out.exists():
        if not a.overwrite:
            raise SystemExit(f"{a.out} exists; pass --overwrite to replace it")
        shutil.rmtree(a.out)
    info = build(
        a.out,
        n_rooftops=a.rooftops,
        n_ponds=a.ponds,
        n_mines=a.mines,
        n_landfills=a.landfills,
        n_forest=a.forest,
    )
    print(pd.Series(info).to_string())
    print(f"config: {a.out / 'census.toml'}")


if __name__ == "__main__":
    main()
