"""Search over a finished run: dense, lexical (BM25), hybrid (rank fusion) and exact-phrase.

The one public entry point is :func:`search_run`; the CLI (``feedback-topics search``) and the
dashboard's Search page both call it. Modules: :mod:`.dense` (cosine similarity, the original
``search``), :mod:`.bm25` (lexical), :mod:`.hybrid` (rank fusion), :mod:`.index` (exact scan or
a saved HNSW index for large runs), :mod:`.polarity` (the query's sense counts) and
:mod:`.engine` (corpus, filters, collapsing identical texts).
"""

from __future__ import annotations

from pipeline.search.engine import COLUMNS, MODES, SearchCorpus, SearchFilters, search_run

__all__ = ["COLUMNS", "MODES", "SearchCorpus", "SearchFilters", "search_run"]
