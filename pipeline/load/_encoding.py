"""Bytes to text: an override, a BOM, or an encoding decided from evidence."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass, field

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


# Legacy candidates, in order of preference when two read equally well.
_LEGACY: tuple[str, ...] = (
    "cp1252",
    "gb18030",
    "big5",
    "cp932",
    "cp949",
    "euc_jp",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp874",
    "koi8-r",
    "latin-1",
)
_WIDE: tuple[str, ...] = ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be")
_SCORE_BYTES = 24_000
_SURE = 0.75
"""Confidence below which the choice is flagged with its alternatives."""


def _decode(data: bytes, *, name: str, options: LoadOptions) -> tuple[str, _Encoding]:
    """Bytes to text: override, BOM, then every candidate decoded and scored on the evidence."""
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
        enc.warnings.extend(_override_warnings(data, codec=_canonical(codec), text=text, name=name))
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

    utf8: str | None
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if b"\x00" in data[:65536]:
        wide = _wide_unicode(data, utf8=utf8)
        if wide is not None:
            return wide
    if utf8 is not None:
        # Valid UTF-8 is decided: control characters in it are the customers' text, not binary.
        return utf8, _Encoding("utf-8", 1.0, ())
    _check_binary(data, name=name)
    guess = _guess_legacy(data, name=name)
    if guess is None:
        raise LoadError(
            f"The text encoding of {name} could not be recognised, and it may not be a text table at "
            "all. If it is a CSV, save it as UTF-8 (Excel: 'CSV UTF-8') or choose the encoding "
            "(--encoding, e.g. gb18030, cp932, cp1252).",
            code="encoding",
        )
    text, enc = guess
    return _check_text(text, name=name), enc


def _aligned(data: bytes, unit: int, limit: int = 65536) -> bytes:
    sample = data[:limit]
    return sample[: len(sample) - len(sample) % unit]


def _wide_unicode(data: bytes, *, utf8: str | None) -> tuple[str, _Encoding] | None:
    """UTF-32 or UTF-16 without a BOM: strict decoding, line breaks, and plausible characters."""
    from pipeline.load._evidence import whole_plausibility

    scored: list[tuple[float, str]] = []
    for codec in _WIDE:
        unit = 4 if "32" in codec else 2  # a cut-off last unit is decoded as U+FFFD and reported
        try:
            text = _aligned(data, unit).decode(codec)
        except UnicodeDecodeError:
            continue
        if "\n" not in text and "\r" not in text and len(data) > 64:
            continue
        scored.append((whole_plausibility(text), codec))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    best, codec = scored[0]
    rival = whole_plausibility(utf8[:65536]) if utf8 is not None else 0.0
    if best < 0.8 or best <= rival + 0.1:
        return None
    text = data.decode(codec, errors="replace")
    others = tuple(c for _, c in scored[1:])
    margin = best - (scored[1][0] if len(scored) > 1 else rival)
    return text, _Encoding(codec, round(min(1.0, 0.5 + margin), 3), others)


def _check_binary(data: bytes, *, name: str) -> None:
    """Refuse bytes that are neither UTF-8 nor UTF-16/32 and hold NUL bytes or mostly control bytes."""
    sample = data[:65536]
    if len(sample) < 256:
        return
    nul = sample.count(0)
    controls = sum(1 for b in sample if b in _CONTROL_BYTES)
    if nul / len(sample) > 0.001 or controls / len(sample) > 0.05:
        raise LoadError(
            f"{name} looks like binary data, not a text table ({nul} NUL and {controls} control bytes in "
            f"the first {len(sample)}, and it is not UTF-8 or UTF-16 text). Upload a CSV, TSV, XLSX, "
            "JSONL or Parquet file.",
            code="wrong_type",
        )


def _check_text(text: str, *, name: str) -> str:
    """Refuse decoded text that is mostly replacement or control characters (binary data)."""
    sample = text[:65536]
    if len(sample) >= 256:
        bad = sample.count("\ufffd") + sum(
            1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r") or 0x80 <= ord(ch) <= 0x9F
        )
        if bad / len(sample) > 0.1:
            raise LoadError(
                f"{name} does not look like text in any encoding ({bad} unreadable characters in the "
                f"first {len(sample)}). Check that it is a CSV/TSV/JSONL file, or choose the encoding "
                "(--encoding).",
                code="encoding",
            )
    return text


def _scoring_sample(lines: list[bytes]) -> bytes:
    """The lines holding non-ASCII bytes, up to about 24 kB: the only ones where candidates differ."""
    out: list[bytes] = []
    size = 0
    for line in lines:
        if max(line, default=0) > 127:
            out.append(line)
            size += len(line)
            if size >= _SCORE_BYTES:
                break
    return b"".join(out)


def _rank(sample: bytes, candidates: Sequence[str]) -> list[tuple[float, str, str]]:
    """(score, codec, decoded sample) per candidate, best first; identical readings kept once."""
    from pipeline.load._evidence import family, plausibility

    seen: set[str] = set()
    ranked: list[tuple[float, int, str, str]] = []
    for position, codec in enumerate(candidates):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            text = sample.decode(codec, errors="replace")
        except LookupError:
            continue
        if text in seen:
            continue
        seen.add(text)
        ranked.append((plausibility(text, family(codec))[0], -position, codec, text))
    ranked.sort(reverse=True)
    return [(score, codec, text) for score, _, codec, text in ranked]


def _guess_legacy(data: bytes, *, name: str) -> tuple[str, _Encoding] | None:
    """Not UTF-8: decode with every candidate, score, compare; or mix UTF-8 and one legacy codec."""
    lines = data.splitlines(keepends=True)
    invalid: list[int] = []
    valid_wide = 0
    for number, line in enumerate(lines):
        if max(line, default=0) <= 127:
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            invalid.append(number)
        else:
            valid_wide += 1
    ranked = _rank(_scoring_sample(lines), _LEGACY)
    if not ranked:
        return None
    best_score, choice, _ = ranked[0]
    if valid_wide and invalid:
        # Some lines are UTF-8 and others are not: score the non-UTF-8 lines alone, then compare
        # reading every line in one codec with reading the UTF-8 lines as UTF-8 and the rest so.
        from pipeline.load._evidence import family, plausibility

        bad_lines = [lines[i] for i in invalid]
        legacy = _rank(_scoring_sample(bad_lines), _LEGACY)[0][1]
        wide_lines = [line for line in lines if max(line, default=0) > 127]
        mixed_text = "".join(_mixed_line(line, legacy) for line in wide_lines[:2000])
        whole_text = b"".join(wide_lines[:2000]).decode(choice, errors="replace")
        mixed_score = plausibility(mixed_text, family(legacy))[0]
        whole_score = plausibility(whole_text, family(choice))[0]
        if mixed_score > whole_score:
            text = "".join(_mixed_line(line, legacy) for line in lines)
            shown = ", ".join(str(i + 1) for i in invalid[:10])
            enc = _Encoding(
                f"utf-8+{_canonical(legacy)}",
                round(min(1.0, 0.5 + (mixed_score - whole_score) * 2.5), 3),
                _alternatives("utf-8", [legacy, *(c for _, c, _ in ranked)], data),
                warnings=[
                    f"{name} mixes encodings: {valid_wide:,} line(s) are UTF-8 and {len(invalid):,} are "
                    f"not (lines {shown}{'…' if len(invalid) > 10 else ''}); those were read as "
                    f"{_canonical(legacy)}. Check them, or choose one encoding (--encoding)."
                ],
            )
            return text, enc
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    confidence = round(max(0.0, min(1.0, 0.5 + (best_score - second) * 2.5)) * min(1.0, best_score), 3)
    canon = _canonical(choice)
    alternatives = _alternatives(canon, [_canonical(c) for _, c, _ in ranked[1:]], data)
    text = data.decode(choice, errors="replace")
    enc = _Encoding(canon, confidence, alternatives)
    if confidence < _SURE and len(ranked) > 1:
        enc.warnings.append(_unsure_warning(name, lines, canon, ranked[1][1], confidence))
    return text, enc


def _mixed_line(line: bytes, legacy: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode(legacy, errors="replace")


def _unsure_warning(name: str, lines: list[bytes], choice: str, other: str, confidence: float) -> str:
    example = ""
    for line in lines:
        if max(line, default=0) <= 127:
            continue
        a = line.decode(choice, errors="replace").strip()
        b = line.decode(other, errors="replace").strip()
        if a != b:
            example = f" For example, {a[:40]!r} would read as {b[:40]!r} in {_canonical(other)}."
            break
    return (
        f"The text encoding of {name} is uncertain ({confidence:.0%}): read as {choice}.{example} If the "
        "text looks wrong, choose another encoding (--encoding)."
    )


def _override_warnings(data: bytes, *, codec: str, text: str, name: str) -> list[str]:
    """Say when a chosen encoding reads the file worse than the evidence-based choice."""
    if codec in ("utf-8", "utf-8-sig") or codec.startswith(("utf-16", "utf-32")):
        return []
    if max(data[:65536], default=0) <= 127:
        return []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return [
            f"{name} is valid UTF-8, but it was read as {codec} as chosen; non-ASCII text (such as "
            "accents or CJK characters) is then garbled. Leave the encoding on automatic, or choose utf-8."
        ]
    from pipeline.load._evidence import family, plausibility

    lines = data.splitlines(keepends=True)
    ranked = _rank(_scoring_sample(lines), _LEGACY)
    if not ranked:
        return []
    best_score, best, _ = ranked[0]
    mine = plausibility(_scoring_sample(lines).decode(codec, errors="replace"), family(codec))[0]
    if _canonical(best) != codec and best_score - mine >= 0.2:
        return [
            f"{name} was read as {codec} as chosen, but it reads much better as {_canonical(best)}; "
            "check the text, or leave the encoding on automatic."
        ]
    return []


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
