"""Build consultation rounds from the real transcripts in ../shared (for tests and benches).

Files are copied into a fresh folder at run time (never into the repository) and described
by a round.yaml, as an analyst would set a round up.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MEETINGS = SHARED / "corpora" / "transcripts" / "meetings"

_LOC = re.compile(r"[（(]([^）)]+)[）)]")
_YOUTH_LOC = re.compile(r"第[一二三四五六七八九十]+場(\S{2})巡迴")


def roadshow_files() -> list[Path]:
    """Regional roadshow meetings (社會企業/社會創新/青年諮詢 巡迴), oldest first."""
    return sorted(p for p in MEETINGS.glob("*.md") if "巡迴" in p.name)


def session_meta(path: Path) -> dict:
    name = path.stem
    if "社會創新" in name:
        kind = "綜合"
    elif "青年" in name:
        kind = "各類團體"
    else:
        kind = "各類團體"
    loc = _LOC.search(name) or _YOUTH_LOC.search(name)
    return {"date": name[:10], "type": kind, "location": loc.group(1) if loc else "未註明"}


def build_round(dest: Path, files: list[Path], name: str) -> Path:
    """Copy `files` into `dest` with a round.yaml manifest; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    sessions = []
    for i, src in enumerate(files, 1):
        shutil.copyfile(src, dest / src.name)
        meta = session_meta(src)
        # The roadshows were chaired by the minister without portfolio, who is labelled by
        # name; an analyst names the chair in the manifest, as here.
        if "唐鳳：" in src.read_text(encoding="utf-8"):
            meta["moderators"] = ["唐鳳"]
        sessions.append({"id": f"m{i:02d}", "file": src.name, **meta})
    manifest = {"round": name, "sessions": sessions}
    (dest / "round.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return dest


def round_25(dest: Path) -> Path:
    """25 regional roadshow meetings: the benchmark round."""
    return build_round(dest, roadshow_files()[:25], "roadshow-25")


def small_round(dest: Path, n: int = 3) -> Path:
    """A few real meetings, for end-to-end tests that must stay fast."""
    files = [p for p in roadshow_files() if "社會創新" in p.name][:n]
    return build_round(dest, files, f"roadshow-{n}")


def successive_rounds(dest: Path, sizes: list[int], offset: int = 0) -> Path:
    """Consecutive slices of the roadshow meetings (oldest first) as rounds r1, r2, ...,
    with a rounds.yaml listing them in order; returns the rounds.yaml path."""
    files = roadshow_files()[offset:]
    names, start = [], 0
    for k, n in enumerate(sizes, 1):
        chunk = files[start:start + n]
        start += n
        name = f"roadshow-r{k}"
        build_round(dest / name, chunk, name)
        names.append(name)
    listing = dest / "rounds.yaml"
    listing.write_text(yaml.safe_dump({"rounds": names}, allow_unicode=True), encoding="utf-8")
    return listing


def visit_files() -> list[Path]:
    """Visits to the minister's office (來訪/拜訪): a guest, the host, no roadshow script."""
    return sorted(p for p in MEETINGS.glob("*.md") if "來訪" in p.name or "拜訪" in p.name)


def plain_folder(dest: Path, files: list[Path]) -> Path:
    """Copy `files` into `dest` with no manifest: the common case of an analyst who drops
    transcripts into a folder, so roles must be inferred from the text alone."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in files:
        shutil.copyfile(src, dest / src.name)
    return dest


def mixed_round_files() -> list[Path]:
    """10 meetings no earlier round was built from: the roadshows after round_25's, and the
    visits. Their chairs, read from the transcripts: tests/data/chairs_mixed10.yaml."""
    return roadshow_files()[25:31] + visit_files()[:4]


def mixed_round_10(dest: Path) -> Path:
    """mixed_round_files() without a manifest."""
    return plain_folder(dest, mixed_round_files())
