"""One way a page of the product lists many rows: Django's paginator, `?page=N`, a fixed number of rows per page and
the pager (`templates/_pager.html`) saying which rows of how many are shown. A page number that is not a number or
out of range shows the nearest page (Paginator.get_page), never an error."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

LIST_PAGE_ROWS = 50


def page_of(request, queryset, per_page: int = LIST_PAGE_ROWS) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
