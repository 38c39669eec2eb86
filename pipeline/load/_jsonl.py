"""JSON Lines and JSON arrays of objects."""

from __future__ import annotations

import json
import re
from typing import Any

from pipeline.errors import LoadError
from pipeline.load._encoding import _Encoding
from pipeline.load._records import _BAD, _clip, _finish, _Records
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions, RowIssue

_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Number(str):
    """A JSON number kept as its exact text (``1.10`` stays ``1.10``), also inside nested values."""

    __slots__ = ()


def _parse(text: str) -> Any:
    return json.loads(text, parse_float=_Number, parse_int=_Number, parse_constant=_Number, strict=False)


def _dump(value: Any) -> str:
    """JSON text of a nested value, numbers written as they were in the file."""
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, str):
        return json.dumps(_text(value), ensure_ascii=False)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{json.dumps(_text(str(k)), ensure_ascii=False)}: {_dump(v)}" for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _text(value: str) -> str:
    """A lone surrogate (``"\\ud800"`` in the file) becomes U+FFFD and is reported as undecodable."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def _json_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _text(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return _dump(value)


def _looks_json(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head not in ("{", "["):
        return False
    first = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    try:
        value = json.loads(first)
    except ValueError:
        return head == "[" and _json_array(text) is not None
    return isinstance(value, dict)


def _json_array(text: str) -> list[Any] | None:
    try:
        value = _parse(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _load_jsonl(
    text: str, *, name: str, options: LoadOptions, base: dict[str, Any], enc: _Encoding
) -> LoadedTable:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise LoadError(f"{name} contains no records: it is blank. Check the export.", code="no_columns")
    items: list[tuple[int, Any, str]] = []
    stripped = text.lstrip()
    array = _json_array(text) if stripped.startswith("[") else None
    fmt = "json" if array is not None else "jsonl"
    if array is not None:
        items = [(i + 1, v, "") for i, v in enumerate(array)]
    else:
        # Split on line feeds only: str.splitlines() would also split inside values holding U+2028,
        # U+2029, U+0085 or other separators, which JSON allows unescaped.
        for number, line in enumerate(_LINE_BREAK.split(text), start=1):
            if not line.strip():
                continue
            try:
                value = _parse(line)
            except (ValueError, RecursionError):
                value = _BAD
            items.append((number, value, line))
            if len(items) > options.max_rows:
                raise LoadError(
                    f"{name} has more than {options.max_rows:,} records (the limit). Split the file or raise "
                    "the limit (LoadOptions.max_rows / --max-rows).",
                    code="too_many_rows",
                )
    if len(items) > options.max_rows:
        raise LoadError(
            f"{name} has more than {options.max_rows:,} records (the limit). Split the file or raise the limit.",
            code="too_many_rows",
        )
    columns: dict[str, None] = {}
    for _, value, _ in items:
        if isinstance(value, dict):
            for key in value:
                columns.setdefault(str(key), None)
    if not columns:
        if items and all(not isinstance(v, dict) and v != _BAD for _, v, _ in items):
            columns["value"] = None
        else:
            raise LoadError(
                f"{name} has no JSON objects with fields (one object per line is expected, like "
                '{"text": "..."}). Check the file format.',
                code="no_columns",
            )
    header = list(columns)
    rows: list[list[str]] = []
    lines: list[int] = []
    status: list[str] = []
    issues: list[RowIssue] = []
    for number, value, raw in items:
        lines.append(number)
        if isinstance(value, dict):
            rows.append([_json_cell(value.get(key)) for key in header])
            status.append(STATUS_OK)
        elif header == ["value"] and value != _BAD:
            rows.append([_json_cell(value)])
            status.append(STATUS_OK)
        else:
            kind = "number" if isinstance(value, _Number) else type(value).__name__
            why = "not valid JSON" if value == _BAD else f"a JSON {kind}, not an object"
            issues.append(RowIssue(len(rows), number, _BAD, f"{why}: {_clip(raw or _json_cell(value))}"))
            rows.append([""] * len(header))
            status.append(_BAD)
    names = [_text(key) for key in header]
    records = _Records(header=names, rows=rows, lines=lines, status=status, issues=issues)
    records.warnings[:0] = enc.warnings
    return _finish(records, name=name, options=options, base=base, fmt=fmt, encoding=enc, delimiter=None)
