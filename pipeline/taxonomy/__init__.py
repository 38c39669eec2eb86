"""A living taxonomy: keep a run's topics (with the analyst's names, merges and themes) and
assign new feedback to them.

* :mod:`pipeline.taxonomy.model`: the frozen :class:`Taxonomy` (``schema_version``).
* :mod:`pipeline.taxonomy.assign`: :class:`TaxonomyAssigner` (``fit(run)``, ``predict(vectors)``)
  with a threshold calibrated on the taxonomy run's own within-topic similarities.
* :mod:`pipeline.taxonomy.io`: ``taxonomy.json`` + ``taxonomy_centroids.npy`` in a run folder.
* :mod:`pipeline.taxonomy.stage`: what ``feedback-topics run --taxonomy RUN_DIR`` adds to a run.
* :mod:`pipeline.taxonomy.api`: :func:`assign`, one text or a small batch (ticket routing).
"""
