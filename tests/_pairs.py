"""Small labelled pairs written for the tuning tests (no third-party data)."""

from __future__ import annotations

import pandas as pd

INTENTS = {
    "late": [
        "The delivery was late again",
        "My parcel arrived three days after the promised date",
        "Shipping took far too long",
        "快递太慢了，晚了好几天",
    ],
    "refund": [
        "I still have not received my refund",
        "Where is my money back for the returned item?",
        "The refund never reached my account",
        "退款到现在还没到账",
    ],
    "login": [
        "I cannot log in to the app",
        "The app rejects my password every time",
        "Sign-in fails after the update",
        "登录不了，密码总是错误",
    ],
    "price": [
        "The prices went up again",
        "Everything is too expensive now",
        "Your subscription costs more than last year",
        "价格又涨了，太贵了",
    ],
    "praise": [
        "Great service, thank you so much",
        "The agent was friendly and solved my problem",
        "Very happy with the support I got",
        "客服态度很好，问题很快解决了",
    ],
}


def pairs_frame() -> pd.DataFrame:
    """Every within-intent pair (label 1) and an equal number of cross-intent pairs (label 0)."""
    rows = []
    names = list(INTENTS)
    for i, name in enumerate(names):
        texts = INTENTS[name]
        other = INTENTS[names[(i + 1) % len(names)]]
        far = INTENTS[names[(i + 2) % len(names)]]
        for a in range(len(texts)):
            for b in range(a + 1, len(texts)):
                rows.append((texts[a], texts[b], 1))
                rows.append((texts[a], other[b], 0))
        rows.append((texts[0], far[1], 0))
    frame = pd.DataFrame(rows, columns=["text", "text_pair", "label"])
    # Every fifth pair evaluates; the rest train.
    frame["split"] = ["dev" if k % 5 == 4 else "train" for k in range(len(frame))]
    return frame
