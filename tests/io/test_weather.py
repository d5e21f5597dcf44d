"""Tests of census.io.weather: readers, labels, validation errors, fallbacks."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose

from census.exceptions import SchemaError, WeatherError
from census.io.weather import (
    WEATHER_COLUMNS,
    clearsky_year,
    nearest_weather,
    read_weather,
)

ROOT = Path(__file__).resolve().parents[2]
EPW = ROOT / "data" / "raw" / "weather" / "CHN_Zhejiang.Hangzhou.584570_CSWD.epw"


@pytest.fixture(scope="module")
def epw():
    return read_weather(EPW, tz="Asia/Shanghai")


# ---------------------------------------------------------------------------
# EPW (the real Hangzhou file)
# ---------------------------------------------------------------------------
def test_epw_columns_index_and_metadata(epw):
    data, meta = epw
    assert list(data.columns) == [*WEATHER_COLUMNS, "wind_direction"]
    assert len(data) == 8760
    assert str(data.index.tz) == "Asia/Shanghai"
    # pvlib.iotools.read_epw stamps EPW hour 1 (00:00-01:00) as 00:00 -> interval beginning
    assert data.index[0] == pd.Timestamp("2005-01-01 00:00", tz="Asia/Shanghai")
    assert meta["interval_label"] == "beginning"
    # LOCATION line of the file: 30.23 N, 120.17 E, 41.7 m (data/raw/SOURCES.md)
    assert (meta["latitude"], meta["longitude"], meta["altitude"]) == (30.23, 120.17, 41.7)
    assert meta["kind"] == "epw" and meta["wind_height_m"] == 10.0
    assert meta["source_path"] == str(EPW)
    assert meta["clearsky_fallback"] is False


def test_epw_annual_ghi_matches_sources_md(epw):
    data, _ = epw
    # data/raw/SOURCES.md: annual GHI 1,202.0 kWh/m2 with pvlib 0.16.1 read_epw; rounding 0.05
    assert_allclose(data["ghi"].sum() / 1000.0, 1202.0, atol=0.05)
    # pressure in Pa (EPW field 'atmospheric_pressure'), not filled
    assert 9.9e4 < data["pressure"].mean() < 1.03e5


def test_epw_auto_kind(epw):
    data, meta = read_weather(EPW)
    assert meta["kind"] == "epw"
    assert str(data.index.tz) == "UTC+08:00"


# ---------------------------------------------------------------------------
# fixtures written in the real formats
# ---------------------------------------------------------------------------
def _tmy_values(n: int, *, utc: bool = False) -> pd.DataFrame:
    """n hours of plausible values from the Hangzhou EPW (no file I/O beyond it).

    With ``utc`` the rows are rolled to UTC labels, as PVGIS writes them: the CSWD
    file is local time (UTC+8) and one hour late (see the alignment test below), so
    UTC hour t holds the file's row t + 9.
    """
    raw, _ = pvlib.iotools.read_epw(EPW)
    cols = ["ghi", "dni", "dhi", "temp_air", "wind_speed", "wind_direction"]
    if utc:
        raw = pd.DataFrame(np.roll(raw[cols].to_numpy(), -9, axis=0), columns=cols)
    return raw.iloc[:n][cols]


def _write_pvgis_csv(path: Path, *, with_offset: bool = True) -> None:
    """PVGIS 5.2 TMY CSV layout, as parsed by pvlib.iotools.read_pvgis_tmy (pvgis.py)."""
    values = _tmy_values(8760, utc=True)
    years = [2012, 2008, 2015, 2011, 2019, 2010, 2016, 2013, 2009, 2017, 2014, 2018]
    utc = pd.date_range("2005-01-01", periods=8760, freq="1h")
    lines = [
        "Latitude (decimal degrees): 30.230",
        "Longitude (decimal degrees): 120.170",
        "Elevation (m): 42.0",
    ]
    if with_offset:
        lines.append("Irradiance Time Offset (h): 0.1761")
    lines.append("month,year")
    lines += [f"{m},{y}" for m, y in enumerate(years, start=1)]
    lines.append("time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP")
    for t, row in zip(utc, values.itertuples(), strict=True):
        stamp = t.replace(year=years[t.month - 1]).strftime("%Y%m%d:%H%M")
        lines.append(
            f"{stamp},{row.temp_air},70.0,{row.ghi},{row.dni},{row.dhi},300.0,"
            f"{row.wind_speed},{row.wind_direction},101300"
        )
    lines += [
        "T2m: 2-m air temperature (degree Celsius)",
        "G(h): Global irradiance on the horizontal plane (W/m2)",
        "SP: Surface (air) pressure (Pa)",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())


def _write_pvgis_json(path: Path) -> None:
    """PVGIS 5.2 TMY JSON layout (keys inputs / outputs / meta)."""
    values = _tmy_values(8760, utc=True)
    utc = pd.date_range("2015-01-01", periods=8760, freq="1h")
    hourly = [
        {
            "time(UTC)": t.strftime("%Y%m%d:%H%M"),
            "T2m": r.temp_air,
            "RH": 70.0,
            "G(h)": r.ghi,
            "Gb(n)": r.dni,
            "Gd(h)": r.dhi,
            "IR(h)": 300.0,
            "WS10m": r.wind_speed,
            "WD10m": r.wind_direction,
            "SP": 101300.0,
        }
        for t, r in zip(utc, values.itertuples(), strict=True)
    ]
    doc = {
        "inputs": {
            "location": {"latitude": 30.23, "longitude": 120.17, "elevation": 42.0},
            "meteo_data": {"radiation_db": "PVGIS-SARAH3", "meteo_db": "ERA5"},
        },
        "outputs": {
            "months_selected": [{"month": m, "year": 2015} for m in range(1, 13)],
            "tmy_hourly": hourly,
        },
        "meta": {"inputs": {"location": {"description": "Selected location"}}, "outputs": {}},
    }
    path.write_text(json.dumps(doc))


def _write_tmy3(path: Path, hours: int = 8760) -> None:
    """TMY3 layout (NREL/TP-581-43156): station line, header, 01:00..24:00 rows."""
    values = _tmy_values(hours)
    lines = [
        '584570,"HANGZHOU TEST",ZJ,8.0,30.230,120.170,42',
        "Date (MM/DD/YYYY),Time (HH:MM),GHI (W/m^2),DNI (W/m^2),DHI (W/m^2),"
        "Dry-bulb (C),Pressure (mbar),Wdir (degrees),Wspd (m/s)",
    ]
    days = pd.date_range("1995-01-01", periods=hours, freq="1h")
    for t, r in zip(days, values.itertuples(), strict=True):
        lines.append(
            f"{t:%m/%d/%Y},{t.hour + 1:02d}:00,{r.ghi},{r.dni},{r.dhi},"
            f"{r.temp_air},1013,{r.wind_direction},{r.wind_speed}"
        )
    path.write_text("\n".join(lines) + "\n")


def _write_plain_csv(path: Path, hours: int = 8760, *, drop: str | None = None) -> None:
    values = _tmy_values(hours).drop(columns="wind_direction")
    if drop:
        values = values.drop(columns=drop)
    values.insert(0, "time", pd.date_range("2005-01-01", periods=hours, freq="1h", tz="+08:00"))
    header = "# latitude: 30.23\n# longitude: 120.17\n# altitude: 41.7\n# interval_label: ending\n"
    path.write_text(header + values.to_csv(index=False, date_format="%Y-%m-%dT%H:%M%z"))


def test_pvgis_csv(tmp_path):
    path = tmp_path / "tmy_30.230_120.170.csv"
    _write_pvgis_csv(path)
    data, meta = read_weather(path, tz="Asia/Shanghai")
    assert meta["kind"] == "pvgis_csv"
    assert meta["interval_label"] == "instantaneous"
    assert meta["time_offset_h"] == pytest.approx(0.1761)
    assert (meta["latitude"], meta["longitude"], meta["altitude"]) == (30.23, 120.17, 42.0)
    assert len(data) == 8760 and data.index.is_monotonic_increasing
    # months from 2012, 2008, ... coerced to TYPICAL_YEAR 2005 (local time, after the roll)
    assert set(data.index.year) == {2005}
    assert data.index[0] == pd.Timestamp("2005-01-01 00:00", tz="Asia/Shanghai")
    # SP is in Pa already: 101300 Pa
    assert_allclose(data["pressure"], 101300.0)
    # rows are moved, not changed: same annual sum as written
    assert_allclose(data["ghi"].sum(), _tmy_values(8760)["ghi"].sum(), rtol=1e-12)


def test_pvgis_json(tmp_path):
    path = tmp_path / "tmy.json"
    _write_pvgis_json(path)
    data, meta = read_weather(path)
    assert meta["kind"] == "pvgis_json"
    assert (meta["latitude"], meta["longitude"], meta["altitude"]) == (30.23, 120.17, 42.0)
    assert str(data.index.tz) == "UTC"
    assert list(data.columns) == [*WEATHER_COLUMNS, "wind_direction"]
    assert any("UTC" in note for note in meta["notes"])


def test_tmy3_end_labels_shifted_to_beginning(tmp_path):
    path = tmp_path / "584570TY.csv"
    _write_tmy3(path)
    data, meta = read_weather(path)
    assert meta["kind"] == "tmy3" and meta["interval_label"] == "beginning"
    # first TMY3 row is 01:00 (end of the first hour) -> labelled 00:00 here
    assert data.index[0] == pd.Timestamp("1995-01-01 00:00", tz="UTC+08:00")
    # 1013 mbar = 101300 Pa
    assert_allclose(data["pressure"], 101300.0, rtol=1e-12)


def test_plain_csv_and_pressure_fill(tmp_path):
    path = tmp_path / "station.csv"
    _write_plain_csv(path)
    data, meta = read_weather(path)
    assert meta["kind"] == "csv" and meta["interval_label"] == "ending"
    assert meta["pressure_filled"] is True
    # standard atmosphere at 41.7 m (pvlib.atmosphere.alt2pres)
    assert_allclose(data["pressure"], pvlib.atmosphere.alt2pres(41.7), rtol=1e-12)
    assert any("alt2pres" in n for n in meta["notes"])


# ---------------------------------------------------------------------------
# errors name the file and the column
# ---------------------------------------------------------------------------
def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "no_dhi.csv"
    _write_plain_csv(path, drop="dhi")
    with pytest.raises(WeatherError, match=r"no_dhi\.csv.*'dhi'"):
        read_weather(path)


def test_gap_names_file_and_time_column(tmp_path):
    path = tmp_path / "gappy.csv"
    _write_plain_csv(path)
    lines = path.read_text().splitlines()
    del lines[20]  # drop one hour
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(WeatherError, match=r"gappy\.csv.*gap in column 'time'"):
        read_weather(path)


def test_nan_names_file_and_column(tmp_path):
    path = tmp_path / "holes.csv"
    _write_plain_csv(path)
    frame = pd.read_csv(path, comment="#")
    frame.loc[12, "temp_air"] = np.nan
    header = "".join(line + "\n" for line in path.read_text().splitlines()[:4])
    path.write_text(header + frame.to_csv(index=False))
    with pytest.raises(WeatherError, match=r"holes\.csv.*missing value.*'temp_air'"):
        read_weather(path)


def test_negative_irradiance_names_file_and_column(tmp_path):
    path = tmp_path / "negative.csv"
    _write_plain_csv(path)
    frame = pd.read_csv(path, comment="#")
    frame.loc[3, "dni"] = -2.0
    header = "".join(line + "\n" for line in path.read_text().splitlines()[:4])
    path.write_text(header + frame.to_csv(index=False))
    with pytest.raises(WeatherError, match=r"negative\.csv.*negative value.*'dni'"):
        read_weather(path)


def test_missing_file():
    with pytest.raises(WeatherError, match="does not exist"):
        read_weather("/nonexistent/weather.epw")


def test_truncated_pvgis_file(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("Latitude (decimal degrees): 30.2\nLongitude (decimal degrees): 120.1\n")
    with pytest.raises(WeatherError, match=r"short\.csv"):
        read_weather(path)


# ---------------------------------------------------------------------------
# clear-sky fallback and nearest station
# ---------------------------------------------------------------------------
def test_clearsky_year_warns_and_is_marked():
    with pytest.warns(UserWarning, match="clear-sky"):
        data, meta = clearsky_year(30.23, 120.17, 41.7, tz="Asia/Shanghai")
    assert meta["clearsky_fallback"] is True
    assert len(data) == 8760 and list(data.columns) == list(WEATHER_COLUMNS)
    # clear sky exceeds the measured year: Hangzhou CSWD GHI is 1202 kWh/m2
    assert data["ghi"].sum() / 1000.0 > 1202.0


def test_read_weather_does_not_warn(epw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_weather(EPW, time_shift_h=-1.0, check_alignment=False)


def test_nearest_weather():
    stations = pd.DataFrame(
        {
            "station_id": ["hangzhou", "chunan"],
            "latitude": [30.23, 29.61],
            "longitude": [120.17, 119.04],
        }
    )
    points = pd.DataFrame({"latitude": [30.25, 29.6], "longitude": [120.2, 119.0]}, index=[7, 9])
    got = nearest_weather(points, stations)
    assert got.to_dict() == {7: "hangzhou", 9: "chunan"}
    # 0.03 deg lon x cos(30.25) and 0.02 deg lat: about 3.6 km (haversine, R = 6371 km)
    assert_allclose(got.attrs["distance_m"].loc[7], 3600.0, rtol=0.05)
    with pytest.raises(SchemaError, match="station_id"):
        nearest_weather(points, stations.drop(columns="station_id"))


def test_cswd_epw_timestamps_are_one_hour_late_and_shift_fixes_them():
    # Diagnosis worked out on the shipped file: with EPW's hour-ending convention 0.8 % of the
    # GHI falls at night; rolled by -1 h it drops to ~0.01 % (twilight only).
    from census.config import PROJECT_ROOT

    epw = PROJECT_ROOT / "data/raw/weather/CHN_Zhejiang.Hangzhou.584570_CSWD.epw"
    with pytest.warns(UserWarning, match="time_shift_h = -1"):
        _, meta = read_weather(epw)
    fit = meta["alignment_night_ghi_frac"]
    assert fit[0.0] > 0.005
    assert min(fit, key=fit.get) == -1.0
    import warnings as _w

    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        data, meta2 = read_weather(epw, time_shift_h=-1.0)
    assert not [w for w in caught if "time_shift_h" in str(w.message)]
    assert meta2["alignment_night_ghi_frac"][0.0] < 0.001
    raw, _ = read_weather(epw, check_alignment=False)
    # the roll moves values one row earlier and keeps the annual sums exactly
    np.testing.assert_allclose(data["ghi"].iloc[:-1].to_numpy(), raw["ghi"].iloc[1:].to_numpy())
    np.testing.assert_allclose(data["ghi"].sum(), raw["ghi"].sum(), rtol=1e-12)
    with pytest.raises(WeatherError, match="whole number"):
        read_weather(epw, time_shift_h=0.5, check_alignment=False)


def test_epw_with_months_from_different_years_is_coerced(tmp_path):
    # TMYx/IWEC-style: each month from another year. Rewrite the year field of the CSWD file.
    from census.config import PROJECT_ROOT

    src = PROJECT_ROOT / "data/raw/weather/CHN_Zhejiang.Hangzhou.584570_CSWD.epw"
    lines = src.read_text(encoding="latin-1").splitlines()
    out = lines[:8]
    for line in lines[8:]:
        fields = line.split(",")
        fields[0] = str(1995 + int(fields[1]))  # month m comes from year 1995 + m
        out.append(",".join(fields))
    mixed = tmp_path / "mixed.epw"
    mixed.write_text("\n".join(out) + "\n", encoding="latin-1")
    data, meta = read_weather(mixed, time_shift_h=-1.0)
    ref, _ = read_weather(src, time_shift_h=-1.0)
    assert len(data) == 8760
    assert (data.index.year == 2005).all()
    assert any("coerced" in n for n in meta["notes"])
    assert_allclose(data["ghi"].to_numpy(), ref["ghi"].to_numpy(), rtol=0, atol=0)


def test_cswd_zero_irradiance_in_daylight_is_flagged():
    # 245 hours of the shipped year have the sun > 20 deg up and GHI exactly 0 (e.g. 21 June
    # is zero until 13:00): missing data stored as zero. Counted independently in review.
    with pytest.warns(UserWarning, match="245 hours"):
        _, meta = read_weather(EPW, time_shift_h=-1.0)
    assert meta["zero_ghi_daylight_hours"] == 245
