"""JSON Lines and JSON arrays of objects."""

from __future__ import annotations

import json
from typing import Any

from pipeline.errors import LoadError
from pipeline.load._encoding import _Encoding
from pipeline.load._records import _BAD, _cell, _clip, _finish, _Records
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions, RowIssue


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
        value = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
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
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=str, parse_int=str, parse_constant=str)
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
            rows.append([_cell(value.get(key)) for key in header])
            status.append(STATUS_OK)
        elif header == ["value"] and value != _BAD:
            rows.append([_cell(value)])
            status.append(STATUS_OK)
        else:
            why = "not valid JSON" if value == _BAD else f"a JSON {type(value).__name__}, not an object"
            issues.append(RowIssue(len(rows), number, _BAD, f"{why}: {_clip(raw or _cell(value))}"))
            rows.append([""] * len(header))
            status.append(_BAD)
    records = _Records(header=header, rows=rows, lines=lines, status=status, issues=issues)
    records.warnings[:0] = enc.warnings
    return _finish(records, name=name, options=options, base=base, fmt=fmt, encoding=enc, delimiter=None)
