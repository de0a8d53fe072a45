from pathlib import Path

import pytest
import yaml

from pipeline.config import DEFAULT_CONFIG, Config, ConfigError, load_config


def test_default_yaml_holds_every_value_of_every_stage():
    on_disk = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    assert on_disk == Config().to_dict(), "run `make defaults` after changing pipeline/config.py"


def test_set_override_parses_types():
    cfg = load_config(overrides=["segment.unit=turn", "segment.min_cjk_chars=5",
                                 "redact.enabled=false"])
    assert cfg.segment.unit == "turn"
    assert cfg.segment.min_cjk_chars == 5
    assert cfg.redact.enabled is False


def test_unknown_key_in_override_is_named():
    with pytest.raises(ConfigError, match=r"segment\.unitt"):
        load_config(overrides=["segment.unitt=turn"])


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"segment\.min_cjk_chars"):
        load_config(overrides=["segment.min_cjk_chars=many"])


def test_bad_enum_value_is_named():
    with pytest.raises(ConfigError, match=r"segment\.unit"):
        load_config(overrides=["segment.unit=paragraphs"])


def test_user_file_unknown_key_names_file_and_key(tmp_path: Path):
    f = tmp_path / "my.yaml"
    f.write_text("segment:\n  unit: turn\n  colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert "my.yaml" in str(e.value) and "segment.colour" in str(e.value)


def test_user_file_overrides_default_and_set_overrides_file(tmp_path: Path):
    f = tmp_path / "my.yaml"
    f.write_text("segment:\n  unit: turn\n  window_size: 5\n", encoding="utf-8")
    cfg = load_config(f, ["segment.window_size=2"])
    assert cfg.segment.unit == "turn" and cfg.segment.window_size == 2
    assert cfg.redact.enabled is True  # untouched defaults survive


def test_hash_changes_with_values():
    assert load_config().hash() == load_config().hash()
    assert load_config().hash() != load_config(overrides=["run.seed=7"]).hash()


def test_bad_yaml_reports_line(tmp_path: Path):
    f = tmp_path / "bad.yaml"
    f.write_text("segment:\n  unit: [turn\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml line \d+"):
        load_config(f)
