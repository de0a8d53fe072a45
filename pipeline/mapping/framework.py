"""The mapping framework: strategy areas and just-transition facets, read from a YAML file.

`configs/strategy_areas.yaml` ships the default (Taiwan's 2050 net-zero pathway); analysts edit
it or point `mapping.framework` at their own. Every entry names its facet:

- `key_area` (one primary area per unit; the reserved id `NONE` describes "no area"),
- `jt_dimension` (zero or more per unit),
- `consultation_focus` (zero or one per unit).

Validation is strict and every message names the file, the line and the entry, because the
people who edit this file are analysts, not programmers: a duplicate id, an empty description,
an unknown facet or an unknown field is an error, never a silent skip.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline import safeyaml
from pipeline.config import ConfigError

Facet = Literal["key_area", "jt_dimension", "consultation_focus"]
FACETS: tuple[str, ...] = ("key_area", "jt_dimension", "consultation_focus")
# Spellings people naturally write (the output field is `jt_dimensions`); mapped, not rejected.
FACET_ALIASES = {
    "key_areas": "key_area",
    "jt_dimensions": "jt_dimension",
    "focus": "consultation_focus",
    "consultation_foci": "consultation_focus",
}
NONE_ID = "NONE"

# YAML folds a wrapped line into a space, which is wrong between two Chinese characters.
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def clean_text(text: str) -> str:
    """Collapse whitespace; drop it entirely between CJK characters."""
    return _CJK_GAP.sub("", " ".join(text.split()))


def _description(v: str) -> str:
    v = clean_text(v)
    if not v:
        raise ValueError("description is empty")
    return v


def _example_list(v: tuple[str, ...]) -> tuple[str, ...]:
    out = tuple(clean_text(e) for e in v)
    if any(not e for e in out):
        raise ValueError("an example sentence is empty")
    return out


class FrameworkError(ConfigError):
    """A problem in a framework file, phrased for the analyst who edits it."""


class Keyword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word: str = Field(min_length=1)
    weight: float = Field(1.0, gt=0)

    @field_validator("word")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("keyword is empty")
        return v


class Area(BaseModel):
    """One entry of the framework: a key area, a JT dimension or a consultation focus."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    facet: Facet
    id: str = Field(min_length=1)
    name: str = ""
    description: str
    keywords: tuple[Keyword, ...] = ()
    examples: tuple[str, ...] = ()

    @field_validator("facet", mode="before")
    @classmethod
    def _facet_alias(cls, v: Any) -> Any:
        return FACET_ALIASES.get(v, v) if isinstance(v, str) else v

    @field_validator("id", "name", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        # YAML reads `id: 1` as an int; an id is a label, so keep it as text.
        return str(v).strip() if isinstance(v, int | float) or isinstance(v, str) else v

    _description = field_validator("description")(_description)

    @field_validator("keywords", mode="before")
    @classmethod
    def _plain_keywords(cls, v: Any) -> Any:
        # A plain string is a keyword of weight 1; `{word: 詞, weight: 2}` sets the weight.
        if isinstance(v, list):
            return [{"word": k} if isinstance(k, str) else k for k in v]
        return v

    _examples = field_validator("examples")(_example_list)

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}".strip() if self.name and self.name != self.id else self.id

    def passages(self) -> list[str]:
        """Texts embedded for this entry: its description (with the name) and each example."""
        head = f"{self.name}：{self.description}" if self.name else self.description
        return [head, *self.examples]


class Relevance(BaseModel):
    """The general "about net-zero / the transition" anchor used for gap detection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    examples: tuple[str, ...] = ()
    # Words that make a unit about climate/energy/the transition whatever its embedding says
    # (熱危害, 電費, 減碳 ...). Used only for gap detection, never to score areas.
    keywords: tuple[str, ...] = ()

    _description = field_validator("description")(_description)
    _examples = field_validator("examples")(_example_list)

    @field_validator("keywords", mode="before")
    @classmethod
    def _words(cls, v: Any) -> Any:
        words = v.split() if isinstance(v, str) else v
        if isinstance(words, list):
            words = [str(w).strip() for w in words]
            if not all(words):
                raise ValueError("a keyword is empty")
        return words

    def passages(self) -> list[str]:
        return [self.description, *self.examples]


class FrameworkMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    version: str | int | float = 1
    description: str = ""


@dataclass(frozen=True)
class Framework:
    """A validated framework; `areas` keeps file order, which is the order of every output."""

    meta: FrameworkMeta
    areas: tuple[Area, ...]
    relevance: Relevance | None = None
    path: Path | None = None
    digest: str = ""
    _by_id: dict[str, Area] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({a.id: a for a in self.areas})

    def facet(self, facet: str) -> list[Area]:
        return [a for a in self.areas if a.facet == facet]

    @property
    def key_areas(self) -> list[Area]:
        """Strategy areas proper (without NONE)."""
        return [a for a in self.facet("key_area") if a.id != NONE_ID]

    @property
    def none_area(self) -> Area | None:
        return self._by_id.get(NONE_ID)

    @property
    def jt_dimensions(self) -> list[Area]:
        return self.facet("jt_dimension")

    @property
    def focuses(self) -> list[Area]:
        return self.facet("consultation_focus")

    def get(self, area_id: str) -> Area:
        return self._by_id[area_id]

    def __contains__(self, area_id: object) -> bool:
        return area_id in self._by_id

    def name_of(self, area_id: str) -> str:
        a = self._by_id.get(area_id)
        return a.name if a else ("無對應戰略" if area_id == NONE_ID else area_id)


def _entry_lines(text: str) -> list[int]:
    """1-based line of each item under `areas:`, so errors can point into the file."""
    try:
        root = safeyaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "areas" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _entry_name(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and raw.get("id") not in (None, ""):
        return f"entry '{raw['id']}'"
    return f"entry #{index + 1}"


def _pydantic_reason(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown field '{loc}'")
        elif e["type"] == "literal_error" and loc == "facet":
            parts.append(
                f"unknown facet {e.get('input')!r} (expected one of: {', '.join(FACETS)})"
            )
        elif e["type"] == "missing":
            parts.append(f"missing field '{loc}'")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def parse_framework(data: Any, source: str = "<framework>", text: str = "") -> Framework:
    """Validate the parsed YAML of a framework; `source` names the file in every error."""
    if not isinstance(data, dict):
        raise FrameworkError(f"{source}: a framework must be a mapping with an `areas:` list")
    unknown = set(data) - {"framework", "relevance", "areas"}
    if unknown:
        raise FrameworkError(
            f"{source}: unknown top-level key(s) {sorted(unknown)}; "
            "expected `framework`, `relevance` and `areas`"
        )
    try:
        meta = FrameworkMeta.model_validate(data.get("framework") or {})
    except ValidationError as e:
        raise FrameworkError(f"{source}: framework: {_pydantic_reason(e)}") from e
    relevance = None
    if data.get("relevance") is not None:
        try:
            relevance = Relevance.model_validate(data["relevance"])
        except ValidationError as e:
            raise FrameworkError(f"{source}: relevance: {_pydantic_reason(e)}") from e
    raw_areas = data.get("areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        raise FrameworkError(f"{source}: `areas:` must be a non-empty list of entries")
    lines = _entry_lines(text)

    def where(i: int) -> str:
        return f"{source}:{lines[i]}" if i < len(lines) else source

    areas: list[Area] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_areas):
        name = _entry_name(raw, i)
        if not isinstance(raw, dict):
            raise FrameworkError(f"{where(i)}: {name}: must be a mapping (facet, id, description…)")
        try:
            area = Area.model_validate(raw)
        except ValidationError as e:
            raise FrameworkError(f"{where(i)}: {name}: {_pydantic_reason(e)}") from e
        if area.id in seen:
            first = seen[area.id]
            raise FrameworkError(
                f"{where(i)}: {name}: duplicate id '{area.id}' "
                f"(first defined at {where(first)}); ids must be unique in the file"
            )
        if area.id == NONE_ID and area.facet != "key_area":
            raise FrameworkError(f"{where(i)}: {name}: id 'NONE' is reserved for facet key_area")
        seen[area.id] = i
        areas.append(area)
    fw_areas = tuple(areas)
    if not any(a.facet == "key_area" and a.id != NONE_ID for a in fw_areas):
        raise FrameworkError(f"{source}: the framework has no key_area entries besides NONE")
    canon = json.dumps(
        {
            "meta": meta.model_dump(mode="json"),
            "relevance": relevance.model_dump(mode="json") if relevance else None,
            "areas": [a.model_dump(mode="json") for a in areas],
        },
        ensure_ascii=False, sort_keys=True,
    )
    digest = hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]
    return Framework(meta=meta, areas=fw_areas, relevance=relevance, digest=digest)


def load_framework(path: str | Path) -> Framework:
    """Read and validate a framework file; every problem is a FrameworkError naming the file."""
    path = Path(path)
    try:
        text = safeyaml.read_text(path, "framework file")
    except FileNotFoundError as e:
        raise FrameworkError(f"{path}: framework file not found") from e
    except safeyaml.FileBudgetError as e:
        raise FrameworkError(str(e)) from e
    try:
        data = safeyaml.load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise FrameworkError(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)})") from e
    fw = parse_framework(data, str(path), text)
    return Framework(
        meta=fw.meta, areas=fw.areas, relevance=fw.relevance, path=path, digest=fw.digest
    )
