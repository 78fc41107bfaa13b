"""Reading numbers from the query string, and sorting and paging a list page's table by it,
so that no query string can answer 500.

django-tables2's RequestConfig takes any whole number as the page size: ?per_page=-1 is a
500 and ?per_page=999999999 turns paging off. Here the page size is one of the sizes the
page offers, and a page that is not a page number shows the first (or, past the end, the
last) page; anything else falls back to the default without a word (ASVS V5.1.3).
"""

from django.core.paginator import EmptyPage
from django.http import HttpRequest
from django_tables2 import RequestConfig, Table

LONGEST_NUMBER = 9  # digits: more is never a page or a page size, and int() need not try


def whole_number(text: str | None) -> int | None:
    """A query-string value as a whole number of ASCII digits, or None."""
    if text and text.isascii() and text.isdecimal() and len(text) <= LONGEST_NUMBER:
        return int(text)
    return None


def paginate(request: HttpRequest, table: Table, sizes: tuple[int, ...]) -> Table:
    """Sort the table as asked and show the page asked for, at one of the page sizes offered
    (the first is the default)."""
    RequestConfig(request, paginate=False).configure(table)  # sorting only
    per_page = whole_number(request.GET.get(table.prefixed_per_page_field))
    if per_page not in sizes:
        per_page = sizes[0]
    page = whole_number(request.GET.get(table.prefixed_page_field)) or 1
    try:
        table.paginate(per_page=per_page, page=page)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    return table
