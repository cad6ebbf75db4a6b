"""The throwaway vendor's API: one endpoint, `GET /lists/<list>/items`, key in the `X-Api-Key` header, the items
in the answer's `data` array."""

from __future__ import annotations

import typing as t

from tapkit.http import VendorApi

if t.TYPE_CHECKING:
    from tapkit.http import VendorResponse


class NewApi(VendorApi):
    """One method per endpoint."""

    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.config["api_key"]}

    def items(self, list_name: str) -> VendorResponse:
        """`GET /lists/<list>/items`: {"data": [{"id", "name"}, ...]}."""
        return self.get(f"/lists/{list_name}/items", endpoint="/lists/{list}/items", context={"list": list_name})
