"""Sentiment: the scorers (real bundled-model embeddings), columns and shares, rating agreement,
determinism, storage, the report and the dashboard."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.sentiment.base import NEUTRAL_BAND, RowSentiment, codes_from_scores
from pipeline.sentiment.head import fit_logistic
from pipeline.sentiment.lexicon import lexicon_scores
from pipeline.sentiment.registry import score_sentiment
from pipeline.sentiment.summary import (
    SHARE_COLUMNS,
    overall_shares,
    rating_agreement,
    theme_shares,
    topic_shares,
)
from pipeline.types import EXCLUDED
from tests._app_helpers import goto, new_app, open_result
from tests._result_factory import make_result
from tests.test_themes_app import _with_themes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "feedback_sample.csv"

# Written for this test (not in the training corpus): clear judgements in six languages.
POSITIVE = [
    "The pasta was delicious and the courier was super friendly.",
    "Fantastic hotel, spotless room, I would happily stay again.",
    "外卖送得很快，饭菜很香，好评！",
    "房间干净，前台服务非常热情，很满意。",
    "店員さんがとても親切で、料理も美味しかったです。",
    "La entrega fue rapidísima y la comida estaba buenísima.",
    "Super Service, das Essen war lecker und heiß.",
    "Livraison rapide et repas délicieux, merci beaucoup !",
]
NEGATIVE = [
    "The food arrived cold after an hour and the driver was rude.",
    "Dirty bathroom, broken air conditioning, never again.",
    "太难吃了，而且送餐慢得要命，差评。",
    "房间很脏，隔音太差，一晚上没睡好。",
    "配達が遅すぎて、料理は冷めていました。最悪です。",
    "La comida llegó fría y el repartidor fue muy grosero.",
    "Das Essen kam kalt an und der Fahrer war unfreundlich.",
    "Commande arrivée froide, service client horrible.",
]


@pytest.fixture(scope="module")
def use_embedder():
    from pipeline.embedders.registry import create_embedder

    return create_embedder("use-multilingual", device="cpu")


def _languages(texts: list[str]) -> list[str]:
    from pipeline.languages import detect_languages

    return list(detect_languages(texts))


# ---------------------------------------------------------------------------------------- scorers
def test_lexicon_handles_negation_and_but() -> None:
    texts = ["good food", "not good at all", "不好吃", "不错", "味道不错，但是送餐太慢了", "I love it"]
    scores, hits = lexicon_scores(texts, ["en", "en", "zh", "zh", "zh", "en"])
    assert scores[0] > 0 and scores[1] < 0  # "not" flips "good"
    assert scores[2] < 0 and scores[3] > 0  # 不好吃 is negative, 不错 ("not bad") positive
    assert scores[4] < 0  # the clause after 但是 weighs more
    assert scores[5] > 0
    assert (hits > 0).all()
    silent, none = lexicon_scores(["xyz", "text in an unlisted language"], ["sw", ""])
    assert (silent == 0).all() and (none == 0).all()


def test_bundled_head_and_lexicon_on_real_embeddings_in_six_languages(use_embedder) -> None:
    texts = POSITIVE + NEGATIVE
    vectors = use_embedder.embed(texts)
    scored = score_sentiment(
        texts=texts, languages=_languages(texts), vectors=vectors, model_name="use-multilingual"
    )
    # 16 texts are too few to fit a head on the run: the shipped head joins the lexicon.
    assert scored.method == "lexicon+bundled-head"
    truth = np.array([1] * len(POSITIVE) + [-1] * len(NEGATIVE))
    assert (np.sign(scored.scores) == truth).mean() >= 0.9
    assert (scored.codes[truth == 1] != -1).all() and (scored.codes[truth == -1] != 1).all()
    head_only = score_sentiment(
        texts=texts,
        languages=_languages(texts),
        vectors=vectors,
        model_name="use-multilingual",
        method="head",
    )
    assert head_only.method == "bundled-head"
    assert (np.sign(head_only.scores) == truth).mean() >= 0.75


def test_self_trained_head_agrees_with_ratings_on_the_sample(use_embedder) -> None:
    frame = pd.read_csv(SAMPLE).fillna("")
    frame = frame.drop_duplicates("feedback")
    frame = frame[frame["feedback"].str.strip() != ""]
    texts = frame["feedback"].tolist()
    vectors = use_embedder.embed(texts)
    scored = score_sentiment(
        texts=texts, languages=_languages(texts), vectors=vectors, model_name="use-multilingual", seed=3
    )
    assert scored.method == "lexicon+head"
    assert scored.details["train_positive"] >= 20 and scored.details["train_negative"] >= 20
    rating = frame["rating"].astype(int).to_numpy()
    called = (scored.codes != 0) & (rating != 3)
    agree = np.mean(scored.codes[called] == np.where(rating[called] >= 4, 1, -1))
    assert agree >= 0.8, agree
    # Deterministic: the same call gives the same scores, bit for bit.
    again = score_sentiment(
        texts=texts, languages=_languages(texts), vectors=vectors, model_name="use-multilingual", seed=3
    )
    assert np.array_equal(scored.scores, again.scores) and np.array_equal(scored.codes, again.codes)


def test_unknown_embedder_falls_back_to_the_lexicon() -> None:
    texts = ["great service", "terrible food", "opening hours?"]
    vectors = np.eye(3, 8, dtype=np.float32)
    scored = score_sentiment(texts=texts, languages=["en"] * 3, vectors=vectors, model_name="qwen3")
    assert scored.method == "lexicon"
    assert list(scored.codes) == [1, -1, 0]
    with pytest.raises(ConfigError, match="No sentiment head"):
        score_sentiment(texts=texts, languages=["en"] * 3, vectors=vectors, model_name="qwen3", method="head")
    with pytest.raises(ConfigError, match="Unknown sentiment method"):
        score_sentiment(texts=texts, languages=["en"] * 3, vectors=vectors, model_name="x", method="vibes")


def test_newton_logistic_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16)).astype(np.float32)
    y = (x @ rng.normal(size=16) + 0.5 * rng.normal(size=400) > 0).astype(float)
    weights, bias, _ = fit_logistic(x, y, c=1.0)
    reference = LogisticRegression(C=1.0, max_iter=1000, tol=1e-8).fit(x, y)
    assert np.allclose(weights, reference.coef_[0], atol=1e-3)
    assert abs(bias - reference.intercept_[0]) < 1e-3


def test_codes_follow_the_neutral_band() -> None:
    scores = np.array([-0.9, -NEUTRAL_BAND - 0.01, 0.0, NEUTRAL_BAND, 0.5])
    assert list(codes_from_scores(scores)) == [-1, -1, 0, 0, 1]


# ------------------------------------------------------------------------------ columns and shares
def _with_sentiment(result, seed: int = 0):
    n = len(result.documents.unique_rows)
    rng = np.random.default_rng(seed)
    scores = rng.uniform(-1, 1, size=n).astype(np.float32)
    sentiment = RowSentiment(
        scores=scores, codes=codes_from_scores(scores), method="lexicon+head", reason="test", details={}
    )
    return dataclasses.replace(
        result, sentiment=sentiment, manifest={**result.manifest, **sentiment.manifest()}
    )


def test_assignment_columns_and_topic_theme_shares() -> None:
    from pipeline.export import assignments_frame, themes_frame, to_json_bytes, topics_frame

    result = _with_sentiment(_with_themes(120))
    frame = assignments_frame(result)
    labels = result.row_labels()
    excluded = labels == EXCLUDED
    assert (frame.loc[excluded, "sentiment"] == "").all() and frame.loc[
        excluded, "sentiment_score"
    ].isna().all()
    assert set(frame.loc[~excluded, "sentiment"]) <= {"negative", "neutral", "positive"}
    # Duplicates take their first occurrence's sentiment.
    source = result.documents.source_row
    for row in np.flatnonzero((source >= 0) & (source != np.arange(len(source)))):
        assert frame.at[row, "sentiment_score"] == frame.at[source[row], "sentiment_score"]

    topics = topics_frame(result)
    for _, row in topics.iterrows():
        rows = frame[frame["topic_id"] == row["topic_id"]]
        for column, label in zip(SHARE_COLUMNS, ("negative", "neutral", "positive"), strict=True):
            assert row[column] == pytest.approx((rows["sentiment"] == label).mean(), abs=1e-4)
        assert sum(row[c] for c in SHARE_COLUMNS) == pytest.approx(1.0, abs=1e-3)
    themes = themes_frame(result)
    for _, row in themes.iterrows():
        rows = frame[frame["theme_id"] == row["theme_id"]]
        assert row["sentiment_negative_share"] == pytest.approx(
            (rows["sentiment"] == "negative").mean(), abs=1e-4
        )
    assert set(theme_shares(result)) == set(themes["theme_id"]) == {-1, 0, 1}
    overall = overall_shares(result)
    assert overall["sentiment_positive_share"] == pytest.approx(
        (frame.loc[~excluded, "sentiment"] == "positive").mean(), abs=1e-4
    )
    document = json.loads(to_json_bytes(result))
    assert document["run"]["sentiment_method"] == "lexicon+head"
    assert set(document["topics"][0]["sentiment"]) == set(SHARE_COLUMNS)
    assert {"sentiment", "sentiment_score"} <= set(document["assignments"][0])


def test_runs_without_sentiment_keep_empty_columns() -> None:
    from pipeline.export import assignments_frame, topics_frame

    result = make_result(60, with_payloads=False)
    assert result.sentiment is None
    frame = assignments_frame(result)
    assert (frame["sentiment"] == "").all() and frame["sentiment_score"].isna().all()
    assert topics_frame(result)[list(SHARE_COLUMNS)].isna().all().all()
    assert topic_shares(result) == {} and rating_agreement(result) is None


def test_merged_topics_get_their_combined_shares() -> None:
    from pipeline.topics import merge_topics

    result = _with_sentiment(make_result(120, with_payloads=False))
    before = topic_shares(result)
    sizes = {t.id: t.size for t in result.topics}
    merged = merge_topics(result, [0, 1], name="Both")
    after = topic_shares(merged)
    target = next(t.id for t in merged.topics if t.name == "Both")
    expected = (
        before[0]["sentiment_negative_share"] * sizes[0] + before[1]["sentiment_negative_share"] * sizes[1]
    ) / (sizes[0] + sizes[1])
    assert after[target]["sentiment_negative_share"] == pytest.approx(expected, abs=1e-3)


def test_rating_agreement_counts_by_hand() -> None:
    result = _with_sentiment(make_result(150, with_payloads=False), seed=4)
    agreement = rating_agreement(result)
    assert agreement is not None and agreement.column == "rating"
    from pipeline.sentiment.summary import row_codes

    codes = row_codes(result)
    ratings = pd.to_numeric(result.table["rating"], errors="coerce").to_numpy()
    ok = ~np.isnan(ratings) & (codes > -9)
    low, high = ratings[ok].min(), ratings[ok].max()
    third = (high - low) / 3
    expected = np.where(ratings <= low + third, -1, np.where(ratings >= high - third, 1, 0))
    compared = ok & (expected != 0) & (codes != 0)
    assert agreement.rows_compared == int(compared.sum())
    assert agreement.agreement == pytest.approx(np.mean(codes[compared] == expected[compared]), abs=1e-4)
    assert int(agreement.table["rows"].sum()) == int(ok.sum())
    # The column the run recorded wins over the name guess.
    result = dataclasses.replace(result, manifest={**result.manifest, "rating": {"column": "channel"}})
    assert rating_agreement(result) is None  # channel holds no numbers
    assert rating_agreement(result, column="rating") is not None


# ------------------------------------------------------------------------------- run, store, report
def test_run_records_sentiment_and_store_round_trip(tmp_path: Path) -> None:
    from pipeline.config import RunConfig
    from pipeline.report import render_html
    from pipeline.run import run
    from pipeline.store import open_run, save_run

    data = SAMPLE.read_bytes()
    config = RunConfig(model="fake", n_topics=4, use_cache=False, umap_fit_rows=1000)
    result = run(data, filename="feedback_sample.csv", config=config)
    assert result.sentiment is not None
    assert result.manifest["sentiment_method"] in {"lexicon+head", "lexicon"}
    assert result.manifest["sentiment_reason"]
    assert "sentiment" in result.manifest["timings_s"]
    assert len(result.sentiment.codes) == len(result.documents.unique_rows)
    reopened = open_run(save_run(result, tmp_path / "run"))
    assert reopened.sentiment is not None
    assert np.array_equal(reopened.sentiment.codes, result.sentiment.codes)
    assert reopened.sentiment.method == result.sentiment.method
    html = render_html(reopened)
    assert 'id="sentiment"' in html and 'id="sentiment-rating"' in html

    off = run(data, filename="feedback_sample.csv", config=dataclasses.replace(config, sentiment="off"))
    assert off.sentiment is None and "sentiment_method" not in off.manifest
    assert open_run(save_run(off, tmp_path / "off")).sentiment is None
    with pytest.raises(ConfigError, match="sentiment must be one of"):
        run(data, filename="feedback_sample.csv", config=dataclasses.replace(config, sentiment="vibes"))


# -------------------------------------------------------------------------------------- dashboard
def _array(value) -> np.ndarray:
    """A plotly trace array: a list, or ``{"dtype", "bdata"}`` (base64 typed array)."""
    import base64

    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    return new_app(tmp_path / "workspace", monkeypatch)


def test_dashboard_map_colours_by_sentiment_and_topics_show_shares(app, tmp_path: Path) -> None:
    result = _with_sentiment(make_result(120, with_payloads=False))
    open_result(app, result, tmp_path / "workspace" / "run-s")
    goto(app, "map")
    control = app.segmented_control(key="w_colour_by")
    assert "Sentiment" in control.options
    control.set_value("sentiment").run()
    assert not app.exception and not app.error
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    traces = {trace["name"]: trace["marker"]["color"] for trace in figure["data"]}
    assert traces == {"Negative": "#E15759", "Neutral": "#B4BAC4", "Positive": "#59A14F"}
    drawn = sum(len(_array(trace["x"])) for trace in figure["data"])
    assert drawn == int(np.isfinite(result.row_coords()).all(axis=1).sum())

    goto(app, "topics")
    assert not app.exception and not app.error
    table = app.dataframe[0]
    assert "sentiment_negative_share" in table.value.columns
    shares = topic_shares(result)
    for _, row in table.value.iterrows():
        assert row["sentiment_negative_share"] == pytest.approx(
            shares[int(row["topic_id"])]["sentiment_negative_share"]
        )
    assert any("Sentiment and rating" in s.value for s in app.subheader)
    assert list(app.dataframe[1].value.columns)[:2] == ["rating", "rows"]


def test_dashboard_themes_table_shows_theme_shares(app, tmp_path: Path) -> None:
    result = _with_sentiment(_with_themes(120))
    open_result(app, result, tmp_path / "workspace" / "run-t")
    goto(app, "themes")
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    shares = theme_shares(result)
    for _, row in table.iterrows():
        assert row["sentiment_positive_share"] == pytest.approx(
            shares[int(row["theme_id"])]["sentiment_positive_share"]
        )


def test_dashboard_map_has_no_sentiment_option_without_sentiment(app, tmp_path: Path) -> None:
    open_result(app, make_result(80, with_payloads=False), tmp_path / "workspace" / "run-n")
    goto(app, "map")
    assert "Sentiment" not in app.segmented_control(key="w_colour_by").options
