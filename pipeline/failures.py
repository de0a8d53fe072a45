"""What the command line says when a command fails: always one line.

Expected failures, the ones the user can do something about (a bad file, a config value,
a full or read-only disk), become `file[:line]: what happened. what to do` with exit code
2. Anything else is a bug: one line naming the exception type and where in the code it was
raised, with the full traceback saved to a file (in the output root, else the temp folder),
exit code 1. Neither line quotes exception messages that may hold transcript text (a
pyarrow conversion error quotes the cell it failed on): those are described, not printed.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from pipeline.config import PACKAGE_ROOT, ConfigError
from pipeline.safeyaml import FileBudgetError
from pipeline.source import InputError
from pipeline.yamlerrors import yaml_problem

EXIT_EXPECTED = 2
EXIT_BUG = 1
ERRORS_FOLDER = ".consult-errors"

_OS_HINTS = {
    errno.ENOSPC: "free some disk space, or write to another folder with --out",
    errno.EDQUOT: "free some disk space, or write to another folder with --out",
    errno.EROFS: "the disk is read-only: write to another folder with --out",
    errno.EACCES: "no permission: write to a folder you own (--out), or fix the permissions",
    errno.EPERM: "no permission: write to a folder you own (--out), or fix the permissions",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a file is in the way where a folder was expected: check the path",
    errno.EISDIR: "a folder was given where a file was expected: check the path",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.EMFILE: "too many open files: close other programs and try again",
}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types whose message is already written for the user (and names the file)."""
    from pipeline.embed.e5_model import E5BundleError
    from pipeline.embed.embedder import EmbedConfigError, ModelNotAvailableError

    return (ConfigError, InputError, FileBudgetError, EmbedConfigError,
            ModelNotAvailableError, E5BundleError)


def expected_message(e: BaseException) -> str | None:
    """The one line for a failure the user can fix, or None when it is a bug."""
    if isinstance(e, _user_errors()):
        return str(e)
    if isinstance(e, yaml.YAMLError):
        problem, line = yaml_problem(e)
        return f"a YAML file{f' line {line}' if line else ''}: {problem}. fix the file"
    if isinstance(e, UnicodeEncodeError) and "surrogates" in str(e.reason):
        return ("a file or folder name is not valid UTF-8 (made on another system?). "
                "rename it and run again")
    if isinstance(e, UnicodeDecodeError):
        return (f"cannot decode text as {e.encoding} (bad byte at position {e.start}). "
                "save the file as UTF-8 or Big5")
    if isinstance(e, OSError):
        return _os_message(e)
    if isinstance(e, RecursionError):
        return ("an input is nested too deeply to read (a hostile or broken file?). "
                "check the files of this command")
    if isinstance(e, MemoryError):
        return ("ran out of memory (an input far larger than it looks?). check the files; "
                "ingest.max_file_mb and ingest.max_unzipped_mb limit what is read")
    if isinstance(e, ValidationError):
        where = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                          for err in e.errors()[:3])
        return f"invalid value ({where}). fix the value named"
    if isinstance(e, sqlite3.Error):
        return (f"the embedding cache database failed ({type(e).__name__}: {e}). move its "
                "folder (embed.cache_dir) aside or set --set embed.cache=false")
    if isinstance(e, re.error):
        return (f"invalid regular expression {e.pattern!r} ({e.msg}). fix it in the config "
                "or escape special characters with a backslash")
    if _is_arrow(e):
        m = re.search(r"column (\S+?)(?: with type|\)|'|$)", str(e))
        column = f"column '{m.group(1)}'" if m else "a column"
        return (f"could not store a table: {column} holds values of mixed types "
                "(numbers and text). make the column's values one kind in the input file")
    return None


def _os_message(e: OSError) -> str:
    where = e.filename if e.filename is not None else "consult"
    if e.filename2 is not None:
        where = f"{where} -> {e.filename2}"
    what = e.strerror or type(e).__name__
    hint = _OS_HINTS.get(e.errno or 0, "check the path and that the disk is writable")
    return f"{where}: {what}. {hint}"


def _is_arrow(e: BaseException) -> bool:
    try:
        import pyarrow
    except ImportError:
        return False
    return isinstance(e, pyarrow.ArrowException)


def bug_message(e: BaseException, out_root: Path | None) -> str:
    """One line for an unexpected failure; the traceback goes to a file it names."""
    where = _raised_at(e)
    saved = save_traceback(e, out_root)
    kept = (f"the full traceback is in {saved} (it may quote transcript text: share it only "
            "with someone allowed to see the transcripts)" if saved
            else "the traceback could not be saved")
    return f"internal error ({type(e).__name__} at {where}); {kept}. please report it"


def _raised_at(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return "unknown place"
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(PACKAGE_ROOT)]
    f = (ours or frames)[-1]
    path = Path(f.filename).resolve()
    shown = path.relative_to(PACKAGE_ROOT) if path.is_relative_to(PACKAGE_ROOT) else path.name
    return f"{shown}:{f.lineno} in {f.name}"


def save_traceback(e: BaseException, out_root: Path | None) -> Path | None:
    """Write the traceback under `<out_root>/.consult-errors/`, else the temp folder
    (readable by its owner only); None if neither is writable."""
    text = "".join(traceback.format_exception(e))
    name = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    folders = [Path(out_root) / ERRORS_FOLDER] if out_root else []
    folders.append(Path(tempfile.gettempdir()) / "consult-errors")
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return None
