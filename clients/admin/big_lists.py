"""What every admin list over a table with millions of rows shares: a capped count, exact indexed search,
free-text id filters and a "since" filter that never list the related table."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin import ModelAdmin, ShowFacets
from django.contrib.admin.views.main import ChangeList
from django.db.models import Expression, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from .paginator import CappedCountPaginator


class BigListChangeList(ChangeList):
    def get_ordering_field(self, field_name: Callable | str) -> Expression | str | None:
        # Hidden sort links are not enough: a hand-made `?o=` must not sort millions of rows by a plain column.
        if field_name not in (self.sortable_by or ()):
            return None
        return super().get_ordering_field(field_name)


class BigListAdmin(admin.ModelAdmin):
    """A list that answers fast over millions of rows.

    - the count is capped (`CappedCountPaginator`) and the unfiltered total is never counted;
    - no facet counts;
    - search looks up each of `exact_search_fields` by equality (indexed), never `LIKE` / `UPPER()` scans;
    - only `sortable_by` columns (indexed ones) can be sorted on.
    """

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    list_per_page = 50
    exact_search_fields: tuple[str, ...] = ()
    sortable_by = ("id",)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BigListChangeList

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        # Non-empty so that the admin shows the search box; the lookups themselves are in get_search_results.
        return self.exact_search_fields

    def exact_search_q(self, term: str) -> Q:
        """The OR of `field = term` over `exact_search_fields`; subclasses add their own id lookups."""
        query = Q()
        for field in self.exact_search_fields:
            query |= Q(**{field: term})
        return query

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        query = self.exact_search_q(term)
        return (queryset.filter(query) if query else queryset.none()), False


class IdInputFilter(admin.SimpleListFilter):
    """A text box for an id: a list of every related row would itself be the slow part of the page."""

    template = "admin/input_filter.html"
    field_path = ""  # the lookup the typed id is matched against, e.g. "channel_id"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        # One pseudo-choice so that the filter is shown; the template renders a text box instead.
        return [("", "")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.field_path: int(value)})

    # The stubs type the choices for the stock template; ours (a free-text id input) reads other keys.
    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        keep = {k: v for k, v in changelist.params.items() if k != self.parameter_name}
        yield {"hidden": sorted(keep.items()), "value": self.value() or "", "name": self.parameter_name}


SINCE_CHOICES = {
    "1h": (dt.timedelta(hours=1), _("last hour")),
    "24h": (dt.timedelta(hours=24), _("last 24 hours")),
    "7d": (dt.timedelta(days=7), _("last 7 days")),
    "30d": (dt.timedelta(days=30), _("last 30 days")),
}


class SinceFilter(admin.SimpleListFilter):
    """Rows newer than a moment, on an indexed timestamp (instead of date_hierarchy, which scans for dates)."""

    title = _("time")
    parameter_name = "since"
    field_path = "created_at"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [(key, label) for key, (_delta, label) in SINCE_CHOICES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        choice = SINCE_CHOICES.get(self.value() or "")
        if choice is None:
            return queryset
        return queryset.filter(**{f"{self.field_path}__gte": timezone.now() - choice[0]})
