"""``POST <list>/import`` and ``GET <list>/export``: a viewset's records in and out as CSV (contract §5).

A viewset adds :class:`CsvImportExportMixin` and names two hooks: ``csv_import`` (the
service that imports a file) and ``csv_export`` (the bytes of the file for a queryset). The
import takes a ``text/csv`` body only (anything else is a 415), answers the service's counts
in the envelope, and runs again with the same ``Idempotency-Key`` as any POST does
(common.idempotency). The export is the list's queryset with its filters, search and ordering,
every row (no page), streamed from a server-side cursor (``iterator()``), so the worker's
memory does not grow with the number of rows. The permissions are the viewset's: name
``import_csv`` (the create permission) and ``export_csv`` (the list permission) in
``required_permissions``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from .csvfiles import MEDIA_TYPE

# Rows fetched per round trip by the export's server-side cursor.
EXPORT_CHUNK_SIZE = 2000


class CsvParser(parsers.BaseParser):
    """Hand the body over as bytes: the import reads it as a file (common.csvfiles)."""

    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


class ImportQuerySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False, help_text="Answer what the import would do; write nothing.")


class ImportResultSerializer(serializers.Serializer):
    import_id = serializers.UUIDField(
        required=False, help_text="Items only: named in the note of the stock adjustments the import made."
    )
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    stock_adjusted = serializers.IntegerField(
        required=False, help_text="Items only: the items whose stock on hand was set."
    )


def import_schema(*, noun: str, columns: str, key: str, extra: str = "", roles: str = "") -> Any:
    """The OpenAPI description of a viewset's ``import_csv`` action."""
    return extend_schema(
        summary=f"Import {noun} from CSV",
        description=f"A `text/csv` body (UTF-8, a byte order mark and CRLF line ends allowed, up to 16 MiB), "
        f"a header row naming some of: `{columns}`. A row whose `{key}` exists updates that record, any other "
        f"creates one; an empty cell means the value is not given. {extra}All or nothing: any invalid cell is a "
        f"400 `validation` naming `rows.<line>.<column>` (line numbers as in the file) and nothing is written; "
        f"the same `{key}` on two lines is a 400 naming both. {roles}",
        request={MEDIA_TYPE: OpenApiTypes.STR},
        parameters=[ImportQuerySerializer],
        responses={200: ImportResultSerializer},
    )


def export_schema(*, noun: str, roles: str = "") -> Any:
    """The OpenAPI description of a viewset's ``export_csv`` action."""
    return extend_schema(
        summary=f"Export {noun} as CSV",
        description=f"Every {noun[:-1] if noun.endswith('s') else noun} the list's filters and search select "
        f"(all rows, not one page), in the import's columns, streamed as `text/csv`. A cell that starts like a "
        f"formula (`=`, `+`, `-`, `@`) is written with a leading `'`, which the import removes again: importing "
        f"the file back changes nothing. {roles}",
        filters=True,  # the list's own filters, search and ordering (an action other than list has none)
        responses={(200, MEDIA_TYPE): OpenApiResponse(response=OpenApiTypes.STR, description="The CSV file.")},
    )


class CsvImportExportMixin:
    """Add ``POST import`` and ``GET export`` to a list viewset; see the module docstring."""

    csv_filename = "export.csv"

    def csv_import(self, *, data: bytes, dry_run: bool) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.csv_import must call the import service")

    def csv_export(self, queryset) -> Iterator[bytes]:
        raise NotImplementedError(f"{type(self).__name__}.csv_export must return the CSV file's chunks")

    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[CsvParser],
        pagination_class=None,
        filter_backends=[],
    )
    def import_csv(self, request):
        query = ImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # An empty body is no file: DRF hands over an empty dict then, without calling the parser.
        data = request.data if isinstance(request.data, bytes) else b""
        result = self.csv_import(data=data, dry_run=query.validated_data["dry_run"])
        return Response(ImportResultSerializer(result).data)

    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export_csv(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            self.csv_export(queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE)),
            content_type=f"{MEDIA_TYPE}; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response
