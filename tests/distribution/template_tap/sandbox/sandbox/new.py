"""A throwaway vendor's simulator (tests/distribution/test_new_tap_template.py): `GET /lists/<list>/items`."""

from __future__ import annotations

import typing as t

from sandbox.core import Request, Response, VendorApp
from sandbox.profiles import Benchmark, BenchStream, VendorProfile

LISTS = ("red", "green")


class NewApp(VendorApp):
    name = "new"

    def items(self, list_name: str) -> list[dict]:
        return [{"id": f"{list_name}-{n}", "name": f"item {n}"} for n in range(3 * self.size)]

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "lists" and parts[2] == "items":
            return Response.json({"data": self.items(parts[1])})
        return Response.json({"error": "not found"}, status=404)

    def ground_truth(self, lists: t.Iterable[str] = LISTS, **_: t.Any) -> dict[str, list[dict]]:
        return {"items": [{"list": name, **item} for name in lists for item in self.items(name)]}


PROFILE = VendorProfile(
    vendor="new",
    label="New",
    tap="tap-new",
    tap_class="tap_new.tap:TapNew",
    source="source-new",
    order=99,
    secrets=("api_key",),
    auth_check="api_key",
    meltano_settings={"lists": list(LISTS)},
    test_settings=lambda _scratch: {"lists": list(LISTS)},
    expected_rows=lambda sandbox, config: {
        "items": len(sandbox.app("new").ground_truth(lists=config["lists"])["items"])
    },
    records_path="/items",
    state_bookmark=("items", "replication_key_value"),
    benchmark=Benchmark(
        largest=BenchStream("items", "items", r"/items", settings=lambda: {"lists": list(LISTS)}),
        no_single_answer="a throwaway",
        many_pages_sandbox={"size": 10},
        many_pages_settings=dict,
    ),
    static_discovery=True,
    fan_out="lists",
)
