"""Run page: choose the model, clusterer and seed; watch per-stage progress; cancel.

The data is the loaded file, or the open run's saved data ("re-run this data with new
settings", :mod:`pipeline.rerun`), so a reopened run can be run again without an upload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import jobs, services, state, ui
from dashboard.i18n import t
from pipeline.config import RunConfig

REFRESH_S = 1.0  # how often the progress fragment (and only it) reruns while a run waits or runs


def _settings(
    docs,
    *,
    languages: Callable[[], dict[str, int] | None],
    text_column: str | None,
    load: Any,
    start: Callable[[RunConfig], jobs.Job],
    start_label: str,
) -> None:
    """The run form; ``start(config)`` queues the run and its job id is stored in the session."""
    try:
        choices = services.embedder_choices()
    except Exception as exc:
        ui.show_error(exc)
        choices = {"auto": ""}
    with st.container(border=True):
        st.subheader(t("run.model"))
        model = st.selectbox(
            t("run.model_label"),
            list(choices),
            key="w_model",
            format_func=lambda name: t("run.auto_label") if name == "auto" else name,
        )
        if model == "auto":
            try:
                name, reason = services.explain_auto(languages())
                st.info(
                    t("run.auto_explained", name=name, reason=ui.md_escape(reason, limit=240)),
                    icon=":material/smart_toy:",
                )
            except Exception as exc:
                ui.show_error(exc)
        elif choices.get(model):
            st.caption(ui.md_escape(choices[model], limit=240))
        model_options: dict[str, str] = {}
        if model == "openai":
            c1, c2 = st.columns(2)
            url = c1.text_input(
                t("run.server_url"), key="w_server_url", placeholder="http://127.0.0.1:30000/v1"
            )
            served = c2.text_input(t("run.server_model"), key="w_server_model")
            model_options = {k: v for k, v in {"url": url.strip(), "model": served.strip()}.items() if v}
        elif model == "qwen3":
            path = st.text_input(t("run.model_path"), key="w_model_path", help=t("run.model_path_help"))
            model_options = {"path": path.strip()} if path.strip() else {}

    with st.container(border=True):
        st.subheader(t("run.clustering"))
        clusterer = st.segmented_control(
            t("run.clusterer"),
            ["kmeans", "hdbscan"],
            default="kmeans",
            required=True,
            key="w_clusterer",
            format_func=lambda c: t(f"run.clusterer.{c}"),
        )
        st.caption(t(f"run.clusterer.{clusterer}.help"))
        col1, col2 = st.columns(2)
        n_topics = min_size = None
        assign = False
        if clusterer == "kmeans":
            auto_k = col1.toggle(t("run.auto_topics"), value=True, key="w_auto_k")
            if not auto_k:
                n_topics = int(col1.number_input(t("run.n_topics"), 2, 200, 12, key="w_k"))
        else:
            auto_size = col1.toggle(t("run.auto_min_size"), value=True, key="w_auto_min")
            if not auto_size:
                min_size = int(col1.number_input(t("run.min_size"), 2, 10_000, 10, key="w_min"))
            assign = col1.checkbox(t("run.assign_outliers"), key="w_assign")
        seed = int(col2.number_input(t("run.seed"), 0, 2**32 - 1, 42, key="w_seed", help=t("run.seed_help")))
        multi_topic = col1.checkbox(
            t("run.multi_topic"),
            value=RunConfig().multi_topic != "off",
            key="w_multi_topic",
            help=t("run.multi_topic_help"),
        )
        fit_rows = RunConfig().umap_fit_rows
        if docs is not None and len(docs.unique_rows) > fit_rows:
            # Only large files are fitted on a sample; offer the quality/speed trade-off there.
            fit_rows = int(
                col2.number_input(
                    t("run.umap_fit_rows"),
                    1000,
                    1_000_000,
                    fit_rows,
                    step=5000,
                    key="w_umap_fit_rows",
                    help=t("run.umap_fit_rows_help"),
                )
            )

    taxonomy = _taxonomy_choice()

    if st.button(start_label, type="primary", icon=":material/play_arrow:", key="w_start"):
        from pipeline.config import validate_config

        try:
            config = validate_config(
                RunConfig(
                    text_column=text_column,
                    model=model,
                    model_options=model_options,
                    clusterer=clusterer,
                    n_topics=n_topics,
                    min_topic_size=min_size,
                    assign_outliers=assign,
                    seed=seed,
                    umap_fit_rows=fit_rows,
                    label_language=state.label_lang(),
                    taxonomy=taxonomy,
                    multi_topic="auto" if multi_topic else "off",
                    load=load,
                )
            )
        except Exception as exc:
            ui.show_error(exc)
            return
        job = start(config)
        state.set_job_id(job.id)
        st.rerun()


def _taxonomy_choice() -> str | None:
    """ "Use the topics of run X": the folder of a saved run, or ``None`` for fresh topics."""
    try:
        runs = services.saved_runs()
    except Exception as exc:
        ui.show_error(exc)
        return None
    if runs.empty:
        return None
    with st.container(border=True):
        st.subheader(t("run.taxonomy"))
        labels = {
            str(r.run_id): t("run.taxonomy_run", file=r.file, created=r.created, topics=r.topics)
            for r in runs.itertuples()
        }
        chosen = st.selectbox(
            t("run.taxonomy_label"),
            ["", *labels],
            key="w_taxonomy",
            format_func=lambda run_id: labels.get(run_id, t("run.taxonomy_none")),
            help=t("run.taxonomy_help"),
        )
    return str(services.workspace() / chosen) if chosen else None


def _stage_label(stage: str, done: int, total: int) -> str:
    name = t(f"stage.{stage}")
    if total > 1:
        return t("run.stage_count", stage=name, done=ui.fmt_int(done), total=ui.fmt_int(total))
    return name


def _show_progress(view: jobs.JobView) -> None:
    """One bar per stage reached, in the order the pipeline runs them; earlier ones are full."""
    for stage in jobs.STAGES:
        if stage not in view.stages:
            continue
        done, total = view.stages[stage]
        fraction = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
        if stage != view.current or view.status == "done":
            fraction = 1.0
        st.progress(fraction, text=_stage_label(stage, done, total))


def _on_cancel(job_id: str) -> None:
    jobs.cancel(job_id)


@st.fragment(run_every=REFRESH_S)
def _progress_fragment() -> None:
    """Only this fragment reruns while a run waits or runs; it reads a snapshot and returns."""
    job = jobs.get(state.job_id())
    if job is None:
        return
    view = job.snapshot()
    if view.status in ("queued", "running"):
        with st.container(border=True):
            st.subheader(t("run.running", file=ui.md_escape(view.filename, limit=50)))
            if view.status == "queued":
                st.info(
                    t("run.queued", position=view.position, total=view.queued_total),
                    icon=":material/schedule:",
                )
            else:
                st.caption(t("run.elapsed", s=f"{view.elapsed:.0f}"))
                _show_progress(view)
            if view.cancel_requested:
                st.caption(t("run.cancelling"))
            else:
                st.button(
                    t("run.cancel"),
                    icon=":material/stop_circle:",
                    key="w_cancel",
                    on_click=_on_cancel,
                    args=(view.id,),
                )
        return
    # finished: record the outcome here, then one full rerun shows it (and the open run)
    _finish(job)
    st.rerun()


def _finish(job: jobs.Job) -> None:
    """Turn a finished job into the open run (or a message) exactly once."""
    state.set_job_id(None)
    if job.status == "done":
        try:
            state.set_open_run(services.open_saved(job.run_dir))
        except Exception as exc:  # shown after the rerun, as a notice (never a traceback)
            ui.logger.warning("could not open the finished run %s", job.run_dir, exc_info=True)
            state.set_notice("error", getattr(exc, "user_message", "") or t("common.unexpected"))
            return
        state.set_notice("success", t("run.done", s=f"{job.elapsed:.1f}"))
    elif job.status == "cancelled":
        state.set_notice("info", t("run.cancelled"))
    else:
        state.set_notice(
            "error",
            ui.md_escape(job.error, limit=2000)
            if job.error not in ("", "memory")
            else t(f"run.failed.{job.error or 'other'}"),
        )
    ui.sync_url()


def render() -> None:
    job = jobs.get(state.job_id())
    if job is not None and not job.active:
        _finish(job)  # before the header, which shows the outcome; no second rerun needed
        job = None
    ui.header("run")
    if job is not None:
        _progress_fragment()
        return

    current = state.open_run()
    if current is not None:
        summary = current.result.manifest
        with st.container(border=True):
            st.markdown(f"**{t('run.open_run')}** · {ui.md_escape(current.run_id, limit=80)}")
            cols = st.columns([2, 1, 1, 1])
            cols[0].metric(
                t("run.model_used"),
                str(summary.get("model_name") or summary.get("model") or "—"),
                help=str(summary.get("model_reason") or "") or None,
            )
            cols[1].metric(t("run.device"), str(summary.get("device") or "—"))
            cols[2].metric(t("topics.m_topics"), sum(1 for tp in current.result.topics if tp.id >= 0))
            timings = summary.get("timings_s") or {}
            total = sum(float(v) for v in timings.values()) if timings else None
            cols[3].metric(t("run.duration"), f"{total:.1f} s" if total else "—")
            warning = (summary.get("language_coverage") or {}).get("warning")
            if warning:
                st.warning(t("common.coverage_warning", warning=warning), icon=":material/translate:")
            lineage = summary.get("rerun_of")
            if lineage:
                changed = ", ".join(
                    f"{k} {before} → {after}" for k, (before, after) in (lineage.get("changed") or {}).items()
                )
                st.caption(
                    t(
                        "run.rerun_of",
                        run=ui.md_escape(str(lineage.get("run_id", "")), limit=80),
                        changed=ui.md_escape(changed, limit=300) or t("run.rerun_same"),
                    )
                )
            st.page_link("views/topics.py", label=t("run.see_topics"), icon=":material/arrow_forward:")

    upload = state.upload()
    if current is not None and (upload is None or _source_is_run(upload, current)):
        _rerun_form(current)
        return
    if upload is None:
        st.info(t("run.no_data"), icon=":material/info:")
        st.page_link("views/data.py", label=t("common.go_data"), icon=":material/upload_file:")
        return
    _upload_form(upload)


def _source_is_run(upload, current) -> bool:
    """With both a loaded file and an open run, the analyst picks which data to analyse."""
    choice = st.radio(
        t("run.source"),
        ["upload", "rerun"],
        key="w_source",
        format_func=lambda v: (
            t("run.source.upload", file=ui.md_escape(upload.filename, limit=60))
            if v == "upload"
            else t("run.source.rerun", run=ui.md_escape(current.run_id, limit=80))
        ),
    )
    return choice == "rerun"


def _rerun_form(current) -> None:
    """The settings form over the open run's saved data (no upload needed)."""
    from pipeline.types import LoadOptions

    if not services.can_rerun(current):
        st.info(t("run.rerun_unavailable"), icon=":material/info:")
        st.page_link("views/data.py", label=t("common.go_data"), icon=":material/upload_file:")
        return
    base = current.base
    st.subheader(t("run.rerun_title"))
    st.markdown(
        t(
            "run.rerun_intro",
            rows=ui.fmt_int(base.load_report.rows_read),
            file=ui.md_escape(base.load_report.filename, limit=60),
        )
    )
    before = base.manifest.get("config") or {}
    settings = {
        "model": base.manifest.get("model_name") or before.get("model"),
        "clusterer": before.get("clusterer"),
        "n_topics": before.get("n_topics") or "auto",
        "seed": before.get("seed"),
        "label_language": before.get("label_language"),
    }
    st.caption(
        t(
            "run.rerun_before",
            settings=ui.md_escape(" · ".join(f"{k} {v}" for k, v in settings.items() if v is not None)),
        )
    )
    columns = [str(c) for c in base.table.columns]
    own = base.documents.text_column
    column = st.selectbox(
        t("run.rerun_column"),
        columns,
        index=columns.index(own) if own in columns else 0,
        key="w_rerun_column",
    )
    languages = {k: int(v) for k, v in (base.manifest.get("languages") or {}).items()}
    _settings(
        base.documents,
        languages=lambda: languages or None,
        text_column=column,
        load=LoadOptions(),
        start=lambda config: services.start_rerun(current, config),
        start_label=t("run.rerun_start"),
    )


def _upload_form(upload) -> None:
    """The settings form over the loaded file."""
    from pipeline.types import LoadOptions

    docs = None
    try:
        table = services.load(upload, state.read_options())
        column = state.text_column() or services.detect_text_column(table)[0]
        state.set_text_column(column)
        docs = services.documents(upload, state.read_options(), table, column)
        st.caption(
            t(
                "run.data_line",
                file=ui.md_escape(upload.filename, limit=50),
                rows=ui.fmt_int(table.report.rows_read),
                column=ui.md_escape(column, limit=40),
            )
        )
    except Exception as exc:
        ui.show_error(exc)
        st.page_link("views/data.py", label=t("common.go_data"), icon=":material/upload_file:")
        return
    options = state.read_options()
    _settings(
        docs,
        languages=lambda: services.sample_languages(upload, docs) if docs is not None else None,
        text_column=state.text_column(),
        load=LoadOptions(encoding=options.encoding, delimiter=options.delimiter),
        start=lambda config: services.start_run(upload, config),
        start_label=t("run.start"),
    )


render()
