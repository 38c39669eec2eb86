"""Run configuration: defaults in frozen dataclasses, validated once in :func:`validate_config`."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.errors import ConfigError
from pipeline.types import ClustererName, LoadOptions

CLUSTERERS: tuple[str, ...] = ("kmeans", "hdbscan")
LABELLER_NAMES: tuple[str, ...] = ("auto", "offline", "openai")
SENTIMENT_METHODS: tuple[str, ...] = ("auto", "lexicon+head", "lexicon", "head", "off")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
RATING_SCALES: tuple[str, ...] = ("auto", "mean", "nps")
MULTI_TOPIC: tuple[str, ...] = ("auto", "on", "off")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run can be told. The CLI flags and the dashboard widgets map onto these fields.

    Attributes:
        text_column: Column holding the feedback text; ``None`` auto-detects it.
        model: Embedder name from the registry (``auto`` picks one and records why).
        model_options: Extra keyword arguments for the embedder factory (``url``, ``path``...).
        device: ``auto``, ``cpu`` or ``cuda``.
        clusterer: ``kmeans`` or ``hdbscan``.
        n_topics: K-Means topic count; ``None`` chooses it automatically.
        min_topic_size: HDBSCAN's minimum topic size; ``None`` scales it with the data.
        assign_outliers: HDBSCAN only: give each outlier its nearest topic.
        seed: Random seed for every stochastic step.
        max_chars: Texts are cut to this many characters for the model (counted in the ledger).
        use_cache: Reuse embeddings cached on disk.
        umap_fit_rows: UMAP is fitted on at most this many texts; the others are placed from their
            nearest fitted neighbours. Larger keeps finer structure and takes longer (129k real
            texts: 25,000 gave AMI 0.588 in 25 s, 50,000 0.609 in 49 s, all 0.635 in 137 s).
        load: Encoding / delimiter / sheet overrides and input limits.
        centre_languages: Shift each language's mean onto the file's mean before the topics are
            found, so languages do not split topics (:mod:`pipeline.centring`).
        label_language: ISO 639-1 code every topic is named in, or ``auto``: the file's majority
            language by row count (see :func:`pipeline.labels.resolve_label_language`).
        labeller: ``auto`` (``openai`` when ``labeller_url`` is set, else ``offline``),
            ``offline`` or ``openai``.
        labeller_url: Base URL of an OpenAI-compatible chat server (key from ``$OPENAI_API_KEY``).
        labeller_model: The chat model to request.
        taxonomy: Folder of an earlier run whose topics (names, merges, themes) new rows are
            assigned to; rows that fit none become new topics (:mod:`pipeline.taxonomy`).
        rating_column: Column of ratings or NPS answers for the drivers; ``None`` detects one.
        rating_scale: ``auto``, ``mean`` or ``nps`` (:mod:`pipeline.explore.drivers`).
        multi_topic: Find the other topics each long text raises (:mod:`pipeline.multitopic`):
            ``auto`` (on up to ``multitopic.AUTO_MAX_TEXTS`` distinct texts), ``on`` or ``off``;
            measured by ``bench/multitopic.py``.
        sentiment: ``auto`` (= ``lexicon+head``), ``lexicon``, ``head`` or ``off``
            (:mod:`pipeline.sentiment`).
        collapse_near_duplicates: Count one row per group of texts that say the same thing in
            other words (:mod:`pipeline.near_duplicates`); the groups are found either way.
        engine: ``local`` (default: one process) or ``ray`` (extra ``[ray]``; :mod:`pipeline.engines`).
        ray_address: The Ray cluster to join (``host:port``, ``ray://host:port`` or ``auto``);
            ``None`` starts a local Ray.
        ray_stream_rows: With engine ``ray``, a folder or glob input of more rows than this
            streams (:mod:`pipeline.engines.ray_stream`): the driver holds only the fitted sample
            and per-topic counts, Ray workers write every row's assignment as Parquet parts.
            ``0`` streams every folder input; ``-1`` never streams.
        ray_work_dir: Where a streamed run's workers write their parts (every Ray node must
            reach it, e.g. a shared file system); ``None``: a temporary folder on this machine.
    """

    text_column: str | None = None
    model: str = "auto"
    model_options: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    clusterer: ClustererName = "kmeans"
    n_topics: int | None = None
    min_topic_size: int | None = None
    assign_outliers: bool = False
    seed: int = 42
    max_chars: int = 2000
    use_cache: bool = True
    umap_fit_rows: int = 25_000
    load: LoadOptions = field(default_factory=LoadOptions)
    centre_languages: bool = True
    label_language: str = "auto"
    labeller: str = "auto"
    labeller_url: str | None = None
    labeller_model: str | None = None
    taxonomy: str | None = None
    rating_column: str | None = None
    rating_scale: str = "auto"
    multi_topic: str = "auto"
    sentiment: str = "auto"
    collapse_near_duplicates: bool = False
    engine: str = "local"
    ray_address: str | None = None
    ray_stream_rows: int = 500_000
    ray_work_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_config(config: RunConfig) -> RunConfig:
    """Check every field and raise one :class:`ConfigError` listing all problems."""
    problems: list[str] = []
    if config.clusterer not in CLUSTERERS:
        problems.append(f"clusterer must be one of {', '.join(CLUSTERERS)} (got {config.clusterer!r})")
    if config.device not in DEVICES:
        problems.append(f"device must be one of {', '.join(DEVICES)} (got {config.device!r})")
    if config.n_topics is not None and not 2 <= config.n_topics <= 1000:
        problems.append(f"n_topics must be between 2 and 1000, or auto (got {config.n_topics})")
    if config.min_topic_size is not None and config.min_topic_size < 2:
        problems.append(f"min_topic_size must be at least 2 (got {config.min_topic_size})")
    if config.max_chars < 10:
        problems.append(f"max_chars must be at least 10 (got {config.max_chars})")
    if config.umap_fit_rows < 1000:
        problems.append(f"umap_fit_rows must be at least 1,000 (got {config.umap_fit_rows})")
    if not 0 <= config.seed < 2**32:
        problems.append(f"seed must be between 0 and 2**32 - 1 (got {config.seed})")
    if config.label_language != "auto" and not _LANGUAGE_CODE.match(config.label_language or ""):
        problems.append(
            f"label_language must be auto or a language code such as en or zh (got {config.label_language!r})"
        )
    if config.labeller not in LABELLER_NAMES:
        problems.append(f"labeller must be one of {', '.join(LABELLER_NAMES)} (got {config.labeller!r})")
    if config.labeller_url and not re.match(r"^https?://", config.labeller_url):
        problems.append("labeller_url must start with http:// or https://")
    if config.labeller == "openai" and not (config.labeller_url and config.labeller_model):
        problems.append("the openai labeller needs labeller_url and labeller_model")
    if config.rating_scale not in RATING_SCALES:
        problems.append(
            f"rating_scale must be one of {', '.join(RATING_SCALES)} (got {config.rating_scale!r})"
        )
    if config.multi_topic not in MULTI_TOPIC:
        problems.append(f"multi_topic must be one of {', '.join(MULTI_TOPIC)} (got {config.multi_topic!r})")
    if config.sentiment not in SENTIMENT_METHODS:
        problems.append(f"sentiment must be one of {', '.join(SENTIMENT_METHODS)} (got {config.sentiment!r})")
    from pipeline.engines import ENGINES

    if config.engine not in ENGINES:
        problems.append(f"engine must be one of {', '.join(ENGINES)} (got {config.engine!r})")
    if config.ray_address and config.engine != "ray":
        problems.append("ray_address needs engine ray")
    if config.ray_stream_rows < -1:
        problems.append(
            f"ray_stream_rows must be -1 (never), 0 (always) or a row count (got {config.ray_stream_rows})"
        )
    if problems:
        raise ConfigError("; ".join(problems) + ".", code="config")
    return config
