"""Tests of census.config and the assumption tables."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from census.config import PROJECT_ROOT, config_to_toml, load_config
from census.exceptions import ConfigError
from census.resources import ASSUMPTION_SECTIONS, load_assumptions, split_entries


def test_default_config_loads_and_points_at_shipped_data():
    loaded = load_config()
    cfg = loaded.config
    assert cfg.study_area.crs == "GCJ-02"
    assert cfg.study_area.metric_crs == "EPSG:4549"
    assert Path(cfg.study_area.boundaries).is_absolute()
    assert Path(cfg.study_area.boundaries).exists()
    assert Path(cfg.weather.path).exists()
    rec = cfg.targets.records
    # Hangzhou Carbon Peak Pilot Implementation Plan (draft 2024-03-20): PV 4.8 GW 2025,
    # 6.5 GW 2030; wind 100 MW ensured, 200 MW strived 2025
    assert rec["pv_2025"].capacity_mw == 4800.0 and rec["pv_2025"].year == 2025
    assert rec["pv_2030"].capacity_mw == 6500.0 and rec["pv_2030"].year == 2030
    assert rec["wind_2025_ensured"].capacity_mw == 100.0
    assert rec["wind_2025_strived"].capacity_mw == 200.0
    assert {r.capacity_basis for r in rec.values()} == {"ac"}
    assert all("Hangzhou Carbon Peak" in r.source for r in rec.values())
    assert cfg.targets.storage_min_frac == 0.10
    # MEE/NBS 2023 factors: national average 0.5306 kgCO2/kWh
    assert cfg.targets.emission_factor_preset == "national_average_2023"
    assert cfg.targets.grid_emission_factor_tco2_mwh == 0.5306


@pytest.mark.parametrize("section", ASSUMPTION_SECTIONS)
def test_every_assumption_has_unit_and_source(section):
    _, ledger = load_assumptions(section)
    assert ledger, f"{section}.yaml is empty"
    for row in ledger:
        assert str(row["unit"]).strip(), row
        src = str(row["source"]).strip()
        assert len(src) > 10, row  # a citation or "assumption: <why>"
        if src.lower().startswith("assumption"):
            assert len(src) > len("assumption: ") + 20, f"say why: {row}"


def test_bare_value_in_table_is_rejected():
    with pytest.raises(ValueError, match="bare value"):
        split_entries({"a": {"b": 3}}, origin="x.yaml")
    with pytest.raises(ValueError, match="non-empty unit"):
        split_entries({"a": {"value": 1, "unit": "", "source": "s"}}, origin="x.yaml")


def test_user_override_key_by_key(tmp_path):
    user = tmp_path / "my.toml"
    user.write_text(
        "[rules.categories.pond]\nmin_area_m2 = 5000.0\n\n"
        "[targets.records.pv_2025]\ncapacity_mw = 5000\n",
        encoding="utf-8",
    )
    loaded = load_config(user)
    pond = loaded.config.rules.categories["pond"]
    assert pond.min_area_m2 == 5000.0
    # siblings keep their defaults
    assert pond.edge_setback_m == 5.0
    assert loaded.config.targets.records["pv_2030"].capacity_mw == 6500.0
    assert loaded.config.targets.records["pv_2025"].capacity_mw == 5000.0
    # the changed record names the user's config as its source, keeping the default's
    assert loaded.config.targets.records["pv_2025"].source.startswith(f"user config {user}")
    assert loaded.config.targets.records["pv_2025"].capacity_basis == "ac"
    rows = {r["key"]: r for r in loaded.ledger}
    assert rows["rules.categories.pond.min_area_m2"]["value"] == 5000.0
    assert rows["rules.categories.pond.min_area_m2"]["overridden"] is True
    assert rows["rules.categories.pond.min_area_m2"]["default"] == 10000.0
    assert str(user) in rows["rules.categories.pond.min_area_m2"]["source"]
    assert rows["targets.records"]["overridden"] is True
    assert rows["targets.storage_min_frac"]["overridden"] is False


def test_unknown_key_names_key_and_file(tmp_path):
    user = tmp_path / "typo.toml"
    user.write_text("[rules.categories.pond]\nmin_area_m = 5000.0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(user)
    msg = str(info.value)
    assert "rules.categories.pond.min_area_m" in msg
    assert str(user) in msg
    assert "unknown key" in msg


def test_wrong_type_names_key_and_file(tmp_path):
    user = tmp_path / "bad.toml"
    user.write_text('[targets.records.pv_2025]\ncapacity_mw = "lots"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"targets\.records\.pv_2025\.capacity_mw") as info:
        load_config(user)
    assert str(user) in str(info.value)


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[targets\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_user_paths_resolve_against_config_folder(tmp_path):
    user = tmp_path / "sub" / "c.toml"
    user.parent.mkdir()
    user.write_text('[weather]\npath = "w.epw"\n', encoding="utf-8")
    cfg = load_config(user).config
    assert Path(cfg.weather.path) == user.parent / "w.epw"
    # default paths stay relative to the project root
    assert Path(cfg.study_area.boundaries).is_relative_to(PROJECT_ROOT)


def test_override_paths_resolve_against_the_current_folder(tmp_path, monkeypatch):
    # a relative path given in code (as on the command line) is the caller's, not the
    # project's: it must come out as <cwd>/weather.epw, an absolute path
    monkeypatch.chdir(tmp_path)
    cfg = load_config(overrides={"weather": {"path": "weather.epw"}}).config
    assert Path(cfg.weather.path) == tmp_path / "weather.epw"


def test_user_can_add_a_category(tmp_path):
    user = tmp_path / "c.toml"
    user.write_text(
        '[rules.categories.sewage_pond]\ntechnology = "pv_floating"\n'
        'pv_archetype = "floating"\nmin_area_m2 = 2000.0\n',
        encoding="utf-8",
    )
    cfg = load_config(user).config
    assert cfg.rules.categories["sewage_pond"].min_area_m2 == 2000.0


def test_config_show_round_trips(tmp_path):
    loaded = load_config()
    text = config_to_toml(loaded.config)
    tree = tomllib.loads(text)
    assert tree["targets"]["records"]["pv_2025"]["capacity_mw"] == 4800.0
    # the dumped TOML loads back as a user config
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path).config.targets == loaded.config.targets
    assert "rooftop" in tree["rules"]["categories"]


def test_environment_yml_matches_pyproject():
    # environment.yml must list the same dependencies as pyproject.toml (names, not pins)
    import re

    import yaml

    py = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))

    def name(req: str) -> str:
        return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")

    wanted = {name(r) for r in py["project"]["dependencies"]}
    wanted |= {name(r) for r in py["project"]["optional-dependencies"]["dev"]}
    listed: set[str] = set()
    for item in env["dependencies"]:
        if isinstance(item, dict) and "pip" in item:
            listed |= {name(r) for r in item["pip"]}
        elif isinstance(item, str):
            listed.add(name(item))
    listed -= {"python", "pip"}
    assert listed == wanted, (
        f"only in pyproject: {sorted(wanted - listed)}; only in environment.yml: "
        f"{sorted(listed - wanted)}"
    )


def test_user_layers_replace_the_demo_layers(tmp_path):
    # a user's [layers] table replaces the demo's six layers: nothing is counted twice
    user = tmp_path / "c.toml"
    user.write_text(
        "allow_synthetic_mix = true\n"
        '[layers.my_roofs]\npath = "roofs.gpkg"\ncategory = "rooftop"\n',
        encoding="utf-8",
    )
    cfg = load_config(user).config
    assert list(cfg.layers) == ["my_roofs"]
    # exclusions were not given: the demo's remain (and are named synthetic)
    assert "airport" in cfg.exclusions


def test_real_layers_with_synthetic_inputs_is_an_error(tmp_path):
    user = tmp_path / "c.toml"
    user.write_text(
        '[layers.my_roofs]\npath = "roofs.gpkg"\ncategory = "rooftop"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="SYNTHETIC") as info:
        load_config(user)
    msg = str(info.value)
    assert "layers.my_roofs" in msg and "exclusions.airport" in msg and "terrain.dem" in msg
    assert "enabled = false" in msg
    # switching the demo inputs off makes it a clean real-data config
    user.write_text(
        '[layers.my_roofs]\npath = "roofs.gpkg"\ncategory = "rooftop"\n'
        '[exclusions]\n[terrain]\ndem = ""\nlandcover = ""\n[wind.resource]\natlas_dir = ""\n',
        encoding="utf-8",
    )
    cfg = load_config(user).config
    assert cfg.exclusions == {} and cfg.terrain.dem is None and cfg.wind.resource.atlas_dir is None


def test_disabled_layer_needs_no_path(tmp_path):
    user = tmp_path / "c.toml"
    user.write_text("[layers.mines]\nenabled = false\n", encoding="utf-8")
    cfg = load_config(user).config
    assert cfg.layers["mines"].enabled is False and cfg.layers["mines"].path is None


def test_overrides_are_named_in_errors():
    with pytest.raises(ConfigError, match="overrides: unknown key 'targets.pv_2025'"):
        load_config(overrides={"targets": {"pv_2025": 1.0}})


def test_user_adds_a_target_record_without_code(tmp_path):
    user = tmp_path / "c.toml"
    user.write_text(
        '[targets.records.wind_2030]\nlabel = "Wind 2030"\ntechnologies = ["wind"]\n'
        'year = 2030\ncapacity_mw = 300\ncapacity_basis = "ac"\nsource = "City plan, p. 3"\n\n'
        "[targets.records.pv_2030]\nenabled = false\n",
        encoding="utf-8",
    )
    targets = load_config(user).config.targets
    assert targets.records["wind_2030"].capacity_mw == 300.0
    assert "pv_2030" not in targets.active_records
    assert set(targets.active_records) == {
        "pv_2025",
        "wind_2025_ensured",
        "wind_2025_strived",
        "wind_2030",
    }


def test_new_target_needs_a_source_and_a_basis(tmp_path):
    user = tmp_path / "c.toml"
    user.write_text(
        '[targets.records.x]\nlabel = "X"\ntechnologies = ["pv"]\nyear = 2030\n'
        'capacity_mw = 1\ncapacity_basis = "peak"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(user)
    assert "targets.records.x.source" in str(info.value)
    assert "targets.records.x.capacity_basis" in str(info.value)


def test_emission_factor_preset_must_exist(tmp_path):
    user = tmp_path / "c.toml"
    user.write_text('[targets]\nemission_factor_preset = "martian"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="martian.*emission_factors"):
        load_config(user)
    user.write_text(
        '[targets]\nemission_factor_preset = "mine"\n[targets.emission_factors]\nmine = 0.6\n',
        encoding="utf-8",
    )
    assert load_config(user).config.targets.grid_emission_factor_tco2_mwh == 0.6


def test_own_dem_is_not_taken_for_the_demo_synthetic_one(tmp_path):
    # [terrain] synthetic = true of the demo must not carry over onto a user's own DEM
    user = tmp_path / "c.toml"
    user.write_text(
        '[layers.my_mines]\npath = "mines.gpkg"\ncategory = "mine"\n'
        '[exclusions]\n[terrain]\ndem = "my_dem.tif"\nlandcover = ""\n'
        '[wind.resource]\natlas_dir = ""\n',
        encoding="utf-8",
    )
    cfg = load_config(user).config
    assert cfg.terrain.synthetic is False
    assert cfg.terrain.dem == tmp_path / "my_dem.tif"
    # the demo's land cover left in place is still caught as synthetic (by its path)
    user.write_text(
        '[layers.my_mines]\npath = "mines.gpkg"\ncategory = "mine"\n'
        '[exclusions]\n[terrain]\ndem = "my_dem.tif"\n[wind.resource]\natlas_dir = ""\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"terrain\.landcover") as info:
        load_config(user)
    assert "terrain.dem" not in str(info.value)


def test_empty_exclusions_table_means_no_exclusion_layers():
    import warnings

    from census.io.layers import load_exclusions

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = load_exclusions({}, {"roads", "airport"}, metric_crs="EPSG:4549")
    assert sorted(got) == ["airport", "roads"]
    assert all(len(s) == 0 for s in got.values())
    assert any("[exclusions] is empty" in str(w.message) for w in caught)
