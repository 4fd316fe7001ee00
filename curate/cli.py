"""The `curate` command: run a pipeline, list stages; more subcommands in curate/commands/."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from curate import __version__


def _cmd_run(args: argparse.Namespace) -> int:
    from curate.config import load_pipeline
    from curate.executors import make_executor
    from curate.pipeline import run_pipeline
    from curate.report import check_balance, render_summary

    config = load_pipeline(args.pipeline)
    if args.input:
        config.input = args.input
    if args.output:
        config.output = args.output
    if not config.output:
        raise_usage("no output directory: set 'output' in the pipeline or pass --output")
    workers = args.workers or config.workers
    for spec in config.stages:  # an index on the Hub: a missing repository or a token that
        index = spec.params.get("index")  # cannot write, before any work (as for --output)
        if isinstance(index, str) and index.startswith("hf://"):
            from curate.hub import check_writable

            check_writable(index)
    remote = _begin_remote(config, args.resume) if _is_remote(config.output) else None
    # names this run as the holder of an index's lock in a bucket, by its output (the same when
    # resumed: the lock's error tells another run to resume it by this name)
    os.environ["CURATE_RUN"] = remote or str(config.output)
    if args.break_lock:
        os.environ["CURATE_BREAK_LOCK"] = "1"
    executor = make_executor(args.executor, workers, args.address)
    try:
        report = run_pipeline(config, executor, resume=args.resume, keep_work=args.keep_work)
    finally:
        executor.close()
    if remote is not None:
        from curate.storage import publish_run

        manifest = publish_run(remote, config.output)
        how = "in one commit" if remote.startswith("hf://") else "manifest written last"
        print(f"published {len(manifest['objects'])} objects to {remote} ({how})")
        config.output = remote
    print(render_summary(report))
    print(f"report: {config.output.rstrip('/')}/report.md")
    problems = check_balance(report)
    if problems:
        print("ACCOUNTING ERROR: " + "; ".join(problems), file=sys.stderr)
        return 3
    return 0


def _is_remote(path: str) -> bool:
    from curate.storage import is_remote

    return is_remote(path)


def _begin_remote(config, resume: bool) -> str:
    """An object-store output: every worker writes its files straight into the bucket, under
    this run's own prefix (``URL/_runs/<id>/``); the manifest that publishes them is written
    last (on the Hub: into a local staging folder, published by one commit). Returns the URL;
    ``config.output`` becomes the run's prefix (or staging folder)."""
    from curate.storage import begin_run

    url = config.output
    config.output = begin_run(url, resume)  # a missing bucket or refused credentials: here
    print(f"writing {url} under {config.output}", file=sys.stderr)
    return url


def _cmd_stages(args: argparse.Namespace) -> int:
    from curate.report.stages import field_default
    from curate.stages.base import PLANNED, REGISTRY, load_all

    load_all()
    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        doc = (sys.modules[cls.__module__].__doc__ or "").strip().splitlines()[0]
        print(f"{name} ({cls.kind}): {doc.split(': ', 1)[-1]}")
        for f in dataclasses.fields(cls.Config):
            print(f"    {f.name} = {field_default(f)!r}")
    missing = [n for n in PLANNED if n not in REGISTRY]
    if missing:
        print("\nplanned, not yet implemented: " + ", ".join(missing))
    return 0


def _cmd_index_info(args: argparse.Namespace) -> int:
    import json

    from curate.index import index_info

    info = index_info(args.dir)
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    params = ", ".join(f"{k}={v}" for k, v in info["params"].items())
    parts = f"{info['partitions']} partition{'s' if info['partitions'] != 1 else ''}"
    print(f"{args.dir}: {info['kind']} index, {parts} ({params})")
    print(f"{'seq':>5}  {'dump':<28} {'docs':>12} {'bytes':>14}  committed")
    for d in info["dumps"]:
        print(
            f"{d['seq']:>5}  {d['dump']:<28} {d['docs']:>12,} {d['bytes']:>14,}  "
            f"{d['committed_at']}"
        )
    per_doc = info["bytes_per_doc"]
    print(
        f"total: {len(info['dumps'])} dumps, {info['docs']:,} docs, {info['bytes']:,} bytes"
        + (f", {per_doc} bytes/doc" if per_doc is not None else "")
    )
    return 0


def _cmd_measure_curve(args: argparse.Namespace) -> int:
    from curate.measure import dedup_curve, render_curve

    curve = dedup_curve(
        args.input, sample=args.sample, stage=args.stage, seed=args.seed, confidence=args.confidence
    )
    print(render_curve(curve))
    return 0


class _VersionAction(argparse.Action):
    """Like argparse's version action, but looks the packages up only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from curate.extras import version_text

        print(version_text(__version__))
        parser.exit()


class UsageError(Exception):
    pass


def raise_usage(message: str) -> None:
    raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curate", description="Curate LLM pretraining corpora: dedup, filter, scrub, remix."
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="curate's version and those of the packages that change results",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a pipeline YAML over Parquet shards")
    run.add_argument("pipeline", help="pipeline YAML, e.g. pipelines/deepseek.yaml")
    run.add_argument("--input", nargs="+", help="input paths/globs (overrides the YAML)")
    run.add_argument("--output", help="output directory (overrides the YAML)")
    run.add_argument("--workers", type=int, help="worker processes (default: number of cores)")
    run.add_argument("--executor", default="local", choices=["local", "ray"])
    run.add_argument("--address", help="Ray cluster address (with --executor ray)")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run.add_argument(
        "--keep-work", action="store_true", help="keep intermediate files in OUT/_work"
    )
    run.add_argument(
        "--break-lock",
        action="store_true",
        help="take over an index's lock (in a bucket or on the Hub) left by a run that was "
        "killed and will not be resumed",
    )
    run.set_defaults(fn=_cmd_run)

    st = sub.add_parser("stages", help="list stages and their parameters with defaults")
    st.set_defaults(fn=_cmd_stages)

    idx = sub.add_parser("index", help="inspect a cross-dump dedup index")
    idx_sub = idx.add_subparsers(dest="index_command", required=True)
    info = idx_sub.add_parser("info", help="dumps, document counts and size on disk")
    info.add_argument("dir", help="index directory (the 'index:' parameter of a dedup stage)")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(fn=_cmd_index_info)

    measure = sub.add_parser("measure", help="measure a corpus without writing it")
    measure_sub = measure.add_subparsers(dest="measure_command", required=True)
    curve = measure_sub.add_parser(
        "dedup-curve", help="share removed when deduplicating across the first 1..N dumps"
    )
    curve.add_argument("--input", nargs="+", required=True, help="Parquet shards (dump=X/)")
    curve.add_argument(
        "--sample",
        type=float,
        default=1.0,
        help="fraction of documents to use (with a confidence interval)",
    )
    curve.add_argument(
        "--stage", default="minhash_dedup", choices=["minhash_dedup", "url_dedup", "exact_dedup"]
    )
    curve.add_argument("--seed", type=int, default=0, help="sampling seed")
    curve.add_argument("--confidence", type=float, default=0.95)
    curve.set_defaults(fn=_cmd_measure_curve)
    _add_command_modules(sub)
    return parser


def _add_command_modules(sub: argparse._SubParsersAction) -> None:
    """Each module in curate/commands/ adds its subcommand with ``add_parser(sub)``."""
    import importlib
    import pkgutil

    import curate.commands

    for info in sorted(pkgutil.iter_modules(curate.commands.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"curate.commands.{info.name}").add_parser(sub)


def main(argv: list[str] | None = None) -> int:
    from curate.errors import CurateError

    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except CurateError as exc:
        print(f"curate: error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"curate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("curate: interrupted; continue with --resume", file=sys.stderr)
        return 130


def entry() -> None:
    """Console-script entry: flush and leave with os._exit, since pyarrow can abort at exit."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
