"""The GDPR API's versions: where each one lives, when the vendor ends it, and the run's fallback chain.

Evidence (vendor-evidence.md): web-api-v2 `/api/v2/event-data` reached end of life 2024-04-20; admin/v3
is in "Active Long Time Support" until 2026-12-31; admin/v4 carries no end-of-life banner but documents
only `create-remove-customer-job` under event-data. [assumption] admin/v4's export operations carry
admin/v3's names (create-export-customer-job, job-status, export-customer-job-result). Third round:
every resource moves to each new version's path, a new admin version comes at most twice a year and
long-time support lasts about 18 months, so this table goes stale; [assumption] a later admin/vN keeps
the same operation names under /api/admin/vN/event-data.

So `VERSIONS` is the chain of known versions, newest first, and the default is its head. A run that
starts at the default walks the whole chain: when one version's export path answers 404 (or 410) the
jobs it creates go to the next older one (one warning per step), down to the oldest. A version picked
in api_version below the newest is a pin and never falls back. A later admin version the table does
not know yet (`admin-v5`, ...) may be set in api_version (`named`); it falls back along the chain too.
`--probe` asks each version, the next unknown admin version first, and reports the newest that answers.
A job is always polled and downloaded on the version that created it (`api_version` in its job table
entry), whatever the run falls back to: a jid belongs to the API that issued it.
"""

from __future__ import annotations

import datetime as dt
import re
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


#: the known versions, newest first: the run's fallback chain (see the module doc)
VERSIONS: dict[str, ApiVersion] = {
    version.name: version
    for version in (
        ApiVersion("admin-v4", "admin/v4", "/api/admin/v4/event-data", None),
        ApiVersion("admin-v3", "admin/v3", "/api/admin/v3/event-data", dt.date(2026, 12, 31)),
        ApiVersion("v2", "web-api-v2", "/api/v2/event-data", dt.date(2024, 4, 20)),
    )
}
CHAIN: tuple[str, ...] = tuple(VERSIONS)
DEFAULT_API_VERSION = CHAIN[0]
#: the version tap-voyado 0.1.0 used when api_version was unset; its job table entries record no version
VERSION_0_1_DEFAULT = "v2"
#: HTTP statuses with which a version's path says "not served here" (when the body is no job status)
NOT_SERVED_STATUSES = frozenset({404, 410})
#: a later admin version than the table knows: admin-v<N>
LATER_ADMIN = re.compile(r"admin-v(?P<number>[1-9][0-9]*)")


def admin_number(name: str) -> int | None:
    match = LATER_ADMIN.fullmatch(name)
    return int(match["number"]) if match else None


NEWEST_KNOWN_ADMIN = max(number for name in CHAIN if (number := admin_number(name)) is not None)


def named(name: str) -> ApiVersion | None:
    """The version an api_version value names: a known one, or a later admin version (paths inferred)."""
    if name in VERSIONS:
        return VERSIONS[name]
    number = admin_number(name)
    if number is None or number <= NEWEST_KNOWN_ADMIN:
        return None
    return ApiVersion(name, f"admin/v{number}", f"/api/admin/v{number}/event-data", None)


def version(name: str) -> ApiVersion:
    """As `named`, for a value already checked (the setting, a job table entry)."""
    found = named(name)
    if found is None:
        raise KeyError(name)
    return found


def next_unknown() -> ApiVersion:
    """The admin version after the newest the table knows (what `--probe` asks first)."""
    return version(f"admin-v{NEWEST_KNOWN_ADMIN + 1}")


def allowed_values() -> str:
    return f"{', '.join(CHAIN)} or a later admin-v<N>"


def fallbacks(configured: str) -> tuple[str, ...]:
    """The versions a run that starts at `configured` may fall back to, in order.

    The whole chain for the default and for a later admin version; nothing for a pinned older one."""
    if configured in VERSIONS and configured != DEFAULT_API_VERSION:
        return ()
    return tuple(name for name in CHAIN if name != configured)


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
        f"The GDPR API version: {values}; or a later admin-v<N> (paths inferred from admin/v3's names). The default "
        f"{DEFAULT_API_VERSION} falls back, along that list, to the next older version whose export paths answer "
        "(a version picked below the newest never falls back). A job is always polled on the version that created it."
    )


def of_job(job: t.MutableMapping[str, t.Any], configured: str) -> str:
    """The version a job was created under, written into the entry when the state predates it."""
    version = job.get("api_version")
    if not isinstance(version, str) or named(version) is None:
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
    """The version this run creates jobs on: the configured one, then down the chain while not served."""

    def __init__(self, configured: str) -> None:
        self.configured = configured
        self.current = configured
        self.not_served: list[NotServedError] = []

    @property
    def fell_back(self) -> bool:
        return self.current != self.configured

    def fall_back(self, error: NotServedError) -> str | None:
        """After `error` on the current version: the next version of the chain to try, or None (none left)."""
        self.not_served.append(error)
        if error.version != self.current:
            return None
        tried = {e.version for e in self.not_served}
        target = next((name for name in fallbacks(self.configured) if name not in tried), None)
        if target is None:
            return None
        self.current = target
        return target

    def fallback_warning(self) -> str:
        last, target = self.not_served[-1], VERSIONS[self.current]
        return (
            f"the {version(last.version).vendor_name} export API is not served: {last}. "
            f"This run creates its export jobs on {target.name} ({target.vendor_name}, which {target.life(today())}), "
            f"the next older version the tap knows, instead; set api_version to {target.name} to skip the attempt "
            f"(tap-voyado --probe reports the newest version whose export paths answer)."
        )

    def stop_message(self) -> str:
        """One line for a run that cannot create jobs on any version it may use."""
        now = today()
        named_ = [version(e.version) for e in self.not_served]
        tried = "; ".join(f"{e.version}: {e}" for e in self.not_served)
        if len(named_) == 1:
            what = (
                f"the export API of api_version {named_[0].name} ({named_[0].vendor_name}, which {named_[0].life(now)})"
            )
            verb = "is not"
        else:
            listed = ", ".join(f"{v.name} ({v.vendor_name}, which {v.life(now)})" for v in named_)
            what = f"no export API of api_version {self.configured} or its fallbacks ({listed})"
            verb = "is"
        return (
            f"{what} {verb} served at this host ({tried}); check cluster_id or api_url, run tap-voyado --probe "
            f"(it reports the newest version whose export paths answer) and set api_version to it "
            f"({allowed_values()})"
        )
