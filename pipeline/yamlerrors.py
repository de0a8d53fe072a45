"""A YAML syntax error as the analyst should read it: what is wrong and on which line.

Every file the analyst writes (config, round.yaml, rounds.yaml, curation.yaml) reports its
syntax errors through this, so the messages read alike; each caller names the file in its
own error type. Files over a budget of safeyaml.py are reported the same way.
"""

from __future__ import annotations

import yaml

from pipeline.safeyaml import YamlBudgetError


def yaml_problem(e: yaml.YAMLError) -> tuple[str, int | None]:
    """("not valid YAML (<problem>)", 1-based line of the problem, or None if unknown)."""
    mark = getattr(e, "problem_mark", None)
    line = mark.line + 1 if mark else None
    if isinstance(e, YamlBudgetError):
        return f"refused: {e.problem}", line
    return f"not valid YAML ({getattr(e, 'problem', e)})", line


def yaml_hint(e: yaml.YAMLError) -> str:
    """What to do: a budget's problem already says it; a syntax error is fixed in the file."""
    return "" if isinstance(e, YamlBudgetError) else "fix the YAML syntax"
