"""The labelled feedback sets in ``../shared/data`` that the quality benchmarks read.

``$FEEDBACK_TOPICS_DATA`` overrides the folder (a worktree outside the repository's parent).
Each set's folder has a README with its source and licence; none of it is copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

DATA = Path(os.environ.get("FEEDBACK_TOPICS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
LABELLED: dict[str, tuple[str, str]] = {
    "banking77": ("banking77/banking77.csv", "label"),
    "clinc150": ("clinc150/clinc150.csv", "label"),
    "cais": ("cais/cais.csv", "label"),
    "online_shopping_10_cats": ("online_shopping_10_cats/online_shopping_10_cats.csv", "label"),
    # m_absa: the 7 review domains (its 235 domain::aspect labels are sentence-level aspects).
    "m_absa": ("m_absa/m_absa_sample.csv", "domain"),
    # waimai_10k: food-delivery reviews; its only label is sentiment (no topics).
    "waimai_10k": ("waimai_10k/waimai_10k.csv", "label"),
}
"""Set name -> (CSV path under the data folder, label column)."""


COARSE: dict[str, str] = {"clinc150": "domain"}
"""Sets with a coarser label for the theme level: set name -> column (kept as ``coarse``)."""
EXTRA: dict[str, tuple[str, ...]] = {"m_absa": ("lang",)}
"""Other columns a benchmark reads, kept under their own names."""


def read_labelled(name: str, data: Path = DATA) -> pd.DataFrame:
    """One set as columns ``text`` and ``label`` (plus ``coarse`` and extras where the set has them):
    blank texts dropped, each distinct text kept once; clinc150's out-of-scope queries are dropped."""
    path, label = LABELLED[name]
    frame = pd.read_csv(data / path, dtype=str, keep_default_na=False)
    frame = frame[frame["text"].str.strip() != ""].drop_duplicates("text")
    if "is_oos" in frame.columns:
        frame = frame[frame["is_oos"] != "True"]
    columns = {"text": "text", label: "label"}
    if name in COARSE:
        columns[COARSE[name]] = "coarse"
    for extra in EXTRA.get(name, ()):
        columns[extra] = extra
    return frame[list(columns)].rename(columns=columns)
