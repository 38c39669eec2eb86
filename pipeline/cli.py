"""``feedback-topics``: the headless twin of the dashboard.

``feedback-topics run FILE --out DIR`` runs exactly what the dashboard runs and writes
``assignments.csv``, ``topics.csv``, ``report.html``, ``run.json`` (plus ``report.xlsx`` and
``topics.json``, and the run's data so the dashboard can reopen it). ``feedback-topics models``
lists the embedding models; ``feedback-topics search RUN_DIR QUERY`` searches a saved run and
``feedback-topics similar PAIRS --out SCORES.csv`` scores text pairs. Problems an analyst can fix exit with status 2 and one line that says
what to do; nothing prints a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline.config import CLUSTERERS, DEVICES, SENTIMENT_METHODS, RunConfig
from pipeline.errors import ConfigError, FeedbackTopicsError
from pipeline.types import LoadOptions

logger = logging.getLogger("feedback_topics")

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
STAGE_LABELS = {
    "load": "Reading file",
    "languages": "Detecting languages",
    "embed": "Embedding",
    "reduce": "Building the map",
    "cluster": "Finding topics",
    "keywords": "Naming topics",
    "multi_topic": "Several topics per row",
    "assign": "Assigning every row (Ray)",
    "report": "Writing report",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line plus a hint, exit status 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"error: {message}\nRun '{self.prog} --help' for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="feedback-topics", description="Find the topics in customer feedback.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="analyse a file and write the topic report")
    run.add_argument(
        "file",
        type=Path,
        help="CSV, TSV, XLSX, JSONL or Parquet file; a folder or quoted glob of Parquet/CSV/JSONL "
        "files; or the folder of a saved run: its data is analysed again with these settings "
        "(recorded as rerun_of in run.json)",
    )
    run.add_argument("--out", type=Path, default=Path("report"), help="output folder (default: report/)")
    run.add_argument("--text-column", help="column with the feedback text (default: auto-detect)")
    run.add_argument(
        "--model", default="auto", help="embedding model (see 'feedback-topics models'; default auto)"
    )
    run.add_argument("--model-path", help="local folder or hub id of the model (qwen3)")
    run.add_argument("--server-url", help="OpenAI-compatible server base URL (model 'openai')")
    run.add_argument("--server-model", help="model name to request from the server")
    run.add_argument("--device", choices=DEVICES, default="auto")
    run.add_argument("--clusterer", choices=CLUSTERERS, default="kmeans")
    run.add_argument("--topics", default="auto", help="number of topics for kmeans, or 'auto' (default)")
    run.add_argument(
        "--min-topic-size", type=int, help="smallest topic for hdbscan (default: scales with data)"
    )
    run.add_argument(
        "--assign-outliers", action="store_true", help="hdbscan: put outliers in their nearest topic"
    )
    run.add_argument("--seed", type=int, default=42)
    run.add_argument(
        "--umap-fit-rows",
        type=int,
        default=RunConfig().umap_fit_rows,
        help="fit UMAP on at most this many texts and place the rest (default 25,000; larger is "
        "slower and keeps finer structure)",
    )
    run.add_argument("--encoding", help="override the detected text encoding (e.g. gb18030, cp1252)")
    run.add_argument("--delimiter", help="override the detected CSV delimiter (',', ';', 'tab', '|')")
    run.add_argument("--sheet", help="XLSX sheet name or 0-based number (default: the first sheet)")
    run.add_argument("--header-row", type=int, help="0-based line of the header (default: detected)")
    run.add_argument(
        "--max-rows", type=int, help=f"refuse files with more data rows (default {LoadOptions().max_rows:,})"
    )
    run.add_argument(
        "--server-timeout",
        type=float,
        help="seconds to wait for the embedding server's answer to one batch (default 120; a server "
        "that stops answering fails after two waits)",
    )
    run.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    run.add_argument(
        "--xlsx",
        choices=("auto", "always", "never"),
        default="auto",
        help="write report.xlsx: auto = up to 250,000 rows (default), always, or never",
    )
    run.add_argument(
        "--no-language-centring",
        action="store_true",
        help="find topics in the model's own space (default: each language's offset is removed first)",
    )
    run.add_argument(
        "--label-language",
        default="auto",
        help="language of topic names and keywords (ISO code such as en, zh, de), or 'auto' (default): "
        "the file's majority language by rows",
    )
    run.add_argument(
        "--labeller",
        choices=("auto", "offline", "openai"),
        default="auto",
        help="offline (default; openai when --labeller-url is given) or openai: an optional "
        "OpenAI-compatible chat server names topics, offline labels as fallback",
    )
    run.add_argument("--labeller-url", help="base URL of the chat server (key from $OPENAI_API_KEY)")
    run.add_argument("--labeller-model", help="chat model name to request from the labeller server")
    run.add_argument(
        "--taxonomy",
        type=Path,
        help="folder of an earlier run: keep its topics (names, merges, themes) and assign the new "
        "rows to them; rows that fit none become new topics",
    )
    run.add_argument(
        "--rating-column",
        help="column with ratings or a 0-10 NPS answer, for the rating drivers (default: detected)",
    )
    run.add_argument(
        "--rating-scale",
        choices=("auto", "mean", "nps"),
        default="auto",
        help="score the rating column as its mean, or as NPS (promoters - detractors); auto: by name",
    )
    run.add_argument(
        "--multi-topic",
        choices=("auto", "on", "off"),
        default="auto",
        help="split long texts into sentences/clauses and count each row in every topic it raises "
        "(other_topic_ids); auto (default): on up to 100,000 distinct texts",
    )
    run.add_argument(
        "--edits", type=Path, help="an edit log (edits.json) to apply to this run's topics and outputs"
    )
    run.add_argument(
        "--sentiment",
        choices=SENTIMENT_METHODS,
        default="auto",
        help="per-row sentiment: auto (lexicon + a head over the run's embeddings), lexicon, head, or off",
    )
    run.add_argument(
        "--collapse-near-duplicates",
        action="store_true",
        help="count one row per group of texts that say the same thing in other words "
        "(default: every row counts; the groups are listed either way)",
    )
    run.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default: this process) or ray (Ray Data; extra [ray])",
    )
    run.add_argument(
        "--ray-address", help="Ray cluster to join (host:port or ray://host:port; default: local Ray)"
    )
    run.add_argument(
        "--ray-stream-rows",
        type=int,
        default=500_000,
        metavar="N",
        help="with --engine ray, a folder or glob of more than N rows streams: the driver keeps only the "
        "fitted sample, Ray workers write every row (default 500000; 0 always, -1 never)",
    )
    run.add_argument(
        "--ray-work-dir",
        help="where a streamed Ray run's workers write their parts; every node must reach it "
        "(default: a temporary folder on this machine)",
    )
    run.add_argument(
        "--adapter", type=Path, help="embed with this LoRA adapter (a folder from 'feedback-topics tune')"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    sub.add_parser("models", help="list the embedding models")

    dash = sub.add_parser(
        "dashboard",
        help="start the dashboard with its settings (local address only), from any folder",
    )
    dash.add_argument("--port", type=int, default=8501)
    dash.add_argument(
        "--address",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1: this computer only)",
    )
    from pipeline.compare_cli import add_parser as add_compare
    from pipeline.edit_cli import add_parser as add_edit

    add_compare(sub)
    from pipeline.drivers_cli import add_parser as add_drivers

    add_drivers(sub)
    add_edit(sub)
    _add_search_parser(sub)
    _add_similar_parser(sub)
    from pipeline.tune_cli import add_parser as add_tune

    add_tune(sub)
    return parser


def _add_similar_parser(sub: Any) -> None:
    similar = sub.add_parser("similar", help="score text pairs: same meaning or not")
    similar.add_argument(
        "pairs", type=Path, help="CSV/XLSX/... with columns text, text_pair (optional label, split)"
    )
    similar.add_argument("--out", type=Path, required=True, help="where to write the scores (CSV)")
    similar.add_argument(
        "--model", default="use-multilingual", help="embedding model (default use-multilingual)"
    )
    similar.add_argument("--model-path", help="local folder or hub id of the model (qwen3)")
    similar.add_argument("--device", choices=DEVICES, default="auto")
    similar.add_argument("--threshold", type=float, help="score at which a pair counts as the same")
    similar.add_argument(
        "--adapter",
        type=Path,
        help="score with this LoRA adapter (from 'feedback-topics tune'); its calibrated threshold decides 'same'",
    )
    similar.add_argument(
        "--calibration",
        type=Path,
        help="calibration JSON: read when the file has no labels; written when it has "
        "(default: calibration.json next to --out)",
    )


def _add_search_parser(sub: Any) -> None:
    search = sub.add_parser("search", help="search a saved run (the folder 'run --out' wrote)")
    search.add_argument("run_dir", type=Path, help="a run folder written by 'feedback-topics run --out'")
    search.add_argument("query", nargs="*", help="one or more queries (any language)")
    search.add_argument("--queries", type=Path, help="a UTF-8 text file with one query per line")
    search.add_argument("--top", type=int, default=10, help="hits per query (default 10)")
    search.add_argument("--format", choices=("table", "jsonl", "csv"), default="table")
    search.add_argument(
        "--mode",
        choices=("hybrid", "dense", "lexical", "exact"),
        default="hybrid",
        help="hybrid = meaning + words (default), dense = meaning, lexical = words (BM25), "
        "exact = texts containing the query as a phrase",
    )
    search.add_argument(
        "--topic", type=int, action="append", default=[], help="only this topic id (repeatable)"
    )
    search.add_argument(
        "--theme", type=int, action="append", default=[], help="only this theme id (repeatable)"
    )
    search.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="only rows whose input column has this value (repeatable; values of one column are OR-ed)",
    )
    search.add_argument(
        "--no-polarity", action="store_true", help="do not re-rank by the query's sense (praise/complaint)"
    )
    search.add_argument("--no-collapse", action="store_true", help="list identical texts separately")
    search.add_argument("--device", choices=DEVICES, default="auto")
    search.add_argument(
        "--adapter",
        type=Path,
        help="the LoRA adapter the run was embedded with, when its folder has moved (the run's own by default)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "models":
            return _models()
        if args.command == "dashboard":
            return _dashboard(args)
        if args.command == "compare":
            from pipeline.compare_cli import main as compare_main

            return compare_main(args)
        if args.command in ("drivers", "segments"):
            from pipeline.drivers_cli import main as drivers_main

            return drivers_main(args)
        if args.command == "edit":
            from pipeline.edit_cli import main as edit_main

            return edit_main(args)
        if args.command == "search":
            return _search(args)
        if args.command == "similar":
            return _similar(args)
        if args.command == "tune":
            from pipeline.tune_cli import main as tune_main

            return tune_main(args)
        return _run(args)
    except FeedbackTopicsError as exc:
        logger.debug("user error", exc_info=True)
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug; rerun with --debug and report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def _models() -> int:
    from pipeline.embedders.registry import available_embedders, resolve_auto

    choice, reason = resolve_auto(languages=None, device="auto")
    print(f"{'auto':20} the default: picks the model for this machine; here {choice} ({reason})")
    print(f"{'':20} languages: those of the model it picks")
    for spec in available_embedders():
        where = "offline" if spec.offline else "needs a download or a server"
        print(f"{spec.name:20} {spec.description}")
        print(f"{'':20} languages: {spec.languages}; {where}")
    return 0


def dashboard_command(*, port: int = 8501, address: str = "127.0.0.1") -> tuple[list[str], Path | None]:
    """The ``streamlit run`` command line (and folder to run it in) for the dashboard.

    Streamlit reads ``.streamlit/config.toml`` only from the folder it is started in, so the command
    runs in the repository root when that file is there, and passes the settings that matter for
    safety (address, upload limit, no error details, no telemetry) as flags in any case.
    """
    import importlib.util

    spec = importlib.util.find_spec("dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("The dashboard package is not installed.", code="dashboard")
    app = Path(next(iter(spec.submodule_search_locations))) / "app.py"
    root = app.parent.parent
    megabytes = LoadOptions().max_bytes // (1024 * 1024)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        f"--server.address={address}",
        f"--server.port={port}",
        f"--server.maxUploadSize={megabytes}",
        "--server.headless=true",
        "--client.showErrorDetails=none",
        "--browser.gatherUsageStats=false",
    ]
    return command, root if (root / ".streamlit" / "config.toml").is_file() else None


def _dashboard(args: argparse.Namespace) -> int:
    import subprocess

    command, cwd = dashboard_command(port=args.port, address=args.address)
    print(f"Dashboard on http://{args.address}:{args.port} (Ctrl+C stops it)", file=sys.stderr)
    return subprocess.call(command, cwd=cwd)


def _config(args: argparse.Namespace) -> RunConfig:
    from pipeline.errors import ConfigError

    if args.topics == "auto":
        n_topics = None
    else:
        try:
            n_topics = int(args.topics)
        except ValueError:
            raise ConfigError(f"--topics must be a number or 'auto' (got {args.topics!r}).") from None
    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    options: dict[str, Any] = {}
    if args.model_path:
        options["model"] = args.model_path
    if args.server_url:
        options["url"] = args.server_url
    if args.server_model:
        options["model"] = args.server_model
    if args.server_timeout is not None:
        if args.server_timeout <= 0:
            raise ConfigError(f"--server-timeout must be positive (got {args.server_timeout}).")
        options["timeout"] = args.server_timeout
    model = args.model
    if args.adapter is not None:
        from pipeline.tune_cli import adapter_options

        model, options = adapter_options(args.adapter, model=model, options=options)
    return RunConfig(
        text_column=args.text_column,
        model=model,
        model_options=options,
        device=args.device,
        clusterer=args.clusterer,
        n_topics=n_topics,
        min_topic_size=args.min_topic_size,
        assign_outliers=args.assign_outliers,
        seed=args.seed,
        umap_fit_rows=args.umap_fit_rows,
        use_cache=not args.no_cache,
        centre_languages=not args.no_language_centring,
        label_language=str(args.label_language).strip().lower(),
        labeller=args.labeller,
        labeller_url=args.labeller_url,
        labeller_model=args.labeller_model,
        taxonomy=str(args.taxonomy) if args.taxonomy else None,
        rating_column=args.rating_column,
        rating_scale=args.rating_scale,
        multi_topic=args.multi_topic,
        sentiment=args.sentiment,
        collapse_near_duplicates=bool(getattr(args, "collapse_near_duplicates", False)),
        engine=args.engine,
        ray_address=args.ray_address,
        ray_stream_rows=args.ray_stream_rows,
        ray_work_dir=args.ray_work_dir,
        load=LoadOptions(
            encoding=args.encoding,
            delimiter=args.delimiter,
            sheet=sheet,
            header_row=args.header_row,
            max_rows=args.max_rows or LoadOptions().max_rows,
        ),
    )


def _refuse_edits_on_streamed(config: RunConfig) -> None:
    from pipeline.errors import ConfigError

    raise ConfigError(
        "--edits replays on runs the driver holds; this Ray run streams (more than "
        f"--ray-stream-rows {config.ray_stream_rows:,} rows). Raise --ray-stream-rows, or leave --edits out.",
        code="ray_stream",
    )


def _run(args: argparse.Namespace) -> int:
    from pipeline.errors import LoadError

    config = _config(args)
    path: Path = args.file
    from pipeline.load.stream import InputFiles, input_files, is_multi_input
    from pipeline.rerun import is_run_folder

    rerun_dir = path.is_dir() and is_run_folder(path)
    if rerun_dir:
        from pipeline.rerun import check_rerun_args

        check_rerun_args(path, out=args.out, load=config.load)
    elif not path.is_file() and not is_multi_input(path):
        raise LoadError(f"No such file: {path}. Check the path and try again.", code="not_found")
    inputs: InputFiles | None = None
    if not rerun_dir and not path.is_file():
        try:  # a folder or glob: find its files now, so a wrong path fails before the model loads
            inputs = input_files(path)
        except LoadError as exc:
            if not path.is_dir():
                raise
            raise LoadError(
                f"{path} is not the folder of a saved run (no run.json and data/), and it holds no "
                "input files (.parquet, .csv, .tsv, .jsonl, .ndjson). Check the path.",
                code="not_found",
            ) from exc
    from pipeline.outdir import check_out, staged_output

    check_out(args.out)  # before the run: a bad --out fails in a second, not after the model ran
    if args.edits and config.engine == "ray" and inputs is not None:
        from pipeline.engines.ray_stream import wants_stream

        if wants_stream(inputs, config):  # refused now, not after the run
            _refuse_edits_on_streamed(config)
    progress = _TqdmProgress(enabled=not args.quiet)
    try:
        from pipeline.report import XLSX_MAX_ROWS, write_report
        from pipeline.run import run
        from pipeline.store import save_run

        if rerun_dir:  # a saved run: its data again, with these settings (pipeline/rerun.py)
            from pipeline.rerun import rerun

            result = rerun(path, config=config, progress=progress)
        else:
            data: bytes | InputFiles = inputs if inputs is not None else path.read_bytes()
            result = run(data, filename=path.name, config=config, progress=progress)
        progress("report", 0, 1)
        xlsx_limit = {"auto": XLSX_MAX_ROWS, "always": None, "never": -1}[args.xlsx]
        edited, log = result, list[dict[str, Any]]()
        if args.edits and result.row_parts is not None:
            _refuse_edits_on_streamed(config)
        if args.edits:
            from pipeline.edit_cli import replay_file

            edited, log = replay_file(result, args.edits, device=args.device)
        # written to a fresh folder and swapped in: --out never mixes two runs (pipeline/outdir.py)
        with staged_output(args.out) as target:
            save_run(result, target, edits=log)
            written = [args.out / p.name for p in write_report(edited, target, xlsx_max_rows=xlsx_limit)]
            if result.manifest.get("engine") == "ray":
                from pipeline.engines.parts import write_parts

                written += [args.out / p.relative_to(target) for p in write_parts(edited, target)]
        if result.row_parts is not None:
            from pipeline.engines.ray_stream import release

            release(result)  # the work folder's parts are in --out now
        result = edited
        progress("report", 1, 1)
    finally:
        progress.close()
    ledger = result.ledger
    excluded = ", ".join(f"{n} {reason}" for reason, n in sorted(ledger.excluded.items())) or "none"
    print(
        f"{ledger.rows_read} rows read, {ledger.rows_clustered} clustered (excluded: {excluded}); "
        f"{result.clustering.n_topics} topics; model {result.manifest['model']} on {result.manifest['device']}."
    )
    manifest = result.manifest
    if manifest.get("label_language"):
        print(f"Topic names in {manifest['label_language']} ({manifest.get('label_method', '')}).")
    warning = (manifest.get("language_coverage") or {}).get("warning")
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    shown = result.topics[:12]
    for topic in shown:
        label = f"topic {topic.id}" if topic.id >= 0 else ("outliers" if topic.id == -1 else "set aside")
        print(f"  {label:>9}  {topic.size:6d} rows  {topic.name}")
    if len(result.topics) > len(shown):
        rest = len(result.topics) - len(shown)
        print(f"  … {rest} more (all {len(result.topics)} in topics.csv and report.html)")
    if "rerun_of" in result.manifest:
        from pipeline.rerun import describe_lineage

        print(describe_lineage(result.manifest))
    if "taxonomy" in result.manifest:
        from pipeline.compare_cli import print_taxonomy_summary

        print_taxonomy_summary(result)
    print(f"Report written to {args.out}/: " + ", ".join(p.name for p in written))
    if result.row_parts is not None:
        print(
            "report.xlsx is not written for a streamed Ray run: every row is in assignments.csv and assignments/."
        )
    elif args.xlsx == "auto" and not any(p.name == "report.xlsx" for p in written):
        print(
            f"report.xlsx skipped for {ledger.rows_read:,} rows (over {XLSX_MAX_ROWS:,}); use --xlsx always to write it."
        )
    return 0


def _search(args: argparse.Namespace) -> int:
    import json

    from pipeline.errors import ConfigError
    from pipeline.search import SearchFilters, search_run
    from pipeline.search.engine import open_search_run, run_model

    queries = [str(q) for q in args.query]
    if args.queries is not None:
        try:
            lines = args.queries.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Cannot read the queries file {args.queries}: {exc}.", code="queries_file"
            ) from None
        queries += [line.strip() for line in lines if line.strip()]
    if not queries:
        raise ConfigError("Give a query (or --queries FILE with one query per line).", code="empty_query")
    columns: dict[str, list[str]] = {}
    for item in args.where:
        column, sep, value = str(item).partition("=")
        if not sep or not column.strip():
            raise ConfigError(f"--where takes COLUMN=VALUE (got {item!r}).", code="bad_filter")
        columns.setdefault(column.strip(), []).append(value.strip())
    filters = SearchFilters(
        topics=tuple(args.topic),
        themes=tuple(args.theme),
        columns={column: tuple(values) for column, values in columns.items()},
    )
    result = open_search_run(args.run_dir)
    name, options = run_model(result)
    if args.adapter is not None:
        from pipeline.tune_cli import search_adapter_options

        name, options = search_adapter_options(args.adapter, result.manifest)
    from pipeline.embedders.registry import create_embedder

    embedder = create_embedder(name, device=args.device, **options)
    hits = search_run(
        result,
        queries,
        embedder=embedder,
        top=args.top,
        mode=args.mode,
        filters=filters,
        polarity=not args.no_polarity,
        collapse_same=not args.no_collapse,
        run_dir=args.run_dir,
    )
    out = ["query", "rank", "row", "text", "score", "similarity", "count", "topic_id", "topic_name"]
    out += ["theme_id", "theme_name", "polarity", "near_duplicates"]
    if args.format == "jsonl":
        for record in hits[out].to_dict(orient="records"):
            print(json.dumps(record, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(hits[out].to_csv(index=False))
    else:
        for query in dict.fromkeys(queries):
            block = hits[hits["query"] == query.strip()]
            print(f"{query}  ({len(block)} hits, {args.mode})")
            for hit in block.itertuples():
                text = " ".join(str(hit.text).split())
                text = text if len(text) <= 100 else text[:99] + "…"
                count = f" x{hit.count}" if hit.count > 1 else ""
                if hit.near_duplicates > hit.count:
                    count += f" ({hit.near_duplicates} texts say this)"
                print(
                    f"  {hit.rank:3d}. {hit.score:6.3f}  row {hit.row:<6d} [{hit.topic_name}]{count}  {text}"
                )
    return 0


def _similar(args: argparse.Namespace) -> int:
    from pipeline.embedders.registry import create_embedder
    from pipeline.errors import ConfigError, LoadError
    from pipeline.export import to_csv_bytes
    from pipeline.load import load_table
    from pipeline.similar import CALIBRATION_FILE, load_calibration, pair_columns, save_calibration, similar

    path: Path = args.pairs
    if not path.is_file():
        raise LoadError(f"No such file: {path}. Check the path and try again.", code="not_found")
    if args.model == "auto":
        raise ConfigError("Name the model for 'similar' (e.g. --model use-multilingual).", code="model")
    frame = load_table(path.read_bytes(), filename=path.name).frame
    pair_columns(frame)  # a wrong file fails before the model loads
    calibration_path: Path = args.calibration or args.out.parent / CALIBRATION_FILE
    given = load_calibration(args.calibration) if args.calibration and args.calibration.is_file() else None
    options: dict[str, Any] = {"model": args.model_path} if args.model_path else {}
    model = args.model
    if args.adapter is not None:
        from pipeline.tune_cli import adapter_calibration, adapter_options

        model, options = adapter_options(args.adapter, model="auto", options=options)
        given = given or adapter_calibration(args.adapter)
    embedder = create_embedder(model, device=args.device, **options)
    if args.adapter is not None:
        model = given.model if given is not None else model
    result = similar(
        frame,
        embedder=embedder,
        model=model,
        threshold=args.threshold,
        calibration=given,
        source=path.name,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(to_csv_bytes(result.frame))
    n_same = int(result.frame["same"].fillna(0).sum())
    print(
        f"{len(result.frame)} pairs scored, {n_same} the same at threshold {result.threshold:.4f} "
        f"({result.threshold_source}); written to {args.out}"
    )
    if result.n_empty:
        print(f"  {result.n_empty} pairs with an empty text have no score.")
    if result.calibration is not None:
        save_calibration(result.calibration, calibration_path)
        print(f"  calibration (macro-F1 {result.calibration.train_macro_f1:.3f}) saved to {calibration_path}")
    if result.evaluation is not None:
        e = result.evaluation
        print(
            f"  held-out pairs: {e.n}, accuracy {e.accuracy:.3f}, macro-F1 {e.macro_f1:.3f}, "
            f"paraphrase F1 {e.paraphrase_f1:.3f}"
        )
    return 0


def _run_stage_bar(stage: str) -> tuple[str, str, bool]:
    """``(label, unit, leave)`` of a run stage's progress bar."""
    return (
        STAGE_LABELS.get(stage, stage),
        "texts" if stage in ("embed", "multi_topic", "assign") else "steps",
        True,
    )


class _TqdmProgress:
    """One tqdm bar per stage on stderr; ``describe(stage)`` gives its ``(label, unit, leave)``."""

    def __init__(
        self, *, enabled: bool, describe: Callable[[str], tuple[str, str, bool]] = _run_stage_bar
    ) -> None:
        self.enabled = enabled
        self.describe = describe
        self._bar: Any = None
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._stage = stage
            desc, unit, leave = self.describe(stage)
            # initial=done: texts already in the cache count as done but not in the speed, which would
            # otherwise read millions of texts/s on a cache hit
            self._bar = tqdm(total=total, initial=done, desc=desc, unit=unit, file=sys.stderr, leave=leave)
        if self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


if __name__ == "__main__":
    raise SystemExit(main())
