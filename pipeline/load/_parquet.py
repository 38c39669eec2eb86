"""Apache Parquet tables, every column read as text."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from pipeline.errors import LoadError
from pipeline.load._records import _cell, _finish, _mb, _Records
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions


def _load_parquet(data: bytes, *, name: str, options: LoadOptions, base: dict[str, Any]) -> LoadedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        meta = parquet.metadata
        if meta.num_rows > options.max_rows:
            raise LoadError(
                f"{name} has {meta.num_rows:,} rows, over the {options.max_rows:,} limit. Filter or split "
                "it, or raise the limit (LoadOptions.max_rows / --max-rows).",
                code="too_many_rows",
            )
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if expanded > options.max_uncompressed_bytes:
            raise LoadError(
                f"{name} would expand to {_mb(expanded)} in memory, over the "
                f"{_mb(options.max_uncompressed_bytes)} limit. Select fewer columns or rows, or raise "
                "LoadOptions.max_uncompressed_bytes.",
                code="too_large",
            )
        table = parquet.read()
    except LoadError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise LoadError(
            f"{name} is not a readable Parquet file ({exc}). Export it again or use CSV.",
            code="corrupt",
            detail=repr(exc),
        ) from None
    header = [str(c) for c in table.column_names]
    columns: list[Sequence[str]] = [_arrow_strings(column) for column in table.columns]
    records = _Records(
        header=header,
        rows=[],
        lines=list(range(1, table.num_rows + 1)),
        status=[STATUS_OK] * table.num_rows,
        columns=list(columns),
    )
    return _finish(
        records, name=name, options=options, base=base, fmt="parquet", encoding=None, delimiter=None
    )


def _arrow_strings(column: Any) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = column.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        values = column.to_pylist()
    elif pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
        # Text stored as bytes: decode each value, one bad value does not turn the column into hex;
        # its undecodable bytes show as U+FFFD and the row is reported.
        values = [None if v is None else v.decode("utf-8", errors="replace") for v in column.to_pylist()]
    elif pa.types.is_boolean(typ):
        values = ["true" if v else "false" if v is not None else None for v in column.to_pylist()]
    else:
        try:
            values = pc.cast(column, pa.string()).to_pylist()
        except (pa.ArrowException, NotImplementedError):
            values = [
                None if v is None else _cell(v) if not isinstance(v, bytes) else v.hex()
                for v in column.to_pylist()
            ]
    return [v if isinstance(v, str) else "" if v is None else str(v) for v in values]
