"""Display helpers the report's sections and writers share: times in Taiwan time, the run's
configuration as shown (private values hidden), theme ids as spreadsheet numbers."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml

from pipeline.config import Config

# Config keys whose values are real names (speaker labels, names to redact): a report must
# not print what redaction removed from the text.
PRIVATE_KEYS = {("redact", "extra_names"), ("roles", "officials"), ("roles", "moderators")}

TAIWAN = timezone(timedelta(hours=8))

def masked_config(config: dict[str, Any], hidden_label: str) -> dict[str, Any]:
    out = json.loads(json.dumps(config))
    for section, key in PRIVATE_KEYS:
        values = (out.get(section) or {}).get(key)
        if values:
            out[section][key] = hidden_label.format(n=len(values))
    return out


def config_yaml(config: dict[str, Any], hidden_label: str) -> str:
    return yaml.safe_dump(masked_config(config, hidden_label), allow_unicode=True,
                          sort_keys=False)


def when(iso: str, zone_label: str) -> str:
    """run.json's UTC timestamp in Taiwan time (UTC+8, no daylight saving), for readers there."""
    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if t.tzinfo is None:
        return t.strftime("%Y-%m-%d %H:%M")
    return t.astimezone(TAIWAN).strftime("%Y-%m-%d %H:%M") + f"（{zone_label}）"


def hidden_label(cfg: Config) -> str:
    """What the config listing shows instead of private values (names to redact etc.)."""
    return "[hidden: {n}]" if cfg.report.language == "en" else "［已隱藏 {n} 項］"


def num_id(v: Any) -> Any:
    """Theme ids as numbers where they are numbers (so -1 is not text guarded as a formula)."""
    s = str(v) if v is not None else ""
    return int(s) if re.fullmatch(r"-?\d+", s) else v
