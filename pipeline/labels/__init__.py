"""Topic and theme labels in a chosen language: offline phrases, keyword names, an optional LLM.

The one entry point is :func:`pipeline.labels.registry.label_topics`; it returns a
:class:`~pipeline.labels.base.LabelSet`.
"""

from pipeline.labels.base import LabelSet
from pipeline.labels.registry import LABELLERS, LabellerSettings, label_topics, resolve_label_language

__all__ = ["LABELLERS", "LabelSet", "LabellerSettings", "label_topics", "resolve_label_language"]
