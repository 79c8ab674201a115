from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from .api_errors import ApiError
from .query_params import ascii_digits, database_id


class NewestFirstPagination(CursorPagination):
    """Cursor pagination by id, newest first: stable under inserts and cheap on large tables.

    A `cursor` that is not one we gave out (undecodable, or a position that is not an id) is 400
    `invalid_cursor`; a `limit` that is not a number is 400 `invalid_limit` (0 and numbers above the maximum
    are clamped, as before)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw and not ascii_digits(raw, max_digits=9):
            raise ApiError(code="invalid_limit", message=_("Not a valid value."))
        return super().get_page_size(request)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ApiError(code="invalid_cursor", message=_("Not a valid value.")) from exc
        if cursor is not None and cursor.position is not None and database_id(cursor.position) is None:
            raise ApiError(code="invalid_cursor", message=_("Not a valid value."))
        return cursor
