"""Stage ``sentiment``: per-text sentiment from the run's embeddings and word lists.

:func:`score_sentiment` (in :mod:`pipeline.sentiment.registry`) is the stage's one function;
:mod:`pipeline.sentiment.summary` turns its output into per-row columns, topic and theme shares, and
the agreement with a rating column.
"""
