"""Bytes to text: an override, a BOM, or an encoding decided from evidence."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import LoadError
from pipeline.types import LoadOptions

FALLBACK_ENCODINGS: tuple[str, ...] = ("gb18030", "big5", "cp932", "cp949", "cp1252", "cp1251", "latin-1")
"""Encodings offered as alternatives when detection is unsure (GB18030 first for CJK)."""


CJK_ENCODINGS = frozenset({"gb18030", "big5", "cp932", "cp949", "euc_jp", "euc-jp", "johab", "big5hkscs"})


_CONTROL_BYTES = frozenset([*range(0, 9), 11, 14, *range(15, 32), 127])


@dataclass
class _Encoding:
    name: str
    confidence: float | None
    alternatives: tuple[str, ...]
    overridden: bool = False
    warnings: list[str] = field(default_factory=list)


def _canonical(encoding: str) -> str:
    """A stable, user-facing codec name; GBK/GB2312 become GB18030 (its strict superset)."""
    try:
        py = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    mapping = {
        "gbk": "gb18030",
        "gb2312": "gb18030",
        "hz": "hz",
        "shift_jis": "cp932",
        "shift_jis_2004": "cp932",
        "shift_jisx0213": "cp932",
        "euc_kr": "cp949",
        "iso8859-1": "latin-1",
        "latin-1": "latin-1",
        "utf-8": "utf-8",
        "mbcs": "cp1252",
    }
    return mapping.get(py, py.replace("_", "-") if py.startswith(("utf", "euc", "iso")) else py)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _decode(data: bytes, *, name: str, options: LoadOptions) -> tuple[str, _Encoding]:
    """Bytes to text: override, BOM, UTF-16 pattern, strict UTF-8, then a ranked guess."""
    if options.encoding:
        try:
            codec = codecs.lookup(options.encoding).name
        except LookupError:
            raise LoadError(
                f"Unknown encoding {options.encoding!r}. Use a name such as utf-8, gb18030, big5, cp932, "
                "cp949, cp1252 or latin-1.",
                code="encoding",
            ) from None
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        text = data.decode(codec, errors="replace")
        if codec.startswith("utf-16") or codec.startswith("utf-32"):
            text = text.lstrip("\ufeff")
        enc = _Encoding(_canonical(codec), None, (), overridden=True)
        return _check_text(text, name=name), enc

    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            label = "utf-8-sig" if codec == "utf-8-sig" else codec
            return _check_text(text, name=name), _Encoding(label, 1.0, ())

    utf16 = _utf16_without_bom(data)
    if utf16:
        text = data.decode(utf16, errors="replace")
        enc = _Encoding(utf16, 0.9, ("utf-16-be" if utf16 == "utf-16-le" else "utf-16-le",))
        return _check_text(text, name=name), enc

    _check_binary(data, name=name)
    try:
        return _check_text(data.decode("utf-8"), name=name), _Encoding("utf-8", 1.0, ())
    except UnicodeDecodeError:
        pass

    guess = _guess_legacy(data)
    if guess is None:
        raise LoadError(
            f"The text encoding of {name} could not be recognised, and it may not be a text table at "
            "all. If it is a CSV, save it as UTF-8 (Excel: 'CSV UTF-8') or choose the encoding "
            "(--encoding, e.g. gb18030, cp932, cp1252).",
            code="encoding",
        )
    text = data.decode(guess.name, errors="replace")
    return _check_text(text, name=name), guess


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:8192]
    sample = sample[: len(sample) - len(sample) % 2]
    half = len(sample) // 2
    if half < 2:
        return None
    even_zero = sample[0::2].count(0) / half
    odd_zero = sample[1::2].count(0) / half
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _check_binary(data: bytes, *, name: str) -> None:
    sample = data[:65536]
    if len(sample) < 256:
        return
    controls = sum(1 for b in sample if b in _CONTROL_BYTES)
    if controls / len(sample) > 0.05:
        raise LoadError(
            f"{name} looks like binary data, not a text table ({controls} control bytes in the first "
            f"{len(sample)}). Upload a CSV, TSV, XLSX, JSONL or Parquet file.",
            code="wrong_type",
        )


def _check_text(text: str, *, name: str) -> str:
    """Refuse decoded text that is mostly replacement or control characters (binary data)."""
    sample = text[:65536]
    if len(sample) >= 256:
        bad = sample.count("\ufffd") + sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r")
        if bad / len(sample) > 0.1:
            raise LoadError(
                f"{name} does not look like text in any encoding ({bad} unreadable characters in the "
                f"first {len(sample)}). Check that it is a CSV/TSV/JSONL file, or choose the encoding "
                "(--encoding).",
                code="encoding",
            )
    return text


def _guess_legacy(data: bytes) -> _Encoding | None:
    """Guess a non-UTF-8 encoding; return it with its confidence and the alternatives worth offering."""
    from charset_normalizer import from_bytes

    sample = data[:262144]
    if len(data) > len(sample):
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut > 0 else sample
    # Mostly UTF-8 with a few stray bytes (mixed file): keep UTF-8 and report the bad rows.
    loose = data.decode("utf-8", errors="replace")
    n_bad = loose.count("\ufffd")
    n_good = sum(1 for ch in loose if ord(ch) > 127 and ch != "\ufffd")
    results = list(from_bytes(sample))
    ranked: list[tuple[str, float]] = []
    for match in results:
        canon = _canonical(match.encoding)
        if canon not in [r[0] for r in ranked] and canon not in ("utf-8", "utf-16-le", "utf-16-be"):
            ranked.append((canon, max(0.0, 1.0 - float(match.chaos))))
    if n_good > 0 and n_bad <= n_good:
        alts = _alternatives("utf-8", [r[0] for r in ranked], data)
        return _Encoding(
            "utf-8",
            round(n_good / (n_good + n_bad), 3),
            alts,
            warnings=[
                "The file is UTF-8 with some bytes that are not valid UTF-8 (a mixed-encoding file); "
                "those rows are reported as 'undecodable'. Choose another encoding if most rows look wrong."
            ],
        )
    choice: str | None = None
    confidence = 0.0
    high = [i for i, b in enumerate(sample) if b > 127]
    if high:
        isolated = sum(
            1
            for i in high
            if (i == 0 or sample[i - 1] < 128) and (i + 1 >= len(sample) or sample[i + 1] < 128)
        ) / len(high)
        kana = _share(sample, "cp932", lambda c: 0x3040 <= ord(c) <= 0x30FF)
        if kana is not None and kana >= 0.15:
            choice, confidence = "cp932", round(min(0.95, 0.5 + kana), 3)
        elif isolated >= 0.6:
            for single in ("cp1252", "latin-1"):
                if _decodes(data, single):
                    choice, confidence = single, round(0.5 + isolated / 2, 3)
                    break
        elif any(r[0] == "big5" for r in ranked) and _decodes(data, "gb18030") and _decodes(sample, "big5"):
            # GB2312 text uses only A1-FE trail bytes; real Big5 text often has 40-7E trails.
            big5_low = _big5_low_trail_share(sample)
            if big5_low == 0.0:
                choice, confidence = "gb18030", 0.6
    if choice is None:
        for canon, conf in ranked:
            if _decodes(data, canon):
                choice, confidence = canon, round(conf, 3)
                break
    if choice is None:
        for canon, _ in ranked:
            choice, confidence = canon, 0.1
            break
    if choice is None:
        return None
    return _Encoding(choice, confidence, _alternatives(choice, [r[0] for r in ranked], data))


def _share(sample: bytes, encoding: str, predicate: Any) -> float | None:
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        return None
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return None
    return sum(1 for c in wide if predicate(c)) / len(wide)


def _big5_low_trail_share(sample: bytes) -> float:
    text = sample.decode("big5", errors="ignore")
    pairs = low = 0
    for ch in text:
        if ord(ch) > 127:
            encoded = ch.encode("big5", errors="ignore")
            if len(encoded) == 2:
                pairs += 1
                low += 0x40 <= encoded[1] <= 0x7E
    return low / pairs if pairs else 1.0


def _alternatives(choice: str, ranked: Sequence[str], data: bytes) -> tuple[str, ...]:
    """Other encodings that decode the file without error, GB18030 first for CJK files."""
    order: list[str] = []
    if choice in CJK_ENCODINGS:
        order.append("gb18030")
    elif choice in ("utf-8", "cp1252", "latin-1", "cp1250", "iso8859-15"):
        order += ["cp1252", "latin-1", "cp1250", "iso8859-15"]
    order += [*ranked, *FALLBACK_ENCODINGS]
    sample = data[:262144]
    if len(data) > len(sample):
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    out: list[str] = []
    for enc in order:
        if enc != choice and enc not in out and _decodes(sample, enc):
            out.append(enc)
    if choice != "utf-8" and "utf-8" not in out:
        out.append("utf-8")
    return tuple(out[:7])
