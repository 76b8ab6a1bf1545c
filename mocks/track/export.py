"""The CSV form of device and beacon lists (``responseType=csv``; layout inferred, see the
contract's ``responseType`` parameter): a header row of the schema's fields, CRLF rows,
``null`` as an empty field, objects and arrays as compact JSON, RFC 4180 quoting."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

CSV = "text/csv; charset=utf-8"


def _cell(value: Any, delimiter: str) -> str:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        text = orjson.dumps(value).decode()
    if any(c in text for c in (delimiter, '"', "\r", "\n")):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_table(fields: list[str], rows: Iterable[dict[str, Any]], delimiter: str) -> bytes:
    lines = [delimiter.join(_cell(name, delimiter) for name in fields)]
    lines += [delimiter.join(_cell(row.get(name), delimiter) for name in fields) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
