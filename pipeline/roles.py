"""Speaker roles (moderator / official / participant) and procedural turns, by config rules."""

from __future__ import annotations

import re
from functools import cache

from pipeline.config import RolesConfig


def speaker_role(
    label: str | None, cfg: RolesConfig, officials: list[str] = (), moderators: list[str] = ()
) -> tuple[str, str | None]:
    """(role, title): an exact name listed in the config or manifest wins over patterns."""
    if not label:
        return "participant", None
    if label in moderators or label in cfg.moderators:
        return "moderator", None
    if label in officials or label in cfg.officials:
        return "official", _title(label, cfg)
    if any(p in label for p in cfg.moderator_patterns):
        return "moderator", None
    title = _title(label, cfg)
    if title:
        return "official", title
    return "participant", None


def _title(label: str, cfg: RolesConfig) -> str | None:
    for p in sorted(cfg.official_patterns, key=len, reverse=True):
        if p in label:
            return p
    return None


@cache
def _procedural(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def is_procedural(text: str, cfg: RolesConfig) -> bool:
    rx = _procedural(tuple(cfg.procedural_patterns))
    return bool(rx and rx.search(text))
