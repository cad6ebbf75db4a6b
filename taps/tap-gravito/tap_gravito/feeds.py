"""Each domain's answer, asked once per run and read by all five streams (see api.py for why).

The tap builds one `DomainFeeds` from its api, its prefetch and a reader of the bookmarks the run
started from, and hands it to every stream; a stream only asks it for a domain's profiles.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from array import array

from tap_gravito.api import API_DAYS
from tap_gravito.bookmarks import parse_bookmark
from tap_gravito.microprofile import Microprofile, parse_element
from tapkit import clock, stopping

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from tap_gravito.api import GravitoApi
    from tapkit.concurrency import OrderedPrefetch
    from tapkit.http import VendorResponse

#: a domain's answer and the indexes of its elements that an later snapshot of the same profile supersedes
Feed = tuple["VendorResponse", frozenset[int]]
#: `VendorTap.prefetch`: `produce(key)` for every key, `max_concurrency` at a time, taken in order
Prefetch = t.Callable[[t.Iterable[str], t.Callable[[str], t.Iterable[Feed]]], "OrderedPrefetch"]


class DomainFeeds:
    """Each domain's answer, fetched once per run and shared by every stream.

    The first stream to ask starts fetching every configured domain ahead, `max_concurrency` at a
    time; streams still read the domains in their configured order. One answer feeds five streams,
    so its request counts in the SDK's request metrics under the feed's own name, `NAME`, not
    under whichever stream happened to ask first.
    """

    NAME = "domain_feeds"

    def __init__(
        self,
        api: GravitoApi,
        domains: Sequence[str],
        prefetch: Prefetch,
        saved_bookmarks: Callable[[str], Iterable[t.Any]],
        logger: logging.Logger,
    ) -> None:
        """`saved_bookmarks(domain)`: the domain's bookmarks, as the run started, of every selected stream."""
        self.api = api.for_stream(self.NAME)
        self.domains = list(domains)
        self._start_prefetch = prefetch
        self._saved_bookmarks = saved_bookmarks
        self.logger = logger
        self._feeds: dict[str, Feed] = {}
        #: a domain whose answer failed (retries exhausted, unreadable): every stream gets the same error,
        #: without asking again (the kit's isolation skips the domain in each, tapkit.isolation)
        self._failures: dict[str, Exception] = {}
        self._prefetch: OrderedPrefetch | None = None
        self._bookmarks: dict[str, list[dt.datetime]] = {}

    def profiles(self, domain: str) -> Iterator[tuple[Microprofile, bool]]:
        """(profile, is_latest_snapshot) for every element of the domain's answer."""
        if domain in self._failures:
            raise self._failures[domain]
        try:
            if domain not in self._feeds:
                if self._prefetch is None:
                    # Read here, in the sync's thread, before any stream has moved a bookmark of this run.
                    self._bookmarks = {name: self._parsed_bookmarks(name) for name in self.domains}
                    self._prefetch = self._start_prefetch(self.domains, lambda key: [self._fetch(key)])
                (self._feeds[domain],) = self._prefetch.take(domain)
            answer, superseded = self._feeds[domain]
            for index, element in enumerate(answer.items()):
                yield parse_element(element), index not in superseded
        except GeneratorExit:
            self.stop_fetching_ahead()
            raise
        except Exception as exc:
            self._failures[domain] = exc
            raise

    def stop_fetching_ahead(self) -> None:
        """A read abandoned part-way (an Airbyte `check` wants one record): the domains not yet taken are not
        downloaded in the background (a later ask fetches its domain in turn). In-flight requests are waited
        for, as the tap's own close does, unless a stop signal asks the run to end at once."""
        if self._prefetch is not None:
            self._prefetch.close(wait=stopping.GUARD.signum is None)

    def _parsed_bookmarks(self, domain: str) -> list[dt.datetime]:
        parsed = (parse_bookmark(value) for value in self._saved_bookmarks(domain))
        return [bookmark for bookmark in parsed if bookmark is not None]

    def _fetch(self, domain: str) -> Feed:
        """The domain's answer and the indexes of older snapshots of a profile id (runs in a worker)."""
        self.warn_if_window_lost(domain)
        answer = self.api.microprofiles(domain)
        # First pass: a compact (id hash, timestamp) per element, so a domain of millions of profiles
        # stays within bounded memory; the elements themselves are parsed again, one at a time, later.
        id_hashes, stamps = array("q"), array("q")
        unparsed = 0
        for element in answer.items():
            profile = parse_element(element, with_gravito_data=False)  # ids and timestamps are all it needs
            unparsed += profile.parse_error is not None
            id_hashes.append(hash(profile.profile_id))
            stamps.append(profile.updated_at if profile.updated_at is not None else -1)
        if not id_hashes:
            self.logger.warning(
                "gravito: domain '%s' returned no profiles for the last %d days: check the domain name in setting "
                "domains (Gravito answers a domain it does not know with an empty list, as it does a domain "
                "without visitors).",
                domain,
                API_DAYS,
            )
        if unparsed:
            self.logger.warning(
                "gravito: domain '%s': %d message(s) were not valid microprofile JSON; they are kept in "
                "microprofiles with parse_error set.",
                domain,
                unparsed,
            )
        return answer, superseded_snapshots(id_hashes, stamps)

    def warn_if_window_lost(self, domain: str) -> None:
        """One warning per domain when a bookmark is older than the API's seven days."""
        oldest_served = clock.now() - dt.timedelta(days=API_DAYS)
        stale = [bookmark for bookmark in self._bookmarks.get(domain, []) if bookmark < oldest_served]
        if stale:
            self.logger.warning(
                "gravito: domain '%s': data between %s and %s can no longer be fetched: the Gravito API keeps only "
                "the last %d days. Run this tap at least daily to keep the data complete.",
                domain,
                min(stale).isoformat(),
                oldest_served.isoformat(timespec="seconds"),
                API_DAYS,
            )


_BITMAP_BITS = 1 << 24  # 2 MB: a first, cheap filter of ids that may occur more than once


def superseded_snapshots(id_hashes: t.Sequence[int], stamps: t.Sequence[int]) -> frozenset[int]:
    """Indexes of elements whose profile id appears again with a later (or equal, later-listed) timestamp.

    Memory stays small for millions of elements: a bitmap of hashes finds the few ids that may repeat,
    and only those are grouped. Ids are compared by their 64-bit hash: for a million profiles in one
    response, the chance that two different ids collide is about 3 in 100 million, and a collision
    would only drop the older-looking one.
    """
    seen = bytearray(_BITMAP_BITS // 8)
    maybe_repeated: set[int] = set()
    for id_hash in id_hashes:
        slot = id_hash & (_BITMAP_BITS - 1)
        if seen[slot >> 3] & (1 << (slot & 7)):
            maybe_repeated.add(id_hash)
        else:
            seen[slot >> 3] |= 1 << (slot & 7)
    del seen
    groups: dict[int, list[int]] = {}
    for index, id_hash in enumerate(id_hashes):
        if id_hash in maybe_repeated:
            groups.setdefault(id_hash, []).append(index)
    superseded: set[int] = set()
    for group in groups.values():
        if len(group) > 1:
            latest = max(group, key=lambda index: (stamps[index], index))
            superseded.update(index for index in group if index != latest)
    return frozenset(superseded)
