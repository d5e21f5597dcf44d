"""Bad configurations: each ends in exit code 2 and one message naming the key and the file.

Nothing is computed and nothing is written: the inputs stay byte-identical and no
run folder appears.
"""

from __future__ import annotations

import math

import pytest

from .conftest import assert_clear_error, assert_nothing_lost, cli, run_case

# (case id, overrides of the valid tiny study, words the message must hold besides the file)
CASES = [
    (
        "unknown_epsg_study_area",
        {"study_area": {"crs": "EPSG:999999"}},
        ["study_area.crs", "EPSG:999999", "EPSG code"],
    ),
    (
        "metric_crs_not_a_crs",
        {"study_area": {"metric_crs": "not a crs"}},
        ["study_area.metric_crs", "not a crs", "EPSG:4549"],
    ),
    (
        "metric_crs_geographic",
        {"study_area": {"metric_crs": "EPSG:4326"}},
        ["study_area.metric_crs", "not a projected CRS in metres"],
    ),
    (
        "layer_crs_unknown",
        {"layers": {"rooftops": {"crs": "EPSG:999999"}}},
        ["layers.rooftops.crs", "EPSG:999999"],
    ),
    (
        "exclusion_crs_garbage",
        {"exclusions": {"scenic_areas": {"crs": "+proj=nonsense"}}},
        ["exclusions.scenic_areas.crs", "+proj=nonsense"],
    ),
    (
        "inf_number",
        {"rules": {"categories": {"pond": {"min_area_m2": math.inf}}}},
        ["rules.categories.pond.min_area_m2", "inf", "finite"],
    ),
    (
        "nan_number",
        {"targets": {"pv_2025_mw": math.nan}},
        ["targets.pv_2025_mw", "nan", "finite"],
    ),
    (
        "minus_inf_number",
        {"wind": {"layout": {"spacing_along_d": -math.inf}}},
        ["wind.layout.spacing_along_d", "finite"],
    ),
    (
        "key_typo",
        {"rules": {"categories": {"pond": {"min_aera_m2": 1.0}}}},
        ["unknown key", "min_aera_m2"],
    ),
    (
        "wrong_type",
        {"targets": {"pv_2025_mw": "lots"}},
        ["targets.pv_2025_mw", "lots"],
    ),
    (
        "fraction_out_of_range",
        {"targets": {"storage_min_frac": 1.5}},
        ["targets.storage_min_frac", "1.5"],
    ),
    (
        "unknown_time_zone",
        {"study_area": {"tz": "Mars/Olympus_Mons"}},
        ["study_area.tz", "Mars/Olympus_Mons", "IANA"],
    ),
    (
        "negative_distance_limit",
        {"weather": {"checks": {"max_distance_m": -1.0}}},
        ["weather.checks.max_distance_m"],
    ),
]


@pytest.mark.parametrize(("case_id", "overrides", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_a_clear_error(case, tmp_path, case_id, overrides, needles):
    case.write_config(overrides)
    before = case.digests()
    out = tmp_path / "out"
    res = run_case(case, out)
    assert_clear_error(res, *needles, str(case.config))
    assert_nothing_lost(case, before, out)


def test_unknown_weather_district_key_lists_valid_districts(case, tmp_path):
    case.write_config({"weather": {"districts": {"Gamma": "w.epw"}}})
    before = case.digests()
    res = run_case(case, tmp_path / "out")
    assert_clear_error(res, "[weather.districts]", "'Gamma'", "Alpha (甲区, 1)", "Beta (乙区, 2)")
    assert_nothing_lost(case, before, tmp_path / "out")


def test_config_not_toml(case, tmp_path):
    case.config.write_text("[targets\npv_2025_mw = 1\n", encoding="utf-8")
    before = case.digests()
    res = run_case(case, tmp_path / "out")
    assert_clear_error(res, str(case.config), "not valid TOML")
    assert_nothing_lost(case, before, tmp_path / "out")


def test_config_not_utf8(case, tmp_path):
    # a config saved by a Chinese Windows editor in GBK
    case.config.write_bytes('[study_area]\nname = "杭州"\n'.encode("gbk"))
    before = case.digests()
    res = run_case(case, tmp_path / "out")
    assert_clear_error(res, str(case.config), "UTF-8")
    assert_nothing_lost(case, before, tmp_path / "out")


def test_config_file_missing(tmp_path):
    missing = tmp_path / "nope.toml"
    res = cli("run", "--config", str(missing), "--out", str(tmp_path / "out"))
    assert_clear_error(res, "nope.toml", "not found")
    assert not (tmp_path / "out").exists()
