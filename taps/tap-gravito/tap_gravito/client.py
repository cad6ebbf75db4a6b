"""Gravito customer data access API: the vendor's quirks, in one place (vendor-api.md section 1).

- one endpoint, `GET /api/gp/gravitocustomerdata?domainName=<domain>`, headers `gravitoaccess`
  (the token) and `gravitoversion`; no paging, no time filter: every call returns the domain's
  last seven days;
- the body is a JSON array of {referer, message}; see `microprofile` for what is inside;
- one response feeds all five streams, so the tap fetches each domain once per run (`DomainFeeds`)
  and every stream reads the same spooled body;
- when one response holds several snapshots of a profile id, the one with the greatest
  timestamp is taken whole (the consent list is an append log, so it holds the older ones);
- an unknown (mistyped) domainName is not an error: it is answered like a domain without
  visitors, with `[]`; a configured domain whose answer holds no profile gets one warning
  naming it, since a typo would otherwise sync nothing for the seven days that matter;
- `t` is epoch seconds in the vendor's sample; epoch milliseconds are read as such
  (`microprofile.epoch_seconds`);
- a profile's events (`matchOnId`, the TC string, the non-TCF vendors) carry no timestamp and
  can change without a newer `k`/`c` one: the profile-level streams keep content fingerprints in
  state (`fingerprints`) and emit a profile again when its content changed.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from array import array

from tap_gravito import fingerprints
from tap_gravito.microprofile import Microprofile, parse_element
from tapkit.legacy import LegacyVendorStream as VendorStream  # until this tap asks through its api.py

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

API_DAYS = 7  # the API serves the last seven days only


def parse_bookmark(value: t.Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class DomainFeeds:
    """Each domain's response, fetched once per run and shared by every stream.

    The first stream to ask starts fetching every configured domain ahead, `max_concurrency` at a
    time (`VendorTap.prefetch`); streams still read the domains in their configured order.
    """

    def __init__(self) -> None:
        self._feeds: dict[str, tuple[requests.Response, frozenset[int]]] = {}
        self._prefetch: t.Any = None

    def profiles(self, stream: GravitoStream, domain: str) -> t.Iterator[tuple[Microprofile, bool]]:
        """(profile, is_latest_snapshot) for every element of the domain's response."""
        if domain not in self._feeds:
            if self._prefetch is None:
                self._prefetch = stream._tap.prefetch(stream.config["domains"], lambda key: [self._fetch(stream, key)])
            (self._feeds[domain],) = self._prefetch.take(domain)
        response, superseded = self._feeds[domain]
        for index, element in enumerate(stream.iter_body_items(response)):
            yield parse_element(element), index not in superseded

    def _fetch(self, stream: GravitoStream, domain: str) -> tuple[requests.Response, frozenset[int]]:
        """The domain's response and the indexes of older snapshots of a profile id (runs in a worker)."""
        stream.warn_if_window_lost(domain)
        context = {"domain": domain}
        prepared = stream.prepare_request(context, next_page_token=None)
        response = stream.request_decorator(stream._request)(prepared, context)
        # First pass: a compact (id hash, timestamp) per element, so a domain of millions of profiles
        # stays within bounded memory; the elements themselves are parsed again, one at a time, later.
        id_hashes, stamps = array("q"), array("q")
        unparsed = 0
        for element in stream.iter_body_items(response):
            profile = parse_element(element)
            unparsed += profile.parse_error is not None
            id_hashes.append(hash(profile.profile_id))
            stamps.append(profile.updated_at if profile.updated_at is not None else -1)
        if not id_hashes:
            stream.logger.warning(
                "gravito: domain '%s' returned no profiles for the last %d days: check the domain name in setting "
                "domains (Gravito answers a domain it does not know with an empty list, as it does a domain "
                "without visitors).",
                domain,
                API_DAYS,
            )
        if unparsed:
            stream.logger.warning(
                "gravito: domain '%s': %d message(s) were not valid microprofile JSON; they are kept in "
                "microprofiles with parse_error set.",
                domain,
                unparsed,
            )
        return response, superseded_snapshots(id_hashes, stamps)


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


class GravitoStream(VendorStream):
    """One view of the customer-data response, partitioned (and bookmarked) by domain."""

    path = "/api/gp/gravitocustomerdata"
    records_prefix = "item"
    state_partitioning_keys: t.ClassVar[list[str]] = ["domain"]
    is_sorted = False  # the vendor documents no order

    @property
    def partitions(self) -> list[dict]:
        return [{"domain": domain} for domain in self.config["domains"]]

    @property
    def http_headers(self) -> dict:
        headers = dict(super().http_headers)
        headers["gravitoaccess"] = self.config["access_token"]
        headers["gravitoversion"] = self.config.get("gravito_version") or "v3"
        return headers

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"domainName": (context or {})["domain"]}

    @property
    def feeds(self) -> DomainFeeds:
        return self._tap.domain_feeds  # type: ignore[attr-defined]

    # -- incremental --------------------------------------------------------------------------

    def emit_after(self, context: Context | None) -> float | None:
        """Epoch seconds: rows at or before this were emitted by an earlier run (bookmark - lookback)."""
        bookmark = parse_bookmark(self.get_context_state(context).get("replication_key_value"))
        if bookmark is None:
            return None
        lookback = dt.timedelta(hours=float(self.config.get("lookback_hours") or 0))
        return (bookmark - lookback).timestamp()

    @staticmethod
    def is_new(seconds: int | None, after: float | None) -> bool:
        """Rows without a timestamp cannot be placed in time, so they are always emitted."""
        return after is None or seconds is None or seconds > after

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        value = latest_record.get(self.replication_key)
        if value is None:
            return  # an untimed row says nothing about progress (and the SDK would warn per row)
        if not self.advances(value, context):
            # A row of the lookback, or a changed profile emitted again under its old time: the SDK
            # would make this run's greatest value the bookmark, moving it back.
            return
        super()._increment_stream_state(latest_record, context=context)

    def advances(self, value: t.Any, context: Context | None) -> bool:
        """Whether `value` is past the bookmark the run started from."""
        try:
            start = parse_bookmark(self.get_context_state(context).get("replication_key_value"))
            return start is None or parse_bookmark(value) > start  # type: ignore[operator]
        except (TypeError, ValueError):
            return True  # leave an unreadable value to the SDK's own handling

    def warn_if_window_lost(self, domain: str) -> None:
        """One warning per domain when a bookmark is older than the API's seven days."""
        oldest_served = dt.datetime.now(dt.UTC) - dt.timedelta(days=API_DAYS)
        bookmarks = [
            parse_bookmark(stored_bookmark(self._tap.state, stream.name, domain))
            for stream in self._tap.streams.values()
            if stream.selected
        ]
        stale = [bookmark for bookmark in bookmarks if bookmark is not None and bookmark < oldest_served]
        if stale:
            self.logger.warning(
                "gravito: domain '%s': data between %s and %s can no longer be fetched: the Gravito API keeps only "
                "the last %d days. Run this tap at least daily to keep the data complete.",
                domain,
                min(stale).isoformat(),
                oldest_served.isoformat(timespec="seconds"),
                API_DAYS,
            )

    # -- records ------------------------------------------------------------------------------

    #: whether the stream's rows come from the profile's untimed content (events), so that a
    #: profile is emitted again when its content fingerprint changed (see `fingerprints`)
    fingerprinted: t.ClassVar[bool] = False

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        domain = (context or {})["domain"]
        after = self.emit_after(context)
        if self.fingerprinted:
            yield from self.changed_records(context, domain, after)
            return
        for profile, is_latest in self.feeds.profiles(self, domain):
            if is_latest:
                yield from self.rows_for(profile, domain, after)  # the SDK shapes them (post_process)

    def changed_records(self, context: Context | None, domain: str, after: float | None) -> t.Iterable[dict]:
        """Rows of the profiles that are new or changed since the last run, by timestamp or by content.

        Known fingerprints: a profile is emitted when its content is new to the state, or when its
        timestamp is past the bookmark minus the lookback. Unknown (first run, a state from before
        fingerprints, a domain over the cap): every profile is emitted, as on a first run.
        """
        state = self.get_context_state(context)
        known = fingerprints.decode(state.get(fingerprints.STATE_KEY))
        collector = fingerprints.Collector()
        for profile, is_latest in self.feeds.profiles(self, domain):
            if not is_latest:
                continue
            mark = profile.fingerprint()
            collector.add(mark)
            if known is None or mark not in known:
                yield from self.rows_for(profile, domain, None)
            elif after is not None and profile.updated_at is not None and profile.updated_at > after:
                yield from self.rows_for(profile, domain, after)
        collector.save(state)
        if collector.overflowed:
            self.logger.warning(
                "gravito: stream '%s': domain '%s' served more than %d profiles, more than the state keeps "
                "fingerprints of: its next run emits every profile of the last %d days again.",
                self.name,
                domain,
                collector.cap,
                API_DAYS,
            )

    def rows_for(self, profile: Microprofile, domain: str, after: float | None) -> t.Iterable[dict]:
        raise NotImplementedError


def stored_bookmark(state: dict, stream_name: str, domain: str) -> t.Any:
    """A domain's bookmark as the run started, read without creating state entries."""
    stream_state = state.get("bookmarks", {}).get(stream_name, {})
    for partition in stream_state.get("partitions", []):
        if partition.get("context") == {"domain": domain}:
            return partition.get("replication_key_value")
    return None
