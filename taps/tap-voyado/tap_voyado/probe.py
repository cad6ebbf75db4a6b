"""`tap-voyado --probe`: the tap's assumptions about the GDPR API, checked with read-only requests.

It never creates (or removes) a job: every request names a made-up jid, which no export can have, so
asking for its status or its result reads nothing and deletes nothing. The job status on the configured
version and on each version it may fall back to, then on the next admin version the tap does not know
yet (to report the newest version whose export paths answer), then the result: five requests at most.
"""

from __future__ import annotations

import typing as t
import uuid

from tap_voyado import versions
from tap_voyado.api import VoyadoApi, status_document
from tapkit import TapkitError, VendorResponse, probe
from tapkit.errors import AuthenticationError

if t.TYPE_CHECKING:
    from tap_voyado.settings import VoyadoSettings
    from tapkit.tap import VendorTap

#: the documented answer for a jid the vendor does not know
UNKNOWN_JOB_STATUS = "not_found"


def made_up_jid() -> str:
    return str(uuid.uuid4())


def probe_rows(tap: VendorTap[VoyadoSettings]) -> t.Iterator[probe.ProbeResult]:
    api = t.cast("VoyadoApi", tap.api).for_stream("probe")
    configured = versions.version(api.configured_version)
    yield version_life_row(configured)

    jid = made_up_jid()
    served: list[tuple[str, VendorResponse]] = []
    for index, name in enumerate((configured.name, *versions.fallbacks(configured.name))):
        row, response, stop = served_row(api, name, jid, fallback_of=configured.name if index else None)
        yield row
        if stop:  # the key was refused, or the host did not answer: nothing further can be told
            for assumption in (newest_assumption(configured.name), UNKNOWN_STATUS_ASSUMPTION, RESULT_ASSUMPTION):
                yield probe.could_not_tell(assumption, "(not asked)", row.answered)
            return
        if response is not None:
            served.append((name, response))
    yield newest_row(api, configured.name, [name for name, _ in served], jid)
    if not served:
        for assumption in (UNKNOWN_STATUS_ASSUMPTION, RESULT_ASSUMPTION):
            yield probe.could_not_tell(assumption, "(not asked)", "no API version the tap may use is served")
        return
    version, status_response = served[0]
    yield unknown_status_row(version, jid, status_response)
    yield result_row(api, version, jid)


def newer_than(configured: str) -> versions.ApiVersion:
    """The admin version after both the table's newest and `configured` (a later one may be set)."""
    number = max(versions.NEWEST_KNOWN_ADMIN, versions.admin_number(configured) or 0) + 1
    return versions.version(f"admin-v{number}")


def newest_assumption(configured: str) -> str:
    newer = newer_than(configured)
    return (
        f"api_version {configured} is the newest version whose export paths answer "
        f"(none newer, {newer.name} included: paths inferred from admin/v3)"
    )


def newest_row(api: VoyadoApi, configured: str, served: list[str], jid: str) -> probe.ProbeResult:
    """The newest version whose export paths answer: the next unknown admin version, else the newest of
    the chain (newest first) that answers; versions the chain rows already asked are not asked again.
    It holds when that is the configured version."""
    newer = newer_than(configured)
    asked_before = {configured, *versions.fallbacks(configured)}
    newest_first = [newer.name, *([] if configured in versions.CHAIN else [configured]), *versions.CHAIN]
    candidates = [name for name in newest_first if name not in asked_before or name in served]
    asked: list[str] = []
    newest: str | None = None
    for name in candidates:
        if name in served:
            newest = name
            break
        asked.append(f"GET {versions.version(name).base_path}/job-status?jid=<made-up>")
        try:
            api.job_status_answer(jid, name).close()
        except versions.NotServedError:
            continue
        except TapkitError as exc:
            return probe.could_not_tell(newest_assumption(configured), "; ".join(asked), exc)
        newest = name
        break
    answered = (
        f"the newest version whose export paths answer is {newest}"
        if newest
        else "no version the tap knows (or the next one) answers"
    )
    if newest and newest != configured:
        answered += f": set api_version to {newest}"
    return probe.result(newest_assumption(configured), "; ".join(asked), answered, newest == configured)


def version_life_row(version: versions.ApiVersion) -> probe.ProbeResult:
    today = versions.today()
    return probe.result(
        f"api_version {version.name} ({version.vendor_name}) has not reached its end of life",
        "the vendor's docs (no request)",
        f"{version.life(today)}; today is {today.isoformat()}",
        not version.ended(today),
    )


def served_row(
    api: VoyadoApi, version: str, jid: str, *, fallback_of: str | None
) -> tuple[probe.ProbeResult, VendorResponse | None, bool]:
    """Whether the version's job-status path answers (with the Api-Key accepted) at the configured host;
    the response when it does; whether the probe must stop (a refused key, no answer at all)."""
    name = f"{version}, a fallback of {fallback_of}," if fallback_of else f"api_version {version}"
    inferred = " (paths inferred from admin/v3)" if (versions.admin_number(version) or 0) > 3 else ""
    assumption = f"{name} serves the export API{inferred} at {api.host} and accepts the Api-Key header"
    asked = f"GET {versions.version(version).base_path}/job-status?jid=<made-up>"
    try:
        response = api.job_status_answer(jid, version)
    except versions.NotServedError as exc:
        return probe.result(assumption, asked, str(exc), False), None, False
    except AuthenticationError as exc:
        return probe.result(assumption, asked, str(exc), False), None, True
    except TapkitError as exc:
        return probe.could_not_tell(assumption, asked, exc), None, True
    return probe.result(assumption, asked, answer_of(response), True), response, False


UNKNOWN_STATUS_ASSUMPTION = "job-status answers HTTP 200 with {jid, status: not_found} for a job that does not exist"
RESULT_ASSUMPTION = (
    "export-customer-job-result answers HTTP 200 with a job status document (not an HTTP error) for a job "
    "it cannot hand out"
)


def unknown_status_row(version: str, jid: str, response: VendorResponse) -> probe.ProbeResult:
    asked = f"GET {versions.version(version).base_path}/job-status?jid=<made-up>"
    document = status_document(response)
    holds = (
        response.status == 200
        and document is not None
        and document.get("status") == UNKNOWN_JOB_STATUS
        and document.get("jid") == jid
    )
    return probe.result(UNKNOWN_STATUS_ASSUMPTION, asked, answer_of(response), holds)


def result_row(api: VoyadoApi, version: str, jid: str) -> probe.ProbeResult:
    asked = f"GET {versions.version(version).base_path}/export-customer-job-result?jid=<made-up>"
    try:
        response = api.export_result_answer(jid, version)
    except versions.NotServedError as exc:
        return probe.result(RESULT_ASSUMPTION, asked, str(exc), False)
    except TapkitError as exc:
        return probe.could_not_tell(RESULT_ASSUMPTION, asked, exc)
    document = status_document(response)
    holds = response.status == 200 and document is not None
    return probe.result(RESULT_ASSUMPTION, asked, answer_of(response), holds)


def answer_of(response: VendorResponse) -> str:
    """`HTTP 200 {...}`: the status and the start of the body."""
    head = response.body.head(160).decode("utf-8", "replace")
    return f"HTTP {response.status} {head}"
