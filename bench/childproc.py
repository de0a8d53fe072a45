"""Running a bench script's measurement in a fresh process (so that peak memory and start-up
are its own) and reading the JSON line it prints last."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_child(script: str, args: list[str]) -> dict:
    cmd = [sys.executable, str(Path(script).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
