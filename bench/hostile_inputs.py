"""Hostile and faulty inputs (issue 16): build each case in a temp folder, run the CLI on it in
a subprocess, print a Markdown table of the command, what it printed, the exit code, the
wall time and the peak memory (max RSS of that subprocess).

    .venv/bin/python bench/hostile_inputs.py            # every case
    .venv/bin/python bench/hostile_inputs.py bomb yaml  # cases whose name contains a word

`consult config` is the first row: the start-up floor every other row includes. The cases
that need a read-only or full disk mount a small tmpfs (root only; skipped otherwise); the
embedding-cache cases run `consult themes` (embedding and clustering: tens of seconds).
Redaction cases are in tests/test_privacy.py, not here.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample-round"
SAMPLE_FILE = "s01-智庫座談.md"
# The e5 model files are built once per machine; the cache cases must not rebuild them.
MODELS = "embed.models_dir=~/.cache/consult/models"


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: int  # the exit code a correct program gives
    check: Callable[[], str] | None = None  # what to report besides the message
    concurrent: int = 1
    cleanup: list[Path] = field(default_factory=list)


def one_file_round(tmp: Path, name: str = "r", manifest: str | None = None) -> Path:
    d = tmp / name
    d.mkdir(parents=True)
    shutil.copy(SAMPLE / SAMPLE_FILE, d / SAMPLE_FILE)
    if manifest is not None:
        (d / "round.yaml").write_text(manifest, encoding="utf-8")
    return d


def manifest(round_line: str = "round: r", date: str = "2023-09-15",
             extra: str = "") -> str:
    return (f"{round_line}\nsessions:\n  - id: s01\n    file: {SAMPLE_FILE}\n"
            f"    date: {date}\n{extra}")


def billion_laughs() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for c in "bcdefghi":
        text += f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = c
    return text


def docx_bomb(path: Path, mb: float) -> None:
    """A real .docx whose document.xml is `mb` MB of repeated paragraphs (deflates ~250x)."""
    import io

    import docx

    d = docx.Document()
    d.add_paragraph("x")
    buf = io.BytesIO()
    d.save(buf)
    para = "<w:p><w:r><w:t>淨零轉型要照顧勞工的生計與在地社區。</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                head, _ = data.split(b"<w:body>")
                data = (head + b"<w:body>" + para * int(mb * 2**20 / len(para))
                        + b"<w:sectPr/></w:body></w:document>")
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def docx_many_entries(path: Path, n: int) -> None:
    shutil.copy(SAMPLE.parent / "sample-round" / SAMPLE_FILE, path.with_suffix(".md"))
    with zipfile.ZipFile(path, "w") as z:
        for i in range(n):
            z.writestr(f"customXml/item{i}.xml", b"")
    path.with_suffix(".md").unlink()


def mount_tmpfs(path: Path, size: str, readonly: bool = False) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if readonly else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def fill(path: Path) -> None:
    """Fill a (tmpfs) folder until the disk is full."""
    with (path / "filler").open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def run_dirs(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("run.json"))


def cases(tmp: Path) -> list[Case]:
    out = tmp / "out"
    c: list[Case] = [Case("baseline: start-up (`consult config`)", ["config"], 0)]

    # --- paths: nothing written outside --out
    for label, value in [("round: ../../x", "round: ../../escaped"),
                         ("round: absolute path", f"round: {tmp / 'abs-escaped'}"),
                         ("round: <script>", 'round: "<script>alert(1)</script>/x"')]:
        d = one_file_round(tmp / f"paths-{len(c)}", manifest=manifest(value))
        o = tmp / f"paths-out-{len(c)}"

        def where(o: Path = o) -> str:
            outside = [p for p in (tmp / "escaped", tmp / "abs-escaped") if p.exists()]
            return f"runs under --out: {run_dirs(o)}; outside --out: {outside or 'none'}"

        c.append(Case(f"{label}", ["ingest", str(d), "--out", str(o)], 0, where))

    d = one_file_round(tmp / "same-second", manifest=manifest())
    o = tmp / "same-second-out"
    # Both wait until the same instant after their imports, so they claim the same run id.
    together = ("import sys, time; from pipeline.cli import main; "
                "time.sleep(max(0, float(sys.argv[1]) - time.time())); "
                "sys.exit(main(sys.argv[2:]))")
    c.append(Case("two runs of one round started in the same second",
                  ["-c", together, "START", "ingest", str(d), "--out", str(o)],
                  0, lambda o=o: f"run folders: {run_dirs(o)}", concurrent=2))

    d = one_file_round(tmp / "stale", manifest=manifest())
    o = tmp / "stale-out"
    stale = o / "r" / ".tmp-20200101T000000-dead"
    stale.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (stale / ".owner.json").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename,
                                                   "started": None}))
    c.append(Case("stale .tmp-* of a killed run", ["ingest", str(d), "--out", str(o)], 0,
                  lambda s=stale: f"stale folder still there: {s.exists()}"))

    d = one_file_round(tmp / "symlink")
    secret = tmp / "elsewhere" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("### 王小明：\n這是另一個專案的逐字稿，不該被讀進來。\n", encoding="utf-8")
    (d / "link.md").symlink_to(secret)
    o = tmp / "symlink-out"

    def skipped(o: Path = o) -> str:
        runs = list(o.rglob("run.json"))
        if not runs:
            return "no run"
        return "skipped: " + json.dumps(json.loads(runs[0].read_text())["skipped"],
                                        ensure_ascii=False)
    c.append(Case("symlink to a file outside the round (no manifest)",
                  ["ingest", str(d), "--out", str(o)], 0, skipped))

    d = one_file_round(tmp / "twice", manifest=manifest(
        extra=f"  - id: s02\n    file: {SAMPLE_FILE}\n"))
    c.append(Case("same file under two session ids", ["ingest", str(d), "--out", str(out)], 2))

    # --- budgets
    d = tmp / "bomb"
    d.mkdir()
    docx_bomb(d / "bomb.docx", 100)
    size = (d / "bomb.docx").stat().st_size
    c.append(Case(f"budget: .docx of {size / 1024:.0f} KB unpacking to 100 MB",
                  ["ingest", str(d), "--out", str(out)], 2))
    d = tmp / "entries"
    d.mkdir()
    docx_many_entries(d / "many.docx", 50_000)
    c.append(Case("budget: .docx with 50,000 entries", ["ingest", str(d), "--out", str(out)], 2))
    d = one_file_round(tmp / "laughs", manifest=billion_laughs())
    c.append(Case("budget: billion-laughs round.yaml (342 bytes)",
                  ["ingest", str(d), "--out", str(out)], 2))
    (tmp / "laughs.yaml").write_text(billion_laughs())
    c.append(Case("budget: billion-laughs --config", ["config", "--config",
                                                       str(tmp / "laughs.yaml")], 2))
    d = one_file_round(tmp / "deep", manifest="round: r\nsessions: " + "[" * 100_000)
    c.append(Case("budget: round.yaml nested 100,000 deep",
                  ["ingest", str(d), "--out", str(out)], 2))
    (tmp / "deep-block.yaml").write_text("".join(f"{' ' * i}k{i}:\n" for i in range(200)))
    c.append(Case("budget: --config nested 200 deep (block style)",
                  ["config", "--config", str(tmp / "deep-block.yaml")], 2))
    c.append(Case("budget: --config /dev/zero", ["config", "--config", "/dev/zero"], 2))
    c.append(Case("--config a folder", ["config", "--config", str(tmp)], 2))
    c.append(Case("budget: `consult segment /dev/zero`", ["segment", "/dev/zero"], 2))
    (tmp / "binary.yaml").write_bytes(Path(sys.executable).read_bytes()[:4096])
    c.append(Case("--config a binary file", ["config", "--config", str(tmp / "binary.yaml")], 2))
    (tmp / "big.yaml").write_text("# padding\n" * 700_000)
    c.append(Case("budget: --config of 7 MB", ["config", "--config", str(tmp / "big.yaml")], 2))
    d = tmp / "deepjson"
    d.mkdir()
    (d / "c.jsonl").write_text('{"text": "淨零轉型要照顧勞工", "x": ' + "[" * 200_000 + "]"
                               * 200_000 + "}\n", encoding="utf-8")
    c.append(Case("jsonl nested 200,000 deep", ["ingest", str(d), "--out", str(out)], 2))

    # --- validation at the boundary
    for date, code in [("2023-13-45", 2), ("15/09/2023", 2), ("明天", 2), ("112/09/15", 0)]:
        d = one_file_round(tmp / f"date-{len(c)}", manifest=manifest(date=date))
        o = tmp / f"date-out-{len(c)}"

        def session_date(o: Path = o) -> str:
            import pandas as pd

            units = list(o.rglob("units.parquet"))
            return (f"session_date stored: {pd.read_parquet(units[0])['session_date'].iloc[0]}"
                    if units else "")
        c.append(Case(f"date: {date}", ["ingest", str(d), "--out", str(o)], code,
                      session_date))
    d = tmp / "big5"
    d.mkdir()
    shutil.copy(SAMPLE / SAMPLE_FILE, d / SAMPLE_FILE)
    (d / "round.yaml").write_bytes(manifest("round: 北部場", extra="    title: 淨零座談\n")
                                   .encode("cp950"))
    c.append(Case("Big5-encoded round.yaml", ["ingest", str(d), "--out", str(tmp / "big5-out")],
                  0, lambda: f"runs: {run_dirs(tmp / 'big5-out')}"))
    for value in ("-1", str(2**40)):
        c.append(Case(f"run.seed={value}", ["config", "--set", f"run.seed={value}"], 2))
    c.append(Case("invalid regex in roles.procedural_patterns",
                  ["config", "--set", "roles.procedural_patterns=['(未閉合']"], 2))
    d = tmp / "mixed"
    d.mkdir()
    (d / "c.jsonl").write_text(
        '{"text": "淨零轉型要照顧勞工的生計與在地社區的發展", "age": 34}\n'
        '{"text": "電價調整要考慮弱勢家庭的負擔與補貼", "age": "三十四"}\n', encoding="utf-8")
    c.append(Case("mixed-type metadata (jsonl field int and text)",
                  ["ingest", str(d), "--out", str(tmp / "mixed-out")], 0,
                  lambda: f"runs: {len(run_dirs(tmp / 'mixed-out'))}"))
    d = tmp / "badname"
    d.mkdir()
    shutil.copy(SAMPLE / SAMPLE_FILE, Path(os.fsdecode(bytes(d) + b"/caf\xe9.md")))
    c.append(Case("non-UTF-8 file name", ["ingest", str(d), "--out", str(out)], 2))

    # --- disks
    ro = tmp / "ro-disk"
    if mount_tmpfs(ro, "1m", readonly=True):
        c.append(Case("read-only output disk", ["ingest", str(one_file_round(tmp / "ro")),
                                                 "--out", str(ro / "reports")], 2, cleanup=[ro]))
    full = tmp / "full-disk"
    if mount_tmpfs(full, "256k"):
        fill(full)
        c.append(Case("full output disk", ["ingest", str(one_file_round(tmp / "full")),
                                            "--out", str(full / "reports")], 2,
                      lambda: f"left in --out: {sorted(p.name for p in full.rglob('*'))}",
                      cleanup=[full]))
    cache_full = tmp / "cache-disk"
    if mount_tmpfs(cache_full, "64k"):
        c.append(Case("full embedding-cache disk (`consult themes`)",
                      ["themes", str(SAMPLE), "--out", str(tmp / "cache-out"), "--set",
                       f"embed.cache_dir={cache_full}", "--set", MODELS], 0,
                      lambda: f"runs: {len(run_dirs(tmp / 'cache-out'))}", cleanup=[cache_full]))
    (tmp / "a-file").write_text("")
    c.append(Case("unwritable embedding-cache folder (`consult themes`)",
                  ["themes", str(SAMPLE), "--out", str(tmp / "cache-out2"), "--set",
                   f"embed.cache_dir={tmp / 'a-file' / 'cache'}", "--set", MODELS], 0,
                  lambda: f"runs: {len(run_dirs(tmp / 'cache-out2'))}"))
    # --- a bug: the one line and the saved traceback
    bug = ("import sys; from pipeline import runner; "
           "runner.STAGES['ingest'] = runner.Stage(lambda ctx, counts: {}['boom'], "
           "provides=('units',)); from pipeline.cli import main; sys.exit(main(sys.argv[1:]))")
    c.append(Case("unexpected error (a bug, simulated)",
                  ["-c", bug, "ingest", str(one_file_round(tmp / "bug")), "--out", str(out)], 1))
    return c


def run_case(case: Case) -> tuple[str, int, float, float]:
    # START: an instant both concurrent processes reach after their imports.
    argv = [f"{time.time() + 20:.3f}" if a == "START" else a for a in case.argv]
    cmd = [sys.executable, *(argv if argv[0] == "-c" else ["-m", "pipeline", *argv])]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(case.concurrent)]
    codes, outputs = [], []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
        codes.append(p.returncode)
        outputs.append((stdout, stderr))
    seconds = time.perf_counter() - t0
    # Run in a forked child of its own (_isolated): this is the peak of this case's runs.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stdout, stderr = outputs[-1]
    lines = [ln for ln in stderr.decode("utf-8", "backslashreplace").splitlines()
             if ln.strip() and not ln.startswith("[") and not ln.startswith("  ")]
    message = lines[-1] if lines else stdout.decode("utf-8", "backslashreplace").strip()
    warned = [ln for ln in lines if "Warning:" in ln]
    if warned:  # the warning is the message that matters (e.g. the cache's)
        message = warned[0].split("Warning: ", 1)[1] + " … " + message
    code = max(codes, key=lambda x: x != case.expect)
    return message, code, seconds, peak


def main(argv: list[str]) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    ok = True
    try:
        rows = []
        for case in cases(tmp):
            if argv and not any(w.lower() in case.name.lower() for w in argv) \
                    and not case.name.startswith("baseline"):
                continue
            message, code, seconds, peak = _isolated(case)
            extra = case.check() if case.check else ""
            ok &= code == case.expect
            if case.name.startswith("baseline"):
                message = "(prints the resolved config)"
            shown = (message + (f" — {extra}" if extra else "")).replace(str(tmp), "$TMP")
            cmd = " ".join(case.argv if case.argv[0] != "-c" else
                           ["(patched)" if "STAGES" in case.argv[1] else "(synchronised)",
                            *[a for a in case.argv[2:] if a != "START"]])
            rows.append(f"| {case.name} | `consult {cmd.replace(str(tmp), '$TMP')}` "
                        f"| {shown.replace('|', '/')} | {code}{'' if code == case.expect else ' ✗'}"
                        f" | {seconds:.1f} | {peak:.0f} |")
            for m in case.cleanup:
                subprocess.run(["umount", str(m)], capture_output=True)
        print("| case | command | message now | exit | s | peak MB |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        for m in (tmp / "ro-disk", tmp / "full-disk", tmp / "cache-disk"):
            subprocess.run(["umount", str(m)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def _isolated(case: Case) -> tuple[str, int, float, float]:
    """run_case in a forked child, so RUSAGE_CHILDREN's peak is this case's alone."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        result = run_case(case)
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    message, code, seconds, peak = json.loads(data)
    return message, code, seconds, peak


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
