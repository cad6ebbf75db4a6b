"""The GDPR API's versions: where each one lives, when the vendor ends it, and the run's fallback.

Evidence (vendor-evidence.md): web-api-v2 `/api/v2/event-data` reached end of life 2024-04-20; admin/v3
is in "Active Long Time Support" until 2026-12-31; admin/v4 carries no end-of-life banner but documents
only `create-remove-customer-job` under event-data. [assumption] admin/v4's export operations carry
admin/v3's names (create-export-customer-job, job-status, export-customer-job-result).

So the default is admin-v4, and when one of its export paths answers 404 (or 410) the run falls back,
once, to admin-v3 for the jobs it creates (one warning naming both). A job is always polled and
downloaded on the version that created it (`api_version` in its job table entry), whatever the run
falls back to: a jid belongs to the API that issued it.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from tapkit import clock


@dataclass(frozen=True)
class ApiVersion:
    name: str  # the api_version setting's value
    vendor_name: str  # how the vendor's docs name it
    base_path: str
    end_of_life: dt.date | None  # None: the vendor announces none

    def ended(self, today: dt.date) -> bool:
        return self.end_of_life is not None and today > self.end_of_life

    def life(self, today: dt.date) -> str:
        if self.end_of_life is None:
            return "no end of life announced"
        verb = "reached" if self.ended(today) else "reaches"
        return f"{verb} end of life on {self.end_of_life.isoformat()}"


VERSIONS: dict[str, ApiVersion] = {
    version.name: version
    for version in (
        ApiVersion("admin-v4", "admin/v4", "/api/admin/v4/event-data", None),
        ApiVersion("admin-v3", "admin/v3", "/api/admin/v3/event-data", dt.date(2026, 12, 31)),
        ApiVersion("v2", "web-api-v2", "/api/v2/event-data", dt.date(2024, 4, 20)),
    )
}
DEFAULT_API_VERSION = "admin-v4"
#: where a run goes when a version's export paths are not served (admin-v4's are inferred, not documented)
FALLBACK = {"admin-v4": "admin-v3"}
#: the version tap-voyado 0.1.0 used when api_version was unset; its job table entries record no version
VERSION_0_1_DEFAULT = "v2"
#: HTTP statuses with which a version's path says "not served here" (when the body is no job status)
NOT_SERVED_STATUSES = frozenset({404, 410})


def today() -> dt.date:
    return clock.today()


def describe_setting() -> str:
    """The api_version setting's description: every allowed value, its path and its end of life.

    Dated, not relative to today: the generated README and plugin definitions must not age."""
    values = "; ".join(
        f"{v.name} ({v.vendor_name}, {v.base_path}, "
        f"{'end of life ' + v.end_of_life.isoformat() if v.end_of_life else 'no end of life announced'})"
        for v in VERSIONS.values()
    )
    return (
        f"The GDPR API version: {values}. The default {DEFAULT_API_VERSION} falls back, once per run, to "
        f"{FALLBACK[DEFAULT_API_VERSION]} when its export paths answer 404 (they are inferred from admin/v3's names). "
        "A job is always polled on the version that created it."
    )


def of_job(job: t.MutableMapping[str, t.Any], configured: str) -> str:
    """The version a job was created under, written into the entry when the state predates it."""
    version = job.get("api_version")
    if version not in VERSIONS:
        # tap-voyado 0.1.0 kept no version: an entry then came from the configured version, which was
        # v2 when unset (today's unset is the new default, admin-v4).
        version = VERSION_0_1_DEFAULT if configured == DEFAULT_API_VERSION else configured
        job["api_version"] = version
    return version


class NotServedError(Exception):
    """A version's path answered 404/410 without a job status document: that API is not served there."""

    def __init__(self, version: str, request: str, status: int) -> None:
        super().__init__(f"{request} answered HTTP {status}")
        self.version = version
        self.request = request
        self.status = status


class RunVersion:
    """The version this run creates jobs on: the configured one until its export path is not served."""

    def __init__(self, configured: str) -> None:
        self.configured = configured
        self.current = configured
        self.not_served: list[NotServedError] = []

    @property
    def fell_back(self) -> bool:
        return self.current != self.configured

    def fall_back(self, error: NotServedError) -> str | None:
        """After `error` on the current version: the version to try next (once per run), or None."""
        self.not_served.append(error)
        target = FALLBACK.get(error.version)
        if error.version != self.current or self.fell_back or target is None:
            return None
        self.current = target
        return target

    def fallback_warning(self) -> str:
        first, target = self.not_served[0], VERSIONS[self.current]
        return (
            f"the {VERSIONS[first.version].vendor_name} export API is not served: {first}. Its export paths are "
            f"inferred from admin/v3's names (the vendor documents only create-remove-customer-job under admin/v4). "
            f"This run creates its export jobs on {target.name} ({target.vendor_name}, which {target.life(today())}) "
            f"instead; set api_version to {target.name} to skip the {first.version} attempt."
        )

    def stop_message(self) -> str:
        """One line for a run that cannot create jobs on any version it may use."""
        now = today()
        named = [VERSIONS[e.version] for e in self.not_served]
        tried = "; ".join(f"{e.version}: {e}" for e in self.not_served)
        if len(named) == 1:
            what = f"the export API of api_version {named[0].name} ({named[0].vendor_name}, which {named[0].life(now)})"
            verb = "is not"
        else:
            first, last = named[0], named[-1]
            what = (
                f"neither the export API of api_version {first.name} "
                f"({first.vendor_name}, paths inferred from admin/v3) "
                f"nor its fallback {last.name} ({last.vendor_name}, which {last.life(now)})"
            )
            verb = "is"
        return (
            f"{what} {verb} served at this host ({tried}); check cluster_id or api_url, and set api_version "
            f"to a version the account serves ({', '.join(VERSIONS)})"
        )
