"""Bad weather years: partial, gappy, from elsewhere, in another time zone, misaligned.

Each is refused with exit code 2 and a message naming the file and what to fix (the
first missing hour, the place, the time zone, the shift), except a one-hour misfit,
which is warned about (the shift that fixes it), and a sub-hourly file, which is
averaged to hourly means and gives the hourly result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from census.exceptions import WeatherError
from census.io.weather import read_weather

from ..conftest import EPW
from .conftest import assert_clear_error, assert_nothing_lost, assert_warned, run_case

EPW_LINES = EPW.read_text(encoding="latin-1").splitlines()
HEADER, ROWS = EPW_LINES[:8], EPW_LINES[8:]
# LOCATION,Hangzhou,Zhejiang,CHN,CSWD,584570,30.23,120.17,8.0,41.7 (data/raw/SOURCES.md)
assert HEADER[0].startswith("LOCATION,Hangzhou")


def _epw(case, name: str, *, header0: str | None = None, rows: list[str] | None = None):
    path = case.folder / name
    head = [header0 or HEADER[0], *HEADER[1:]]
    path.write_text("\n".join(head + (ROWS if rows is None else rows)) + "\n", encoding="latin-1")
    return path


@pytest.fixture(scope="module")
def aligned():
    """The shipped year with its one-hour lag fixed (the default config's shift)."""
    return read_weather(EPW, time_shift_h=-1.0, check_alignment=False)


def _plain_csv(case, name: str, frame: pd.DataFrame, meta: dict) -> str:
    """Census's plain CSV format: '# key: value' header, ISO times with offsets."""
    out = frame[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].copy()
    out.insert(0, "time", [t.isoformat() for t in frame.index])
    header = (
        f"# latitude: {meta['latitude']}\n# longitude: {meta['longitude']}\n"
        f"# altitude: {meta['altitude']}\n# interval_label: beginning\n"
    )
    (case.folder / name).write_text(header + out.to_csv(index=False), encoding="utf-8")
    return name


def _refused(case, tmp_path, weather: str, *needles, shift: float = -1.0):
    case.write_config(weather=weather, shift=shift)
    before = case.digests()
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_clear_error(res, weather.rsplit("/", 1)[-1], *needles)
    assert_nothing_lost(case, before, out)


@pytest.mark.parametrize("n_rows", [100, 8000])
def test_partial_year(case, tmp_path, n_rows):
    path = _epw(case, f"part_{n_rows}.epw", rows=ROWS[:n_rows])
    # pvlib stamps EPW hour h with h - 1 (interval beginning): row n_rows + 1 starts at
    # (n_rows) hours after 1 January 00:00, local time UTC+8
    first_missing = pd.Timestamp("2005-01-01 00:00", tz="UTC+08:00") + pd.Timedelta(hours=n_rows)
    _refused(
        case,
        tmp_path,
        path.as_posix(),
        f"{n_rows:,} hourly rows",
        str(first_missing),
        "never scales part of a year",
    )


def test_gap_names_the_first_missing_hour(case, tmp_path, aligned):
    data, meta = aligned
    name = _plain_csv(case, "gap.csv", data.drop(index=data.index[100:103]), meta)
    _refused(
        case,
        tmp_path,
        (case.folder / name).as_posix(),
        f"first missing time stamp is {data.index[100]}",
        shift=0.0,
    )


def test_duplicated_hour(case, tmp_path, aligned):
    data, meta = aligned
    dup = pd.concat([data.iloc[:501], data.iloc[500:]])
    name = _plain_csv(case, "dup.csv", dup, meta)
    _refused(
        case,
        tmp_path,
        (case.folder / name).as_posix(),
        f"{data.index[500]} appears more than once",
        shift=0.0,
    )


def test_header_says_sydney(case, tmp_path):
    sydney = "LOCATION,Sydney,NSW,AUS,TMYx,947670,-33.95,151.18,10.0,6.0"
    path = _epw(case, "sydney.epw", header0=sydney)
    _refused(
        case,
        tmp_path,
        path.as_posix(),
        "-33.95 N, 151.18 E",
        "Sydney",
        "km from the study area 'Tiny'",
        "max_distance_m",
    )


def test_district_file_from_sydney(case, tmp_path):
    sydney = "LOCATION,Sydney,NSW,AUS,TMYx,947670,-33.95,151.18,10.0,6.0"
    path = _epw(case, "sydney.epw", header0=sydney)
    case.write_config({"weather": {"districts": {"Beta": path.name}}})
    before = case.digests()
    res = run_case(case, tmp_path / "out")
    assert_clear_error(res, "sydney.epw", "Tiny: Beta")
    assert_nothing_lost(case, before, tmp_path / "out")


def test_header_time_zone_minus_5(case, tmp_path):
    path = _epw(
        case, "tz5.epw", header0="LOCATION,Hangzhou,Zhejiang,CHN,CSWD,584570,30.23,120.17,-5.0,41.7"
    )
    _refused(
        case,
        tmp_path,
        path.as_posix(),
        "UTC-5",
        "Asia/Shanghai (UTC+8)",
        "13 h off the sun",
        "time-zone field to 8",
    )


def test_time_zone_check_follows_the_study_area_config(case, tmp_path):
    # the same file is refused when the study area is declared in another zone
    case.write_config({"study_area": {"tz": "Asia/Tokyo"}})
    before = case.digests()
    res = run_case(case, tmp_path / "out")
    assert_clear_error(res, "UTC+8", "Asia/Tokyo (UTC+9)")
    assert_nothing_lost(case, before, tmp_path / "out")


def test_irradiance_that_follows_no_sun(case, tmp_path, aligned):
    # hours shuffled within each day: no shift of -12..+12 h lines the GHI up with the sun
    data, meta = aligned
    rng = np.random.default_rng(16)
    shuffled = data.copy()
    for col in ("ghi", "dni", "dhi"):
        days = shuffled[col].to_numpy().reshape(365, 24)
        shuffled[col] = np.array([rng.permutation(d) for d in days]).ravel()
    name = _plain_csv(case, "shuffled.csv", shuffled, meta)
    _refused(
        case,
        tmp_path,
        (case.folder / name).as_posix(),
        "does not follow the sun",
        "-12 h to +12 h",
        shift=0.0,
    )


def test_timestamps_three_hours_late(case, tmp_path, aligned):
    data, meta = aligned
    late = pd.DataFrame(np.roll(data.to_numpy(), 3, axis=0), index=data.index, columns=data.columns)
    name = _plain_csv(case, "late3.csv", late, meta)
    _refused(
        case, tmp_path, (case.folder / name).as_posix(), "3 h late", "time_shift_h = -3", shift=0.0
    )


def test_one_hour_late_is_warned_with_the_fix(case, tmp_path):
    case.write_config(shift=0.0)  # the shipped CSWD file as it is: one hour late
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_warned(res, out, "time_shift_h = -1")


def test_nan_in_a_column(case, tmp_path, aligned):
    data, meta = aligned
    holes = data.copy()
    holes.iloc[4000, holes.columns.get_loc("temp_air")] = np.nan
    name = _plain_csv(case, "holes.csv", holes, meta)
    _refused(
        case,
        tmp_path,
        (case.folder / name).as_posix(),
        "missing value",
        "'temp_air'",
        str(data.index[4000]),
        shift=0.0,
    )


def test_negative_irradiance(case, tmp_path, aligned):
    data, meta = aligned
    neg = data.copy()
    neg.iloc[10, neg.columns.get_loc("dni")] = -3.0
    name = _plain_csv(case, "neg.csv", neg, meta)
    _refused(case, tmp_path, (case.folder / name).as_posix(), "negative value", "'dni'", shift=0.0)


def test_not_a_weather_file(case, tmp_path):
    path = case.folder / "weather.epw"
    path.write_bytes((case.folder / "districts.gpkg").read_bytes())
    _refused(case, tmp_path, path.as_posix(), "could not be read as 'epw'")


def test_weather_file_missing(case, tmp_path):
    _refused(case, tmp_path, (case.folder / "w2023.epw").as_posix(), "does not exist")


def test_sub_hourly_year_is_averaged_to_the_hourly_result(tmp_path, aligned):
    # 30-min rows holding each hour's mean twice: their hourly mean is that hour exactly, so
    # the energy equals the hourly file's to rounding (rtol 1e-9, float sums)
    data, meta = aligned
    half = data.loc[data.index.repeat(2)].copy()
    half.index = pd.date_range(data.index[0], periods=len(half), freq="30min")
    from .conftest import Case

    hourly = Case(folder=tmp_path, config=tmp_path / "h.csv")
    name_h = _plain_csv(hourly, "hourly.csv", data, meta)
    name_s = _plain_csv(hourly, "half.csv", half, meta)
    read_h, _ = read_weather(tmp_path / name_h)
    read_s, meta_s = read_weather(tmp_path / name_s)
    assert meta_s["resampled_from_step_min"] == 30.0
    assert any("averaged to hourly means" in n for n in meta_s["notes"])
    assert_allclose(read_s.to_numpy(), read_h.to_numpy(), rtol=1e-9)


def test_sub_hourly_year_with_a_missing_sample(tmp_path, aligned):
    data, meta = aligned
    quarter = data.loc[data.index.repeat(4)].copy()
    quarter.index = pd.date_range(data.index[0], periods=len(quarter), freq="15min")
    quarter = quarter.drop(index=quarter.index[-1])  # the last hour has 3 of its 4 samples
    from .conftest import Case

    name = _plain_csv(Case(folder=tmp_path, config=tmp_path / "c"), "q.csv", quarter, meta)
    with pytest.raises(WeatherError, match=r"q\.csv.*has 3 of its 4 samples"):
        read_weather(tmp_path / name)
