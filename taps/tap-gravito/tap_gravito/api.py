"""Gravito customer data access API: the vendor's quirks, in one place (vendor-api.md section 1).

- one endpoint, `GET /api/gp/gravitocustomerdata?domainName=<domain>`, headers `gravitoaccess`
  (the token) and `gravitoversion`; no paging, no time filter: every call returns the domain's
  last seven days;
- the body is a JSON array of {referer, message}; see `microprofile` for what is inside;
- one response feeds all five streams, so the tap fetches each domain once per run (`feeds.DomainFeeds`)
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
  state (`fingerprints`) and emit a profile again when its content changed;
- no error envelope is documented: errors are HTTP statuses only (the kit's mapping), and a 200
  whose body is not a JSON array is a clear error when it is read (`VendorResponse.items`).
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tapkit.http import VendorApi

if t.TYPE_CHECKING:
    from collections.abc import Collection

    from tap_gravito.settings import GravitoSettings
    from tapkit.http import VendorResponse

API_DAYS = 7  # the API serves the last seven days only
CUSTOMER_DATA = "/api/gp/gravitocustomerdata"
DEFAULT_VERSION = "v3"


class GravitoApi(VendorApi):
    """One method per Gravito endpoint (there is one)."""

    settings: GravitoSettings

    @override
    def auth_headers(self) -> dict[str, str]:
        return {
            "gravitoaccess": self.settings.access_token,
            "gravitoversion": self.settings.gravito_version or DEFAULT_VERSION,
        }

    def microprofiles(self, domain: str, *, tolerate: Collection[int] = ()) -> VendorResponse:
        """`GET /api/gp/gravitocustomerdata?domainName=<domain>`: the domain's microprofiles of the last
        seven days, a JSON array of {referer, message} (read it with `items()`)."""
        return self.get(
            CUSTOMER_DATA,
            {"domainName": domain},
            endpoint=CUSTOMER_DATA,
            context={"domain": domain},
            tolerate=tolerate,
        )
