"""Build PyPSA generators from a census run's profiles.nc (example; PyPSA is optional).

    python scripts/profiles_to_pypsa.py RUN_DIR OUT_DIR

writes OUT_DIR/{buses,generators,generators-p_max_pu,snapshots}.csv, PyPSA's CSV
folder format: one generator per district x technology, p_nom = AC capacity [MW],
p_max_pu = the hourly capacity factor. With PyPSA installed it also loads them
into a Network and prints its generators.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from census.io.profiles import read_profiles, write_pypsa_csv_folder
from census.profiles.pypsa import generator_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a census run folder with profiles.nc")
    parser.add_argument("out_dir", type=Path, help="folder to create for the PyPSA CSVs")
    args = parser.parse_args()
    ds = read_profiles(args.run_dir / "profiles.nc")
    buses, generators, p_max_pu = generator_tables(ds)
    print(generators.to_string(max_rows=20))
    print(f"{len(p_max_pu)} snapshots, {p_max_pu.shape[1]} generators")
    write_pypsa_csv_folder(ds, args.out_dir)
    print(f"wrote {args.out_dir}")
    try:
        import pypsa
    except ImportError:
        print("PyPSA is not installed; load the folder later with")
        print("  n = pypsa.Network(); n.import_from_csv_folder(OUT_DIR)")
        return
    n = pypsa.Network()
    n.import_from_csv_folder(args.out_dir)
    print(n.generators[["bus", "carrier", "p_nom"]])


if __name__ == "__main__":
    main()
