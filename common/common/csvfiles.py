"""CSV files in and out of the API: read an import with its line numbers, write cells no spreadsheet runs.

Reading (:func:`csv_rows`): UTF-8 with or without a byte order mark, ``\\n`` or ``\\r\\n`` line
ends, a header row naming known columns (any order, each once). Every problem is collected,
not only the first, as ``rows.<line>.<column>`` details (line numbers as an editor shows the
file, the header being line 1), so one 400 lists everything to fix.

Writing (:func:`csv_stream`): a cell that starts like a formula (``=``, ``+``, ``-``, ``@``,
tab, carriage return) is written with a leading ``'`` (OWASP "CSV injection"), which a
spreadsheet shows as text and does not run. Reading strips exactly that quote again
(:func:`unescape_cell`), so a file exported and imported back is unchanged, whatever the cells
hold: a value that itself starts with ``'`` before a formula character gets one more quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.fields import Field

from .exceptions import ValidationFailed

MEDIA_TYPE = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The details of one refusal are capped (messages, not fields: one cell may collect a message
# per repeat of its key, the header one per column): a broken file of 100,000 rows, or a header
# of millions of empty columns, would otherwise be a 400 of megabytes, or of gigabytes in the
# worker. The message says how many were left out.
MAX_DETAILS = 1000
CHUNK_CHARS = 64 * 1024


def _looks_like_formula(value: str) -> bool:
    """True if a spreadsheet would run ``value``, or if it is such a value already escaped (``'=...``)."""
    while value.startswith("'"):
        value = value[1:]
        if not value.startswith(("'", *FORMULA_STARTS)):
            return False
    return value.startswith(FORMULA_STARTS)


def escape_cell(value: str) -> str:
    return "'" + value if _looks_like_formula(value) else value


def unescape_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and _looks_like_formula(value[1:]) else value


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts in the file (the header is line 1)
    cells: dict[str, str]  # column -> cell, unescaped; a column the file lacks is absent


class Problems:
    """The ``rows.<line>.<column>`` errors of one file, raised together as one 400 ``validation``.

    At most :data:`MAX_DETAILS` messages are kept; the rest are only counted.
    """

    def __init__(self, *, where: str = "file", what: str = "cell") -> None:
        self.errors: dict[str, list[str]] = {}
        self.count = self.listed = 0
        self.where, self.what = where, what

    def add(self, field: str, message: str) -> None:
        self.count += 1
        if self.listed < MAX_DETAILS:
            self.listed += 1
            self.errors.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if not self.count:
            return
        message = f"The {self.where} has {self.count} invalid {self.what}(s); nothing was imported."
        if self.count > self.listed:
            message += f" The first {self.listed} are listed."
        raise ValidationFailed(self.errors, message)


def csv_rows(data: bytes, *, columns: Sequence[str]) -> list[CsvRow]:
    """Read an uploaded CSV file whose header names some of ``columns``; 400 ``validation`` if unreadable.

    Blank lines are skipped; more than ``settings.IMPORT_MAX_ROWS`` rows is a 400 naming ``file``,
    given as soon as the row past it is read (two million short rows fit in 16 MiB, and would take
    gigabytes and minutes to check). Cells are unescaped (:func:`unescape_cell`) and stripped of
    surrounding spaces; an empty cell is kept as ``""`` (each importer says what it means).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.field("file", f"Not UTF-8 (byte {exc.start}).") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationFailed.field("file", "The file is empty: a header row is required.")
        names = [name.strip() for name in header]
        _check_header(names, columns)
        rows, problems, line, read = [], Problems(), reader.line_num + 1, 0
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            read += 1
            if read > settings.IMPORT_MAX_ROWS:
                limit = settings.IMPORT_MAX_ROWS
                message = f"More than {limit} rows: split the file (at most {limit} rows per import)."
                raise ValidationFailed.field("file", message)
            if len(cells) > len(names):
                problems.add(f"rows.{start}", f"{len(cells)} cells, but the header names {len(names)} columns.")
                continue
            values = {name: unescape_cell(cell.strip()) for name, cell in zip(names, cells, strict=False)}
            rows.append(CsvRow(line=start, cells=values))
    except csv.Error as exc:
        raise ValidationFailed.field(f"rows.{reader.line_num}", f"Malformed CSV: {exc}.") from None
    problems.raise_any()
    return rows


def _check_header(names: list[str], columns: Sequence[str]) -> None:
    problems = Problems(where="header", what="column")
    for position, name in enumerate(names, start=1):
        if name not in columns:
            problems.add("columns", f"Column {position} '{name}' is unknown; the columns are {', '.join(columns)}.")
        elif names.index(name) != position - 1:
            problems.add("columns", f"Column '{name}' appears twice.")
    problems.raise_any()


def require_column(rows: list[CsvRow], column: str) -> None:
    """400 naming ``columns`` if the file has rows but no ``column`` (the key)."""
    if rows and column not in rows[0].cells:
        raise ValidationFailed.field("columns", f"The column '{column}' is required.")


def cells_validated(row: CsvRow, *, fields: Mapping[str, Field], key: str, problems: Problems) -> dict[str, Any]:
    """Return the row's cells validated by the API's own ``fields``; each refusal goes to ``problems``.

    An empty cell is "not given" and left out, but the key's, which must be there.
    """
    values: dict[str, Any] = {}
    for column, cell in row.cells.items():
        if cell == "" and column != key:
            continue
        try:
            values[column] = fields[column].run_validation(cell)
        except serializers.ValidationError as exc:
            for message in exc.detail:
                problems.add(f"rows.{row.line}.{column}", str(message))
    return values


def duplicate_keys(rows: Iterable[CsvRow], *, column: str, key: Callable[[str], str], problems: Problems) -> None:
    """Report every row whose ``key(cell)`` an earlier row has, naming both lines."""
    first_line: dict[str, int] = {}
    for row in rows:
        cell = row.cells.get(column, "")
        if not cell:
            continue
        value = key(cell)
        if value in first_line:
            other = first_line[value]
            problems.add(f"rows.{other}.{column}", f"'{value}' is on line {other} and again on line {row.line}.")
            problems.add(f"rows.{row.line}.{column}", f"'{value}' is on line {other} and again on line {row.line}.")
        else:
            first_line[value] = row.line


class _Echo:
    """A file whose ``write`` returns what it was given: csv.writer formats one row at a time for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_stream(*, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """Yield a CSV file (UTF-8, ``\\r\\n`` line ends as RFC 4180 says), cells escaped, in chunks of ~64 KiB.

    Chunks rather than one write per row: the server sends each chunk as it comes.
    """
    writer = csv.writer(_Echo())
    chunk = [writer.writerow(columns)]
    size = 0
    for row in rows:
        line = writer.writerow([escape_cell(value) for value in row])
        chunk.append(line)
        size += len(line)
        if size >= CHUNK_CHARS:
            yield "".join(chunk).encode()
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk).encode()
