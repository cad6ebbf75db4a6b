"""`tap-gravito --probe`: each assumption of api.py, checked with one read-only GET per configured domain.

The answers are read as a sync reads them (spooled, parsed one element at a time), so a large
domain costs its download but not its size in memory. At most `MAX_DOMAINS` domains are asked.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

from tap_gravito.api import API_DAYS, DEFAULT_VERSION, GravitoApi
from tap_gravito.microprofile import MILLISECONDS_FROM, parse_element
from tapkit import TapkitError, clock, probe

if t.TYPE_CHECKING:
    from tap_gravito.settings import GravitoSettings
    from tapkit.tap import VendorTap

MAX_DOMAINS = 10
#: a timestamp older than this many days says the API serves more than its seven (a day of slack)
WINDOW_SLACK_DAYS = 1

AUTH = "the access token is accepted in header gravitoaccess (setting access_token)"
VERSION = "gravitoversion {version} is accepted (setting gravito_version)"
SHAPE = (
    'each answer is a JSON array of {"referer", "message"}, message a v3 microprofile {"i", "r", "v", "e", "k", "c"}'
)
DOMAINS = "each configured domain returns profiles (an unknown domainName is answered with [])"
TIMESTAMPS = "k/c entries carry their time `t` as epoch seconds (milliseconds are read too)"
WINDOW = f"the answer covers the last {API_DAYS} days (no `t` older than {API_DAYS + WINDOW_SLACK_DAYS} days)"
GRAVITO_DATA = "e.gravitoData is a JSON string of {TCString, NonTCFVendors} (a trailing comma is tolerated)"
ROWS = (AUTH, VERSION, SHAPE, DOMAINS, TIMESTAMPS, WINDOW, GRAVITO_DATA)


#: the statuses a probe reports as its answer instead of stopping: every 4xx but the retried 408 and 429
REPORTED_STATUSES = frozenset(range(400, 500)) - {408, 429}


@dataclass
class DomainAnswer:
    domain: str
    status: int | None = None
    error: str = ""
    shape_error: str = ""  # the body is not the JSON array the tap assumes
    elements: int = 0
    profiles: int = 0
    not_objects: int = 0  # elements that are not {referer, message}
    unparsed: int = 0
    stamps: list[float] = field(default_factory=list)  # min and max only, kept as they come
    seconds: int = 0
    milliseconds: int = 0
    with_gravito_data: int = 0
    gravito_data_errors: int = 0

    def note_stamp(self, value: t.Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if value >= MILLISECONDS_FROM:
            self.milliseconds += 1
            value = value / 1000
        else:
            self.seconds += 1
        self.stamps = [min([value, *self.stamps]), max([value, *self.stamps])]


class Prober:
    def __init__(self, tap: VendorTap[GravitoSettings]) -> None:
        self.tap = tap
        #: the sync's own client (headers, pacing, retries), its requests counted under "probe"
        self.api = t.cast(GravitoApi, tap.api).for_stream("probe")

    def ask(self, domain: str) -> DomainAnswer:
        answer = DomainAnswer(domain)
        try:
            response = self.api.microprofiles(domain, tolerate=REPORTED_STATUSES)
        except TapkitError as exc:
            answer.error = str(exc)
            return answer
        answer.status = response.status
        try:
            if response.ok:
                for element in response.items():
                    self.note(answer, element)
        except TapkitError as exc:
            answer.shape_error = str(exc)
        finally:
            response.close()
        return answer

    @staticmethod
    def note(answer: DomainAnswer, element: t.Any) -> None:
        answer.elements += 1
        if not (isinstance(element, dict) and "message" in element):
            answer.not_objects += 1
        profile = parse_element(element)
        if profile.parse_error is not None:
            answer.unparsed += 1
            return
        answer.profiles += 1
        for entry in profile.keyring + profile.consents:
            answer.note_stamp(entry.get("t"))
        events = profile.message.get("e")
        if isinstance(events, dict) and "gravitoData" in events:
            answer.with_gravito_data += 1
            answer.gravito_data_errors += profile.gravito_data_error is not None

    def results(self) -> t.Iterator[probe.ProbeResult]:
        domains = list(self.tap.settings.domains)[:MAX_DOMAINS]
        version = self.tap.settings.gravito_version or DEFAULT_VERSION
        asked = f"GET /api/gp/gravitocustomerdata?domainName=<each of {len(domains)} domain(s)>"
        answers: list[DomainAnswer] = []
        for domain in domains:
            answer = self.ask(domain)
            answers.append(answer)
            if answer.status in (400, 401, 403):  # the same for every domain: ask no more
                break
        statuses = ", ".join(f"{a.domain}: HTTP {a.status}" if a.status else f"{a.domain}: {a.error}" for a in answers)
        refused_auth = [a for a in answers if a.status in (401, 403)]
        refused_version = [a for a in answers if a.status == 400]
        answered = [a for a in answers if a.status is not None and 200 <= a.status < 300]
        yield probe.result(AUTH, asked, statuses, False if refused_auth else (True if answered else None))
        yield probe.result(
            VERSION.format(version=version), asked, statuses, False if refused_version else (True if answered else None)
        )
        rest = (SHAPE, DOMAINS, TIMESTAMPS, WINDOW, GRAVITO_DATA)
        if not answered or len(answered) < len(answers):
            for assumption in rest:
                yield probe.could_not_tell(assumption, asked, f"not every domain answered ({statuses})")
            return
        yield from self.checks(asked, answered, len(self.tap.settings.domains))

    def checks(self, asked: str, answers: list[DomainAnswer], configured: int) -> t.Iterator[probe.ProbeResult]:
        elements = sum(a.elements for a in answers)
        not_objects = sum(a.not_objects for a in answers)
        unparsed = sum(a.unparsed for a in answers)
        profiles = sum(a.profiles for a in answers)
        shape_errors = [a.shape_error for a in answers if a.shape_error]
        if shape_errors:
            yield probe.result(SHAPE, asked, shape_errors[0], False)
        else:
            yield probe.result(
                SHAPE,
                asked,
                f"{elements} elements: {profiles} microprofiles, {unparsed} not microprofile JSON, "
                f"{not_objects} not {{referer, message}}",
                (not_objects == 0 and profiles > 0) if elements else None,
            )
        empty = [a.domain for a in answers if a.profiles == 0]
        checked = f" ({len(answers)} of {configured} checked)" if configured > len(answers) else ""
        yield probe.result(
            DOMAINS,
            asked,
            (f"no profiles: {', '.join(empty)}" if empty else f"every domain returned profiles ({profiles})") + checked,
            not empty,
        )
        seconds = sum(a.seconds for a in answers)
        milliseconds = sum(a.milliseconds for a in answers)
        yield probe.result(
            TIMESTAMPS,
            asked,
            f"{seconds} in seconds, {milliseconds} in milliseconds",
            (milliseconds == 0) if seconds + milliseconds else None,
        )
        stamps = [s for a in answers for s in a.stamps]
        if stamps:
            oldest = dt.datetime.fromtimestamp(min(stamps), tz=dt.UTC)
            limit = clock.now() - dt.timedelta(days=API_DAYS + WINDOW_SLACK_DAYS)
            yield probe.result(WINDOW, asked, f"oldest t: {oldest.isoformat()}", oldest >= limit)
        else:
            yield probe.could_not_tell(WINDOW, asked, "no timestamp in any answer")
        with_data = sum(a.with_gravito_data for a in answers)
        errors = sum(a.gravito_data_errors for a in answers)
        yield probe.result(
            GRAVITO_DATA,
            asked,
            f"{with_data} profiles with gravitoData, {errors} not a JSON object",
            (errors == 0) if with_data else None,
        )


def run(tap: VendorTap[GravitoSettings]) -> t.Iterator[probe.ProbeResult]:
    return Prober(tap).results()
