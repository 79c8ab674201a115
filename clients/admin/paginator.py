"""Pagination for admin lists over tables with millions of rows."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows (COUNT over a LIMITed subquery), so a list never scans a whole table.

    Past the cap the admin shows "10000" results and pages up to there; filters and search narrow it down.
    """

    @cached_property
    def count(self) -> int:
        return self.object_list[:COUNT_CAP].count()  # type: ignore[attr-defined]  # always a QuerySet here
