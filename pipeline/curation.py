"""Analyst curation: decisions about a round that survive re-running the pipeline.

An analyst reviews a run and writes down what the computed themes should become: a theme's
name, that it was reviewed, its place in the strategy framework, themes that are one topic,
units or speakers that must not be analysed. Theme numbers change whenever the themes are
re-clustered (another seed, another minimum size, one more session), so every decision about
a theme names it by WORDS (its fingerprint keywords) and is matched again on every run; units,
speakers and sessions are named by the ids ingest gives them, which do not depend on the
clustering.

The curation files are those in `mapping.curation` (configs/curation.yaml by default), then
`curation.yaml` in the round folder. Each may hold:

    themes:            # per theme (alias: pins): label, reviewed, key_area, jt_dimensions,
      - keywords: [...] # consultation_focus, gap — applied by the mapping stage
    merge:             # themes that are one topic, merged by the themes stage before mapping
      - themes: [[...], [...]]
    exclude:           # units / speakers / sessions taken out of the analysis right after ingest
      speakers: [...]

Nothing is dropped silently: every entry that matches nothing is listed in the run's
curation_report.json and printed as a warning. A malformed file is an error naming the file,
the line and the entry. Format and matching rules: docs/mapping.md, "Analyst curation".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline import safeyaml
from pipeline.config import Config, ConfigError, resolve_path
from pipeline.fingerprint import keyword_similarity, theme_fingerprint
from pipeline.jsonio import to_json
from pipeline.mapping.framework import NONE_ID, Framework
from pipeline.units import analysed_mask, analysed_units
from pipeline.yamlerrors import yaml_problem

# The reason written into units.excluded_reason for units an analyst excluded.
EXCLUDED_REASON = "curation"
THEME_KEYS = ("themes", "pins")  # `pins:` is the name the first version of the file used
TOP_KEYS = (*THEME_KEYS, "merge", "exclude")
# Theme entry fields that change a theme (an entry needs at least one of them).
THEME_ACTIONS = ("label", "reviewed", "key_area", "jt_dimensions", "consultation_focus", "gap")
# Mapping fields whose computed value is kept in `curation.computed` when an entry sets them.
COMPUTED_FIELDS = ("key_area", "key_area_confidence", "jt_dimensions", "consultation_focus",
                   "gap", "gap_reason")
EXCLUDE_COLUMNS = {"units": "unit_id", "speakers": "speaker", "sessions": "session_id"}


class CurationError(ConfigError):
    """A problem in a curation file, naming the file, the line and the entry (the CLI prints
    ConfigErrors as one line, so this reaches the analyst without a traceback)."""


# --- entry keywords ------------------------------------------------------------------------


def _keyword_list(v: Any) -> Any:
    # `keywords: 漁電共生 魚塭 光電` (one string) is as natural as a list.
    return v.split() if isinstance(v, str) else v


def _clean_keywords(v: list[str]) -> list[str]:
    out = [str(w).strip().lower() for w in v if str(w).strip()]
    if not out:
        raise ValueError("keywords are empty")
    return out


# --- the file format ------------------------------------------------------------------------


class CurationEntry(BaseModel):
    """A `themes:` (or `pins:`) entry: the themes whose keywords match get these fields."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(min_length=1)
    label: str | None = None
    reviewed: bool | None = None
    key_area: str | None = None
    jt_dimensions: list[str] | None = None
    consultation_focus: str | None = None
    gap: bool | None = None
    min_similarity: float | None = Field(None, ge=0.0, le=1.0)
    note: str = ""

    @field_validator("keywords", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return _keyword_list(v)

    @field_validator("keywords")
    @classmethod
    def _clean(cls, v: list[str]) -> list[str]:
        return _clean_keywords(v)

    @field_validator("label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("label is empty")
        return None if v is None else " ".join(v.split())

    @model_validator(mode="after")
    def _does_something(self) -> CurationEntry:
        if all(getattr(self, k) is None for k in THEME_ACTIONS):
            raise ValueError(f"the entry sets nothing; give at least one of "
                             f"{', '.join(THEME_ACTIONS)}")
        return self

    def actions(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in THEME_ACTIONS if getattr(self, k) is not None}


class MergeEntry(BaseModel):
    """A `merge:` entry: every theme matching any of the keyword sets becomes one theme."""

    model_config = ConfigDict(extra="forbid")

    themes: list[list[str]] = Field(min_length=2)
    label: str | None = None
    min_similarity: float | None = Field(None, ge=0.0, le=1.0)
    note: str = ""

    @field_validator("themes", mode="before")
    @classmethod
    def _split_sets(cls, v: Any) -> Any:
        return [_keyword_list(s) for s in v] if isinstance(v, list) else v

    @field_validator("themes")
    @classmethod
    def _clean_sets(cls, v: list[list[str]]) -> list[list[str]]:
        return [_clean_keywords(s) for s in v]

    @field_validator("label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("label is empty")
        return None if v is None else " ".join(v.split())


class ExcludeEntry(BaseModel):
    """An `exclude:` block: units, speakers and sessions taken out of the analysis."""

    model_config = ConfigDict(extra="forbid")

    units: list[str] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    sessions: list[str] = Field(default_factory=list)
    note: str = ""

    @field_validator("units", "speakers", "sessions", mode="before")
    @classmethod
    def _strings(cls, v: Any) -> Any:
        # YAML reads `sessions: [3]` as a number; ids are text everywhere else.
        if v is None:
            return []
        items = v if isinstance(v, list) else [v]
        return [str(x).strip() if isinstance(x, str | int | float) else x for x in items]

    @field_validator("units", "speakers", "sessions")
    @classmethod
    def _not_blank(cls, v: list[str]) -> list[str]:
        if any(not x for x in v):
            raise ValueError("an id is empty")
        return v

    @model_validator(mode="after")
    def _does_something(self) -> ExcludeEntry:
        if not (self.units or self.speakers or self.sessions):
            raise ValueError("the block excludes nothing; give units, speakers or sessions")
        return self


@dataclass
class Pin:
    """A theme entry as read: which themes it matches is decided by the mapping stage."""

    entry: CurationEntry
    source: str  # "file:line"
    order: int  # position over all files: on a tie, the later entry wins


@dataclass
class _Merge:
    entry: MergeEntry
    source: str
    set_sources: list[str]  # "file:line" of each keyword set


@dataclass
class _Exclude:
    entry: ExcludeEntry
    source: str
    item_sources: dict[tuple[str, int], str]  # (units|speakers|sessions, index) -> file:line


@dataclass
class Curation:
    """Everything the curation files ask for, and what applying it did (`report`)."""

    files: list[str] = field(default_factory=list)
    themes: list[Pin] = field(default_factory=list)
    merges: list[_Merge] = field(default_factory=list)
    excludes: list[_Exclude] = field(default_factory=list)
    # Section -> what applying it did; filled by the stages as they run.
    report: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pins(self) -> list[Pin]:
        return self.themes

    def report_doc(self) -> dict[str, Any]:
        """curation_report.json: the files read and one section per kind of entry; a section
        a stage has not reached (a `themes` run has no mapping) says `applied: false`."""
        counts = {"themes": len(self.themes), "merge": len(self.merges),
                  "exclude": len(self.excludes)}
        doc: dict[str, Any] = {"files": list(self.files)}
        for section, n in counts.items():
            doc[section] = self.report.get(section) or {"applied": False, "entries": n}
        return doc

    def report_json(self) -> str:
        return to_json(self.report_doc())


# --- reading the files ------------------------------------------------------------------------


def _walk(root: yaml.Node | None, path: Sequence[str | int]
          ) -> tuple[yaml.Node | None, int | None]:
    """The node at `path` (None if it is not there) and the 1-based line of the deepest node
    found along it (a mapping key's own line, so an error about a field points at the field)."""
    node, line = root, None
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if getattr(key, "value", None) == step:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return None, line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return None, line
    return node, line


def _reason(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    loc = tuple(err["loc"])
    name = ".".join(map(str, loc))
    if err["type"] == "extra_forbidden":
        return loc, f"unknown field '{name}'"
    msg = err["msg"].removeprefix("Value error, ")
    return loc, f"{name}: {msg}" if name else msg


def _entry_name(raw: Any, kind: str, index: int | None) -> str:
    num = f" #{index + 1}" if index is not None else ""
    words = raw.get("keywords") if isinstance(raw, dict) else None
    if isinstance(words, list):
        words = " ".join(map(str, words[:4]))
    hint = f" ({words})" if isinstance(words, str) and words.strip() else ""
    return f"{kind} entry{num}{hint}"


class _File:
    """One curation file being read: its text's node tree, for error lines."""

    def __init__(self, path: Path, text: str):
        self.path = path
        try:
            self.root: yaml.Node | None = safeyaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def where(self, *path: str | int) -> str:
        _, line = _walk(self.root, path)
        return f"{self.path}:{line}" if line else str(self.path)

    def text_of(self, path: Sequence[str | int], value: str) -> str:
        """An id as written in the file: YAML 1.1 reads an unquoted 3:14:0 as the number
        11640 (base 60) and 007 as 7, which would then match no unit."""
        node, _ = _walk(self.root, path)
        if node is None and path and path[-1] == 0:
            node, _ = _walk(self.root, path[:-1])  # `units: 3:14:0`, one id without a list
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            return str(node.value).strip() or value
        return value

    def fail(self, path: Sequence[str | int], what: str, reason: str) -> CurationError:
        return CurationError(f"{self.where(*path)}: {what}: {reason}")

    def validate(self, model: type[BaseModel], raw: Any, path: tuple[str | int, ...],
                 what: str) -> Any:
        if not isinstance(raw, dict):
            # pydantic would say "valid dictionary or instance of …", a Python word.
            raise self.fail(path, what, f"expected fields ({', '.join(model.model_fields)}), "
                            f"got {raw!r}")
        try:
            return model.model_validate(raw)
        except ValidationError as e:
            errors = [_reason(err) for err in e.errors()]
            first_loc = errors[0][0]
            raise self.fail((*path, *first_loc), what,
                            "; ".join(r for _, r in errors)) from e


def load_curation(paths: Sequence[Path], fw: Framework) -> Curation:
    """The entries of the curation files that exist, validated (framework ids included)."""
    cur = Curation()
    valid = {
        "key_area": {a.id for a in fw.facet("key_area")} | {NONE_ID},
        "jt_dimensions": {a.id for a in fw.jt_dimensions},
        "consultation_focus": {a.id for a in fw.focuses},
    }
    order = 0
    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        try:
            text = safeyaml.read_text(path, "curation file")
            data = safeyaml.load(text)
        except safeyaml.FileBudgetError as e:
            raise CurationError(str(e)) from e
        except yaml.YAMLError as e:
            problem, line = yaml_problem(e)
            raise CurationError(f"{path}{f':{line}' if line else ''}: {problem}") from e
        cur.files.append(str(path))
        if data is None:
            continue  # the shipped example is all comments
        f = _File(path, text)
        if not isinstance(data, dict):
            raise CurationError(f"{f.where()}: a curation file is a mapping with the keys "
                                f"{', '.join(TOP_KEYS)}")
        for key in data:
            if key not in TOP_KEYS:
                raise f.fail((str(key),), f"unknown key '{key}'",
                             f"a curation file has the keys {', '.join(TOP_KEYS)}")
        if all(k in data for k in THEME_KEYS):
            raise f.fail(("pins",), "both `themes:` and `pins:`",
                         "`pins:` is the old name of `themes:`; use one list")
        list_key = "pins" if "pins" in data else "themes"

        for i, raw in enumerate(_list(f, data, list_key)):
            what = _entry_name(raw, "theme", i)
            entry = f.validate(CurationEntry, raw, (list_key, i), what)
            for name, ids in valid.items():
                value = getattr(entry, name)
                for v in [value] if isinstance(value, str) else value or []:
                    if v not in ids:
                        raise f.fail((list_key, i, name), what,
                                     f"{name} {v!r} is not in the framework "
                                     f"({', '.join(sorted(ids))})")
            cur.themes.append(Pin(entry, f.where(list_key, i), order))
            order += 1

        for i, raw in enumerate(_list(f, data, "merge")):
            entry = f.validate(MergeEntry, raw, ("merge", i), _entry_name(raw, "merge", i))
            sets = [f.where("merge", i, "themes", k) for k in range(len(entry.themes))]
            cur.merges.append(_Merge(entry, f.where("merge", i), sets))

        raw_ex = data.get("exclude")
        blocks = [] if raw_ex is None else raw_ex if isinstance(raw_ex, list) else [raw_ex]
        single = not isinstance(raw_ex, list)
        for i, raw in enumerate(blocks):
            base: tuple[str | int, ...] = ("exclude",) if single else ("exclude", i)
            entry = f.validate(ExcludeEntry, raw, base,
                               _entry_name(raw, "exclude", None if single else i))
            for kind in EXCLUDE_COLUMNS:
                ids = getattr(entry, kind)
                ids[:] = [f.text_of((*base, kind, j), v) for j, v in enumerate(ids)]
            items = {(kind, j): f.where(*base, kind, j)
                     for kind in EXCLUDE_COLUMNS for j in range(len(getattr(entry, kind)))}
            cur.excludes.append(_Exclude(entry, f.where(*base), items))
    return cur


def _list(f: _File, data: dict[str, Any], key: str) -> list[Any]:
    raw = data.get(key)
    if raw is None:
        return []  # `themes:` with every entry commented out
    if not isinstance(raw, list):
        raise f.fail((key,), f"`{key}:`", "must be a list of entries (each starting with `- `)")
    return raw


def curation_paths(cfg: Config, round_dir: Path | None = None) -> list[Path]:
    """Curation files in the order they apply: config ones, then the round folder's."""
    paths = [resolve_path(p) for p in cfg.mapping.curation]
    if round_dir is not None:
        paths.append(Path(round_dir) / "curation.yaml")
    return paths


def load_for_run(cfg: Config, round_dir: Path | None, framework: Framework) -> Curation:
    """The curation of a run, validated against the run's framework (parsed once)."""
    return load_curation(curation_paths(cfg, round_dir), framework)


# --- exclusions (after ingest) --------------------------------------------------------------


def _speaker_matches(speakers: pd.Series, name: str) -> pd.Series:
    # Officials' pseudonyms carry their title (官員A（科長）); the bare pseudonym also names them.
    base = speakers.str.split(r"[（(]", n=1, regex=True).str[0].str.strip()
    return (speakers == name) | (base == name)


def apply_exclusions(units: pd.DataFrame, cur: Curation) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Units matching an `exclude:` id stop being analysed (`excluded_reason` "curation").

    A unit that ingest had already excluded (a moderator, a procedural line) keeps its
    reason: the counts then say what the analyst's exclusion actually removed. Every id that
    matches no unit of the round is reported, not an error: one file serves many rounds.
    """
    units = units.copy()
    analysed = analysed_mask(units)
    hit_any = pd.Series(False, index=units.index)
    matched: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    for ex in cur.excludes:
        for kind, col in EXCLUDE_COLUMNS.items():
            values = units[col].astype("string").fillna("").str.strip() if col in units \
                else pd.Series("", index=units.index, dtype="string")
            for j, value in enumerate(getattr(ex.entry, kind)):
                hit = _speaker_matches(values, value) if kind == "speakers" \
                    else values == value
                hit = hit.fillna(False).astype(bool)
                newly = hit & analysed & ~hit_any
                hit_any |= hit
                # n_units: units of the round it names; n_excluded: of those, the ones it took
                # out of the analysis (not already excluded by ingest or an earlier id).
                record = {"source": ex.item_sources[(kind, j)], "kind": kind, "id": value,
                          "n_units": int(hit.sum()), "n_excluded": int(newly.sum()),
                          "note": ex.entry.note}
                if record["n_units"]:
                    matched.append(record)
                else:
                    record["reason"] = f"matched no unit: no {col} {value!r} in this round"
                    unmatched.append(record)
    newly = hit_any & analysed
    if newly.any():
        units.loc[newly, "analysed"] = False
        units.loc[newly, "excluded_reason"] = EXCLUDED_REASON
    if "analysed" in units:
        units["analysed"] = units["analysed"].fillna(False).astype(bool)
    return units, {"applied": True, "entries": len(cur.excludes),
                   "units_excluded": int(newly.sum()), "matched": matched,
                   "unmatched": unmatched}


# --- merges (themes stage, before mapping) --------------------------------------------------


def _merged_keywords(members: list[dict[str, Any]], top_n: int) -> list[tuple[str, float]]:
    """Members' keywords pooled by size-weighted mean weight: a word strong in the larger
    theme, or shared by the members, leads."""
    total = sum(int(t.get("size") or 0) for t in members) or 1
    acc: dict[str, float] = {}
    for t in members:
        share = int(t.get("size") or 0) / total
        for k in t.get("keywords") or []:
            word, weight = (k.get("word"), k.get("weight")) if isinstance(k, dict) else (k, 1.0)
            if word:
                acc[str(word)] = acc.get(str(word), 0.0) + float(weight or 0.0) * share
    # Rounded as themes.json rounds them, so float noise cannot order equal weights.
    pooled = [(w, round(v, 6)) for w, v in acc.items()]
    return sorted(pooled, key=lambda kv: (-kv[1], kv[0]))[:top_n]


class _Groups:
    """Union-find over theme ids: two merge entries that share a theme become one group
    (merge A+B and B+C means A, B and C are one topic)."""

    def __init__(self, ids: list[int]):
        self.parent = {i: i for i in ids}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, ids: list[int]) -> None:
        root = min(self.find(i) for i in ids)
        for i in ids:
            self.parent[self.find(i)] = root


def _match_merges(cur: Curation, themes: list[dict[str, Any]], groups: _Groups,
                  default_min: float
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                             list[tuple[_Merge, list[int], dict[str, Any]]]]:
    """Which themes each merge entry's keyword sets match (joined in `groups`): the matched
    and unmatched report records, and (entry, theme ids, record) of each merge applied."""
    fps = [theme_fingerprint(t) for t in themes]
    matched: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    touched: list[tuple[_Merge, list[int], dict[str, Any]]] = []
    for m in cur.merges:
        threshold = m.entry.min_similarity if m.entry.min_similarity is not None \
            else default_min
        sets = []
        for k, words in enumerate(m.entry.themes):
            hits = []
            for t, fp in zip(themes, fps, strict=True):
                s = keyword_similarity(words, fp)
                if s >= threshold and s > 0:
                    hits.append({"theme_id": int(t["id"]), "label": t.get("label"),
                                 "similarity": round(s, 3)})
            sets.append({"source": m.set_sources[k], "keywords": words, "themes": hits})
        ids = sorted({h["theme_id"] for s in sets for h in s["themes"]})
        record: dict[str, Any] = {"source": m.source, "label": m.entry.label,
                                  "note": m.entry.note, "sets": sets}
        empty = [s["source"] for s in sets if not s["themes"]]
        if empty:
            record["unmatched_sets"] = empty
        if len(ids) < 2:
            record["reason"] = (
                "merged nothing: its keyword sets match "
                + ("no theme" if not ids else f"only theme {ids[0]}")
                + "; a merge needs two themes (usually a theme's words changed: update them)")
            unmatched.append(record)
            continue
        groups.union(ids)
        touched.append((m, ids, record))
        matched.append(record)
    return matched, unmatched, touched


def apply_merges(result: Any, units: pd.DataFrame, embeddings: np.ndarray, cur: Curation,
                 cfg: Config) -> dict[str, Any]:
    """Merge the themes of each `merge:` entry in `result` (a themes.ThemeResult), in place.

    The merged theme is described from scratch like any theme (centroid = unit-length mean of
    its members' embeddings, quotes by `representative`, label, counts, fingerprint), with the
    members' keywords pooled. Ids are then given by the themes stage's own rule (size, then
    smallest unit id), so ids stay 0..n-1, id 0 the largest, and row i of the centroids is
    theme i; the members' earlier ids, labels and fingerprints are kept in `merged_from`.
    """
    from pipeline.themes import OUTLIER, describe_themes, stable_ids

    themes = result.themes
    by_id = {int(t["id"]): t for t in themes}
    groups = _Groups(list(by_id))
    matched, unmatched, touched = _match_merges(cur, themes, groups,
                                                cfg.mapping.curation_min_similarity)

    members: dict[int, list[int]] = {}
    for tid in by_id:
        members.setdefault(groups.find(tid), []).append(tid)
    merged = {root: sorted(ids) for root, ids in members.items() if len(ids) > 1}
    report: dict[str, Any] = {"applied": True, "entries": len(cur.merges),
                              "themes_removed": 0, "matched": matched, "unmatched": unmatched}
    if not merged:
        return report

    rows = analysed_units(units)
    emb = np.asarray(embeddings, dtype=np.float32)
    ut = result.unit_themes
    unit_ids = [str(u) for u in ut["unit_id"].tolist()]
    if unit_ids != [str(u) for u in rows["unit_id"].tolist()] or len(emb) != len(rows):
        raise RuntimeError("curation merge: unit_themes, units and embeddings are not aligned")
    old = ut["theme_id"].to_numpy(dtype=np.int64)
    root_of = {tid: groups.find(tid) for tid in by_id}
    rep = np.array([root_of.get(int(t), OUTLIER) if t != OUTLIER else OUTLIER for t in old],
                   dtype=np.int64)
    top_n = cfg.themes.representation.top_n_words

    described: dict[int, tuple[dict[str, Any], np.ndarray]] = {}
    for root, ids in merged.items():
        mem = [by_id[i] for i in ids]
        kw = _merged_keywords(mem, top_n)
        alone = np.where(np.isin(old, ids), 0, OUTLIER)
        desc, cents = describe_themes(rows, emb, alone, {0: kw}, cfg)
        theme = desc[0]
        # Fit counts of the merged theme: those of the themes it merges.
        for count in ("reassigned", "loose"):
            theme[count] = sum(int(t.get(count) or 0) for t in mem)
        theme["merged_from"] = [{"id": int(t["id"]), "label": t.get("label"),
                                 "size": int(t.get("size") or 0),
                                 "fingerprint": t.get("fingerprint")} for t in mem]
        entries = [(m, rec) for m, ids_m, rec in touched if root_of[ids_m[0]] == root]
        theme["merge"] = {"sources": [m.source for m, _ in entries],
                          "note": " / ".join(m.entry.note for m, _ in entries if m.entry.note)}
        labels = [m.entry.label for m, _ in entries if m.entry.label]
        if labels:
            # The last entry's label, like a tie between theme entries goes to the later one.
            theme["label_computed"] = theme["label"]
            theme["label"] = labels[-1]
            theme["label_curated"] = True
        described[root] = (theme, cents[0])

    new_id = stable_ids(rep, unit_ids)
    new_themes: list[dict[str, Any]] = []
    rows_c: list[np.ndarray] = []
    for root in sorted({r for r in root_of.values()}, key=lambda r: new_id[r]):
        if root in described:
            theme, centroid = described[root]
        else:
            theme, centroid = dict(by_id[root]), result.centroids[root]
        theme["id"] = new_id[root]
        new_themes.append(theme)
        rows_c.append(np.asarray(centroid, dtype=np.float32))
    for _, ids, record in touched:
        record["theme_id"] = new_id[root_of[ids[0]]]
        record["merged"] = merged[root_of[ids[0]]]
    result.themes = new_themes
    dim = result.centroids.shape[1] if result.centroids.ndim == 2 else emb.shape[1]
    result.centroids = np.stack(rows_c) if rows_c else np.zeros((0, dim), np.float32)
    result.unit_themes = ut.assign(theme_id=np.array(
        [new_id[r] if r != OUTLIER else OUTLIER for r in rep], dtype=np.int64))
    removed = len(by_id) - len(new_themes)
    stats = dict(result.stats, n_themes=len(new_themes), n_themes_merged_curation=removed)
    result.stats = dict(sorted(stats.items()))
    report["themes_removed"] = removed
    return report


# --- theme entries (mapping stage) ----------------------------------------------------------


def apply_theme_curation(themes: list[dict[str, Any]], cur: Curation, fw: Framework,
                         default_min: float) -> dict[str, Any]:
    """Apply the `themes:` entries to mapped themes, in place; returns the report section.

    Several entries may match one theme: each field is set by the strongest entry that sets
    it (a tie goes to the later entry, i.e. the round folder's file), so a round can rename a
    theme that a shared file pins. Two entries setting one field differently is a conflict.
    """
    matched: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    per_theme: dict[int, list[tuple[float, Pin]]] = {}
    fps = [theme_fingerprint(t) for t in themes]
    for pin in cur.themes:
        threshold = pin.entry.min_similarity if pin.entry.min_similarity is not None \
            else default_min
        hits = []
        for i, fp in enumerate(fps):
            s = keyword_similarity(pin.entry.keywords, fp)
            if s >= threshold and s > 0:
                hits.append({"theme_id": themes[i].get("id"), "label": themes[i].get("label"),
                             "similarity": round(s, 3)})
                per_theme.setdefault(i, []).append((s, pin))
        record = {"source": pin.source, "keywords": pin.entry.keywords, **pin.entry.actions(),
                  "note": pin.entry.note, "themes": hits}
        if not hits:
            record["reason"] = ("matched no theme: no theme's fingerprint shares enough of "
                                "these keywords")
        (matched if hits else unmatched).append(record)

    for t in themes:
        t.setdefault("label_curated", False)
        t.setdefault("reviewed", False)
        if t.get("merged_from"):
            t["curated"] = True
    for i, hits in per_theme.items():
        t = themes[i]
        ordered = sorted(hits, key=lambda h: (h[0], h[1].order))  # strongest last
        winners: dict[str, tuple[Any, Pin]] = {}
        for _, pin in ordered:
            for name, value in pin.entry.actions().items():
                prev = winners.get(name)
                if prev is not None and prev[0] != value:
                    conflicts.append({"theme_id": t.get("id"), "field": name,
                                      "entries": [prev[1].source, pin.source],
                                      "applied": pin.source})
                winners[name] = (value, pin)
        computed = {k: t.get(k) for k in COMPUTED_FIELDS}
        _set_fields(t, {k: v for k, (v, _) in winners.items()}, fw, ordered[-1][1])
        s, best = ordered[-1]
        t["curated"] = True
        t["curation"] = {
            "source": best.source, "similarity": round(s, 3), "keywords": best.entry.keywords,
            "note": best.entry.note, "computed": computed,
            "entries": [{"source": p.source, "similarity": round(sim, 3),
                         "fields": sorted(k for k, (_, w) in winners.items() if w is p),
                         "note": p.entry.note} for sim, p in reversed(ordered)],
        }
    return {"applied": True, "entries": len(cur.themes), "matched": matched,
            "unmatched": unmatched, "conflicts": conflicts}


def _set_fields(t: dict[str, Any], values: dict[str, Any], fw: Framework, best: Pin) -> None:
    if "key_area" in values:
        area = values["key_area"]
        t["key_area"] = area
        t["key_area_name"] = fw.name_of(area)
        t["key_area_confidence"] = 1.0
        t["split_areas"] = [a for a in t.get("split_areas") or [] if a != area]
        if "gap" not in values:
            # Pinning a theme to an area answers the gap question.
            t["gap"], t["gap_reason"] = False, None
    if "jt_dimensions" in values:
        t["jt_dimensions"] = list(values["jt_dimensions"])
    if "consultation_focus" in values:
        t["consultation_focus"] = values["consultation_focus"]
    if "gap" in values:
        note = best.entry.note
        t["gap"] = values["gap"]
        t["gap_reason"] = (f"set by curation ({best.source})" + (f": {note}" if note else "")
                           if values["gap"] else None)
    if "label" in values:
        # A merge may already have replaced the computed label; keep the computed one.
        if not t.get("label_curated"):
            t["label_computed"] = t.get("label")
        t["label"] = values["label"]
        t["label_curated"] = True
    if "reviewed" in values:
        t["reviewed"] = bool(values["reviewed"])


# --- reporting ------------------------------------------------------------------------------


def unmatched_warnings(section: str, report: dict[str, Any]) -> list[str]:
    """One line per entry of a report section that matched nothing (printed by the runner)."""
    out = []
    for rec in report.get("unmatched") or []:
        if section == "exclude":
            out.append(f"{rec['source']}: exclude {rec['kind']} {rec['id']!r} matched no unit")
        elif section == "merge":
            out.append(f"{rec['source']}: merge entry {rec['reason']}")
        else:
            out.append(f"{rec['source']}: theme entry ({' '.join(rec['keywords'])}) matched no "
                       "theme")
    if section == "merge":
        for rec in report.get("matched") or []:
            for src in rec.get("unmatched_sets") or []:
                out.append(f"{src}: merge keyword set matched no theme")
    return [f"curation: {line}" for line in out]


__all__ = [
    "EXCLUDED_REASON", "Curation", "CurationEntry", "CurationError", "ExcludeEntry",
    "MergeEntry", "apply_exclusions", "apply_merges", "apply_theme_curation", "curation_paths",
    "keyword_similarity", "load_curation", "load_for_run", "theme_fingerprint",
    "unmatched_warnings",
]
