"""`consult` command line. Results go to stdout (the last line is the run folder or report);
progress and errors go to stderr; a failure exits non-zero with a one-line reason."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.config import load_config, resolve_path
from pipeline.source import InputError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="YAML file overriding configs/default.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set segment.unit=sentence (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consult",
        description="Theme reports from net-zero just-transition consultation transcripts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    for name, help_ in [
        ("ingest", "read a round folder into a table of redacted, traceable analysis units"),
        ("themes", "ingest, embed and cluster a round into themes (themes.json)"),
        ("run", "the whole pipeline: ingest → embed → themes → mapping → report"),
    ]:
        p = sub.add_parser(name, help=help_)
        if name == "run":
            p.add_argument("round_dir", type=Path, nargs="+",
                           help="folder with transcripts (and round.yaml); several folders, "
                                "or a rounds.yaml listing them, run oldest first and each is "
                                "compared with the one before")
        else:
            p.add_argument("round_dir", type=Path,
                           help="folder with transcripts (and round.yaml)")
        p.add_argument("--out", type=Path, help="reports root (default: reports/)")
        _common(p)

    p = sub.add_parser("segment", help="segment text lines into words (for evaluation/debugging)")
    p.add_argument("file", nargs="?", type=Path, help="text file (default: stdin)")
    _common(p)

    p = sub.add_parser("eval", help="score the configured pipeline on a labelled file (JSON)")
    ev = p.add_subparsers(dest="what", required=True)
    c = ev.add_parser("clustering", help="NMI/ARI of themes against a label column of a CSV")
    c.add_argument("file", type=Path)
    c.add_argument("--text-col", default="comment_body")
    c.add_argument("--label-col", default="conversation")
    c.add_argument("--baseline", choices=["default", "bertopic-defaults"], default="default",
                   help="bertopic-defaults: BERTopic's own UMAP/HDBSCAN settings, same embeddings")
    c.add_argument("--split-halves", action="store_true",
                   help="tune on half of the labels, score on the other half, and the reverse")
    _common(c)

    m = ev.add_parser("mapping", help="strategy-area mapping scores on a labelled JSONL file")
    m.add_argument("file", type=Path)
    m.add_argument("--ablation", action="store_true",
                   help="also cross-validate the learned mapper with each source of evidence "
                        "removed or alone (docs/mapping.md)")
    _common(m)

    s = ev.add_parser("stance", help="stance classifier: grouped-CV macro-F1 vs the cue "
                      "baseline on a labelled JSONL file (tests/data/stance_labels.jsonl)")
    s.add_argument("file", type=Path)
    s.add_argument("--errors", action="store_true", help="also list the misclassified units")
    _common(s)

    r = ev.add_parser("procedural", help="procedural-talk rules on a labelled JSONL file")
    r.add_argument("file", type=Path)
    r.add_argument("--errors", action="store_true", help="also list the misclassified units")
    _common(r)

    p = sub.add_parser("report", help="re-render the reports of a finished run (no recompute)")
    p.add_argument("run_dir", type=Path)
    _common(p)

    p = sub.add_parser("diff", help="compare the themes of two finished runs (diff.json)")
    p.add_argument("run_a", type=Path, help="the earlier run folder")
    p.add_argument("run_b", type=Path, help="the later run folder")
    p.add_argument("--out", type=Path, help="where to write diff.json (default: RUN_B/diff.json)")
    _common(p)

    p = sub.add_parser("export", help="write a finished run's coded units for QDA software "
                                      "(REFI-QDA .qdpx: NVivo, ATLAS.ti, MAXQDA, QualCoder)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--format", dest="fmt", choices=["qdpx"], default="qdpx")
    p.add_argument("--out", type=Path, help="file or folder to write (default: RUN_DIR/round.qdpx)")
    p.add_argument("--offsets", choices=["utf16", "codepoints"], default="utf16",
                   help="how selection positions count characters: utf16 for NVivo, ATLAS.ti "
                        "and MAXQDA, codepoints for QualCoder (docs/export.md)")
    _common(p)

    p = sub.add_parser("config", help="print the resolved config as YAML")
    _common(p)
    return parser


def _segment(args: argparse.Namespace) -> int:
    from pipeline.segment import get_segmenter

    cfg = load_config(args.config, args.overrides)
    seg = get_segmenter(cfg.segment)
    if args.file:
        from pipeline.ingest.decode import decode_text

        if not args.file.is_file():  # a folder, /dev/zero, a pipe: never read without end
            raise InputError(args.file, "not a regular file", "give the path of a text file")
        if args.file.stat().st_size > cfg.ingest.max_file_mb * 2**20:
            raise InputError(args.file, f"larger than ingest.max_file_mb "
                             f"({cfg.ingest.max_file_mb:g} MB)", "split the file")
        text, _ = decode_text(args.file, args.file.read_bytes())
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
    else:
        lines = [ln.rstrip("\r\n") for ln in sys.stdin]
    out = sys.stdout
    for line in lines:
        out.write(" ".join(seg.cut(line)) + "\n")
    return 0


def _eval(args: argparse.Namespace, cfg) -> int:
    if not args.file.is_file():
        raise InputError(args.file, "file not found", "give the path of a labelled file")
    if args.what == "clustering":
        from pipeline.evaluate.clustering import eval_clustering, split_halves

        if args.split_halves:
            result = split_halves(args.file, args.text_col, args.label_col, cfg)
        else:
            result = eval_clustering(args.file, args.text_col, args.label_col, cfg,
                                     mode=args.baseline)
    elif args.what == "procedural":
        from pipeline.evaluate.procedural import eval_procedural

        result = eval_procedural(args.file, cfg, errors=args.errors)
    elif args.what == "stance":
        from pipeline.evaluate.stance import eval_stance

        result = eval_stance(args.file, cfg, errors=args.errors)
    else:
        from pipeline.evaluate.mapping import eval_mapping

        result = eval_mapping(args.file, cfg, ablation=args.ablation)
    _json_print(result)
    return 0


def _report(args: argparse.Namespace, cfg) -> int:
    from pipeline.report import render_report
    from pipeline.rundir import CONFIG_YAML, RUN_JSON

    run_dir = args.run_dir
    if not (run_dir / RUN_JSON).is_file():
        raise InputError(run_dir, "not a finished run folder (no run.json)",
                         "pass a folder printed by `consult run` or `consult themes`")
    if not args.config and (run_dir / CONFIG_YAML).is_file():
        # The run's own config, with any --set on top (e.g. another report.language).
        cfg = load_config(run_dir / CONFIG_YAML, args.overrides)
    written = render_report(run_dir, cfg)
    print(written.get("html", run_dir))
    return 0


def _diff(args: argparse.Namespace, cfg) -> int:
    from pipeline.atomic import write_atomic
    from pipeline.compare import diff_json, diff_runs, format_summary, load_run
    from pipeline.rundir import DIFF

    a, b = load_run(args.run_a), load_run(args.run_b)
    diff = diff_runs(a, b, cfg)
    out = args.out or b.run_dir / DIFF
    if out.is_dir():
        out = out / DIFF
    write_atomic(out, diff_json(diff))
    print(format_summary(diff), end="")
    print(out)
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "segment":
        return _segment(args)
    cfg = load_config(args.config, args.overrides)
    args.out_root = getattr(args, "out", None) or resolve_path(cfg.run.reports_root)
    if args.command == "eval":
        return _eval(args, cfg)
    if args.command == "report":
        return _report(args, cfg)
    if args.command == "diff":
        return _diff(args, cfg)
    if args.command == "export":
        from pipeline.export import export_run

        # The run's own config (framework, report language), any --set on top.
        run_cfg = args.run_dir / "config.yaml"
        if not args.config and run_cfg.is_file():
            cfg = load_config(run_cfg, args.overrides)
        done = export_run(args.run_dir, cfg, args.fmt, args.out, args.offsets)
        if not args.quiet:
            print(f"{done.sources} sources, {done.codes} codes, {done.selections} coded "
                  f"selections (offsets: {done.offsets}; characters outside the BMP: "
                  f"{done.astral_chars})", file=sys.stderr)
        print(done.path)
        return 0
    if args.command == "config":
        import yaml

        print(yaml.safe_dump(cfg.to_dict(), allow_unicode=True, sort_keys=False), end="")
        return 0
    from pipeline.runner import run

    if args.command == "run":
        from pipeline.compare.rounds import round_dirs
        from pipeline.runner import run_rounds

        # One line per round; the last is the newest round's report.
        for final in run_rounds("run", round_dirs(args.round_dir), cfg, args.out,
                                quiet=args.quiet):
            print(final, flush=True)
        return 0
    final = run(args.command, args.round_dir, cfg, args.out, quiet=args.quiet)
    print(final)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The error boundary: every failure is one line on stderr (pipeline/failures.py)."""
    from pipeline import failures

    # Paths are printed as the file system has them (a non-UTF-8 name stays usable in a
    # shell); errors never fail to print.
    for stream, errors in ((sys.stdout, "surrogateescape"), (sys.stderr, "backslashreplace")):
        try:
            stream.reconfigure(errors=errors)  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print(f"consult {args.command}: interrupted; no run folder was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        message = failures.expected_message(e)
        if message is not None:
            print(f"consult {args.command}: error: {message}", file=sys.stderr)
            return failures.EXIT_EXPECTED
        out_root = getattr(args, "out_root", None) or getattr(args, "out", None)
        print(f"consult {args.command}: {failures.bug_message(e, out_root)}", file=sys.stderr)
        return failures.EXIT_BUG


def _json_print(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
