"""CRM search that reaches every match, not just the first 10,000.

One HubSpot search query reaches at most 10,000 results; asking for a page past that is a 400
(reference/hubspot-api.md §2.6). ``search_records`` pages lazily (a generator: one page in memory at a
time) and, when a query matches more, walks the matches in modification-date windows:

1. sort ascending by the modification date (``lastmodifieddate`` for contacts, ``hs_lastmodifieddate``
   otherwise) and page to the cap;
2. start a new query at ``modified >= the last date seen``, skipping the records at exactly that date that
   were already returned;
3. if a whole window shares one date (a bulk import can stamp more than 10,000 records in the same
   millisecond), walk that date alone by ``hs_object_id`` (``modified == date``, ``hs_object_id > last``),
   then carry on at ``modified > date``.

Nothing is silently dropped. A record modified while the walk is under way moves to a later date and may
be returned twice (once per state), which a sync can always take. A caller's own sort cannot be kept
across windows, so a search with a custom sort that matches more than 10,000 records raises
``HubSpotSearchTooLarge`` before returning anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from interlink.connectors.hubspot.errors import HubSpotMalformedResponse, HubSpotSearchTooLarge
from interlink.connectors.hubspot.schemas import (
    MAX_FILTERS,
    MAX_FILTERS_PER_GROUP,
    Filter,
    FilterGroup,
    HubSpotObject,
    Operator,
    SearchPage,
    SearchRequest,
    Sort,
    modified_date_property,
    object_type_name,
    parse_model,
)
from interlink.connectors.hubspot.transport import HubSpotTransport, next_after, results_of

SEARCH_RESULT_CAP = 10_000
SEARCH_PAGE_MAX = 200
OBJECT_ID_PROPERTY = "hs_object_id"


def search_page(
    transport: HubSpotTransport,
    object_type: str,
    request: SearchRequest,
    *,
    after: int = 0,
    limit: int = SEARCH_PAGE_MAX,
) -> SearchPage:
    """One page of a search: ``POST /crm/v3/objects/{type}/search``."""
    object_type = object_type_name(object_type)
    body: dict[str, Any] = {**request.to_wire(), "limit": limit, "after": str(after)}
    answer = transport.json_object(
        "POST",
        f"/crm/v3/objects/{object_type}/search",
        route=f"/crm/v3/objects/{object_type}/search",
        json=body,
        search=True,
        idempotent=True,
    )
    if "total" not in answer:
        raise HubSpotMalformedResponse("a search answer from HubSpot has no total")
    return parse_model(
        SearchPage,
        {
            "total": answer["total"],
            "results": results_of(answer, what="a search answer"),
            "next_after": next_after(answer),
        },
        what="search page",
    )


class _Walk:
    def __init__(self, transport: HubSpotTransport, object_type: str, request: SearchRequest, page_size: int) -> None:
        self.transport = transport
        self.object_type = object_type_name(object_type)
        self.request = request
        self.page_size = max(1, min(page_size, SEARCH_PAGE_MAX))
        self.modified = modified_date_property(self.object_type)

    def pages(self, request: SearchRequest) -> Iterator[SearchPage]:
        """Pages of one query, up to the cap; stops early when HubSpot says there is no next page."""
        after = 0
        while after < SEARCH_RESULT_CAP:
            page = search_page(
                self.transport,
                self.object_type,
                request,
                after=after,
                limit=min(self.page_size, SEARCH_RESULT_CAP - after),
            )
            yield page
            if page.next_after is None:
                return
            following = int(page.next_after)
            if following <= after:
                raise HubSpotMalformedResponse(f"a search page's next cursor ({following}) does not move forward")
            after = following

    def plain(self) -> Iterator[HubSpotObject]:
        first = True
        for page in self.pages(self.request):
            if first and page.total > SEARCH_RESULT_CAP:
                raise HubSpotSearchTooLarge(
                    f"{page.total} {self.object_type} match this search, more than the {SEARCH_RESULT_CAP} one "
                    "query can reach, and its custom sort cannot be split into date windows; sort by "
                    f"{self.modified} (or not at all), or narrow the filters"
                )
            first = False
            yield from page.results

    def with_filters(self, sort_by: str, *extra: Filter) -> SearchRequest:
        groups = [FilterGroup(filters=[*group.filters, *extra]) for group in self.request.filter_groups]
        if not groups and extra:
            groups = [FilterGroup(filters=list(extra))]
        properties = self.request.properties
        if properties is not None:
            properties = list(dict.fromkeys([*properties, self.modified, OBJECT_ID_PROPERTY]))
        return self.request.model_copy(
            update={"filter_groups": groups, "sorts": [Sort(property_name=sort_by)], "properties": properties}
        )

    def check_room(self) -> None:
        groups = self.request.filter_groups
        if any(len(group.filters) + 2 > MAX_FILTERS_PER_GROUP for group in groups) or (
            sum(len(group.filters) for group in groups) + 2 * max(1, len(groups)) > MAX_FILTERS
        ):
            raise HubSpotSearchTooLarge(
                f"this search matches more than {SEARCH_RESULT_CAP} {self.object_type} and its filters leave no "
                "room to split it into date windows (each group needs two free filter slots)"
            )

    def windows(self) -> Iterator[HubSpotObject]:
        lower: int | None = None  # the window's lower bound on the modification date (epoch ms)
        inclusive = True
        seen_at_lower: set[str] = set()
        while True:
            if lower is None:
                query = self.with_filters(self.modified)
            else:
                operator: Operator = "GTE" if inclusive else "GT"
                query = self.with_filters(self.modified, Filter.of(self.modified, operator, lower))
            bottom: int | None = None
            top: int | None = None
            at_top: set[str] = set()
            for page in self.pages(query):
                if lower is None and page.total > SEARCH_RESULT_CAP:
                    self.check_room()
                for record in page.results:
                    stamp = record.modified_at_millis(self.object_type) or 0
                    if stamp == lower and record.id in seen_at_lower:
                        continue
                    yield record
                    bottom = stamp if bottom is None else min(bottom, stamp)
                    if top is None or stamp > top:
                        top, at_top = stamp, {record.id}
                    elif stamp == top:
                        at_top.add(record.id)
                if page.next_after is None:
                    return
            # The pages ran out at the cap, not at the end of the matches: start the next window.
            if top is None:
                return
            if bottom == top:
                # The whole window shares one date: walk that date alone, by id.
                already = at_top | (seen_at_lower if lower == top else set())
                yield from self.one_date(top, already)
                lower, inclusive, seen_at_lower = top, False, set()
            else:
                lower, inclusive, seen_at_lower = top, True, at_top

    def one_date(self, stamp: int, already: set[str]) -> Iterator[HubSpotObject]:
        last_id: int | None = None
        while True:
            extra = [Filter.of(self.modified, "EQ", stamp)]
            if last_id is not None:
                extra.append(Filter.of(OBJECT_ID_PROPERTY, "GT", last_id))
            query = self.with_filters(OBJECT_ID_PROPERTY, *extra)
            for page in self.pages(query):
                for record in page.results:
                    if not record.id.isdigit():
                        raise HubSpotMalformedResponse(f"a search result has a non-numeric id {record.id!r}")
                    last_id = int(record.id)
                    if record.id not in already:
                        yield record
                if page.next_after is None:
                    return
            if last_id is None:
                return


def search_records(
    transport: HubSpotTransport, object_type: str, request: SearchRequest, *, page_size: int = SEARCH_PAGE_MAX
) -> Iterator[HubSpotObject]:
    """Every record matching ``request``, lazily; see the module docstring for how the cap is crossed."""
    request.check_limits()
    walk = _Walk(transport, object_type, request, page_size)
    sorts = request.sorts
    if not sorts or (len(sorts) == 1 and sorts[0] == Sort(property_name=walk.modified)):
        return walk.windows()
    return walk.plain()
