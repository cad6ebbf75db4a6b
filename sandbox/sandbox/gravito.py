"""Gravito customer data access API simulator (vendor-api.md section 1).

GET /api/gp/gravitocustomerdata?domainName=<domain>, header `gravitoaccess: <token>` (missing:
401), optional `gravitoversion` (v3 only) -> a JSON array of {referer, message}, message a JSON
string {i, r, v, e, k, c}; e.gravitoData is a JSON string again, written with the vendor's
trailing comma for some profiles. Each domain also holds a profile without timestamps, an older
snapshot of one profile (same id), TC strings that do not decode, and messages that are not JSON.
Timestamps fall in the seven days before `sandbox.today()`; unknown domains get `[]`.

`add_changes(domain, new_profiles=, updated_profiles=, at=)` appends consent events (and new
profiles) after a first sync, for incremental tests.

Switches (`Sandbox.settings`): "gravito.drift" = "add" (a new top-level message field `l` and a new
consent field `src`), "remove" (consent entries lose `s`), "retype" (consent `s` becomes "yes"/"no").

Variants (`VARIANTS`): readings the docs leave open. `changed-without-timestamp` is the data after
a change: switch it on between two syncs to serve some profiles with new content (matchOnId, TC
string) under the same `k`/`c` timestamps (`changed_profile_ids` names them).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import typing as t
import uuid
from dataclasses import dataclass, field

from typing_extensions import override

from sandbox.core import Request, Response, VendorApp
from sandbox.jsonbody import json_array_chunks
from sandbox.profiles import (
    Benchmark,
    BenchStream,
    FailingPart,
    Partitions,
    Probe,
    VendorProfile,
    partition_state,
)

PATH = "/api/gp/gravitocustomerdata"
DOMAINS = ("shop.example.com", "news.example.org", "travel.example.net")
WINDOW_DAYS = 7
CONSENT_IDS = (("t", "consent1"), ("m", "consent2"), ("n", "consent3"), ("a", "analytics"))
KEY_NAMES = ("GAID", "GMID", "KID", "EMAILHASH")
NON_TCF = ((1, "Facebook"), (3, "Google"), (9, "Twitter"), (10, "Wordpress"), (15, "Linkedin"), (16, "Microsoft"))
BROKEN_TC_STRINGS = ("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", "CPVMwM", "not a tc string")  # v1, truncated, not base64url
INVALID_MESSAGES = ('{"i":"cut-off-profile","r":', "<html>gateway</html>")


# -- an independent TCF v2 core-segment encoder (the tap has its own decoder) -----------------


@dataclass
class TcModel:
    created: dt.datetime
    last_updated: dt.datetime
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_feature_optins: list[int]
    purposes_consented: list[int]
    purposes_legitimate_interest: list[int]
    purpose_one_treatment: bool
    publisher_country_code: str
    vendors_consented: list[int]
    vendors_legitimate_interest: list[int]
    ranges: bool = False  # encode vendor sections as ranges instead of bit fields
    publisher_segment: str = ""  # a later segment (".YAAAAAAAAMAA"), ignored by core decoders

    def truth(self) -> dict[str, t.Any]:
        values = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("ranges", "publisher_segment")
        }
        values["created"] = self.created.isoformat()
        values["last_updated"] = self.last_updated.isoformat()
        values["tcf_version"] = 2
        return values


def _uint(value: int, width: int) -> str:
    return format(value, f"0{width}b")


def _flags(ids: t.Iterable[int], width: int) -> str:
    bits = ["0"] * width
    for n in ids:
        if 1 <= n <= width:
            bits[n - 1] = "1"
    return "".join(bits)


def _letters(text: str) -> str:
    return "".join(_uint(ord(char) - ord("A"), 6) for char in text)


def _vendors(ids: list[int], ranges: bool) -> str:
    top = max(ids, default=0)
    if not ranges:
        return _uint(top, 16) + "0" + _flags(ids, top)
    runs: list[list[int]] = []
    for vendor in sorted(set(ids)):
        if runs and runs[-1][1] == vendor - 1:
            runs[-1][1] = vendor
        else:
            runs.append([vendor, vendor])
    body = "".join("1" + _uint(a, 16) + _uint(b, 16) if a != b else "0" + _uint(a, 16) for a, b in runs)
    return _uint(top, 16) + "1" + _uint(len(runs), 12) + body


def encode_tc_string(model: TcModel) -> str:
    deciseconds = lambda when: round(when.timestamp() * 10)  # noqa: E731
    bits = (
        _uint(2, 6)
        + _uint(deciseconds(model.created), 36)
        + _uint(deciseconds(model.last_updated), 36)
        + _uint(model.cmp_id, 12)
        + _uint(model.cmp_version, 12)
        + _uint(model.consent_screen, 6)
        + _letters(model.consent_language)
        + _uint(model.vendor_list_version, 12)
        + _uint(model.policy_version, 6)
        + _uint(model.is_service_specific, 1)
        + _uint(model.use_non_standard_texts, 1)
        + _flags(model.special_feature_optins, 12)
        + _flags(model.purposes_consented, 24)
        + _flags(model.purposes_legitimate_interest, 24)
        + _uint(model.purpose_one_treatment, 1)
        + _letters(model.publisher_country_code)
        + _vendors(model.vendors_consented, model.ranges)
        + _vendors(model.vendors_legitimate_interest, model.ranges)
        + _uint(0, 12)  # NumPubRestrictions
    )
    bits += "0" * (-len(bits) % 8)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bits += "0" * (-len(bits) % 6)
    return "".join([alphabet[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6)]) + model.publisher_segment


# -- the data ------------------------------------------------------------------------------------


@dataclass
class Profile:
    profile_id: str
    domain: str
    events: dict
    keyring: list[dict] = field(default_factory=list)
    consents: list[dict] = field(default_factory=list)
    tc: TcModel | None = None
    tc_string: str | None = None  # set for strings that must not decode
    non_tcf: list[dict] | None = None
    trailing_comma: bool = False

    @property
    def updated_at(self) -> int | None:
        stamps = [entry["t"] for entry in self.keyring + self.consents]
        return max(stamps) if stamps else None

    @property
    def raw_tc_string(self) -> str | None:
        return encode_tc_string(self.tc) if self.tc else self.tc_string

    def gravito_data_text(self) -> str | None:
        tc_string = self.raw_tc_string  # encoded once: the simulator's cost must not mask the tap's
        if tc_string is None and self.non_tcf is None:
            return None
        parts = []
        if tc_string is not None:
            parts.append('"TCString":' + json.dumps(tc_string))
        if self.non_tcf is not None:
            vendors = ",".join(json.dumps(v, separators=(",", ":")) for v in self.non_tcf)
            parts.append('"NonTCFVendors":[' + vendors + ("," if self.trailing_comma and vendors else "") + "]")
        return "{" + ",".join(parts) + "}"


UNKNOWN_DOMAIN = DOMAINS[2]  # the configured domain that `unknown-domain` makes Gravito not know
CHANGED_EVERY = 3  # under changed-without-timestamp, generated profiles n % 3 == 1 change
CHANGED_PREFIX = "changed-"


class GravitoApp(VendorApp):
    name = "gravito"
    VARIANTS: t.ClassVar[dict[str, str]] = {
        "changed-without-timestamp": "some profiles are served with a new matchOnId "
        "and TC string but the same k/c timestamps",
        "unknown-domain": f"{UNKNOWN_DOMAIN} answers [] (no profiles), as a mistyped or unknown domainName is answered",
        "timestamps-in-milliseconds": "k/c timestamps `t` are epoch milliseconds (JavaScript's clock), not seconds",
    }

    def __init__(self, sandbox: t.Any) -> None:
        super().__init__(sandbox)
        self._changes: list[tuple[str, int, int, int]] = []

    def reset(self) -> None:
        self._changes.clear()

    def add_changes(self, domain: str, *, new_profiles: int = 0, updated_profiles: int = 0, at: dt.datetime) -> None:
        """New consent events at `at` for the first `updated_profiles` timed profiles, plus new profiles."""
        self._changes.append((domain, new_profiles, updated_profiles, int(at.timestamp())))

    # -- the API ------------------------------------------------------------------------------

    @override
    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") != PATH or request.method != "GET":
            return Response.json({"message": "Not Found"}, status=404)
        if not request.headers.get("gravitoaccess"):
            return Response.json({"message": "Unauthorized"}, status=401)
        if (request.headers.get("gravitoversion") or "v3") != "v3":
            return Response.json({"message": "Unsupported gravitoversion"}, status=400)
        domain = request.arg("domainName") or ""
        return Response(body=json_array_chunks(self.elements(domain)))

    @override
    def envelope_error(self, request: Request) -> Response:
        # No error envelope is documented; a 200 whose body is an object instead of the array.
        return Response.json({"message": "An error has occurred."})

    # -- ground truth -------------------------------------------------------------------------

    @override
    def ground_truth(self, domains: t.Iterable[str] = DOMAINS, **_: t.Any) -> dict[str, list[dict]]:
        """What each stream must yield on a first sync of `domains` (one row per primary key)."""
        truth: dict[str, list[dict]] = {
            name: []
            for name in (
                "microprofiles",
                "consents",
                "keyring",
                "tcf_consents",
                "non_tcf_vendor_consents",
                "unparsed_messages",
            )
        }
        for domain in domains:
            for profile in self.profiles(domain):  # the latest snapshot of each id only
                updated = _iso(profile.updated_at)
                truth["microprofiles"].append(
                    {
                        "domain": domain,
                        "profile_id": profile.profile_id,
                        "updated_at": updated,
                        "match_on_id": profile.events.get("matchOnId"),
                        "consent_count": len(profile.consents),
                        "key_count": len(profile.keyring),
                        "has_gravito_data": profile.gravito_data_text() is not None,
                    }
                )
                for entry in profile.consents:
                    truth["consents"].append(
                        {
                            "domain": domain,
                            "profile_id": profile.profile_id,
                            "consent_id": entry["i"],
                            "consent_name": entry["c"],
                            "granted": entry["s"],
                            "recorded_at": _iso(entry["t"]),
                        }
                    )
                for entry in profile.keyring:
                    truth["keyring"].append(
                        {
                            "domain": domain,
                            "profile_id": profile.profile_id,
                            "key_id": entry["i"],
                            "key_name": entry["k"],
                            "key_value": entry["v"],
                            "recorded_at": _iso(entry["t"]),
                        }
                    )
                if profile.raw_tc_string is not None:
                    decoded = profile.tc.truth() if profile.tc else None
                    truth["tcf_consents"].append(
                        {
                            "domain": domain,
                            "profile_id": profile.profile_id,
                            "profile_updated_at": updated,
                            "tc_string": profile.raw_tc_string,
                            "decodes": decoded is not None,
                            "decoded": decoded,
                        }
                    )
                for vendor in profile.non_tcf or []:
                    truth["non_tcf_vendor_consents"].append(
                        {
                            "domain": domain,
                            "profile_id": profile.profile_id,
                            "profile_updated_at": updated,
                            "vendor_id": vendor["id"],
                            "vendor_name": vendor["name"],
                            "consent": vendor["consent"],
                        }
                    )
            truth["unparsed_messages"].extend(
                {"domain": domain, "raw_message": text} for text in self.invalid_messages(domain)
            )
        return truth

    # -- data -----------------------------------------------------------------------------------

    def _rng(self, *parts: t.Any) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _window(self) -> tuple[int, int]:
        end = dt.datetime.combine(self.today(), dt.time(), tzinfo=dt.UTC)
        return int((end - dt.timedelta(days=WINDOW_DAYS - 1)).timestamp()), int(end.timestamp()) - 1

    def profiles(self, domain: str) -> list[Profile]:
        per_domain = self.sandbox.settings.get("gravito.profiles_per_domain")  # benchmarks: any domain, any size
        if domain not in DOMAINS and not per_domain:
            return []
        if domain == UNKNOWN_DOMAIN and self.variant("unknown-domain"):
            return []
        rng = self._rng("gravito", domain)
        first, last = self._window()
        count = int(per_domain) if per_domain else (6 + DOMAINS.index(domain) * 2) * self.size
        profiles = [self._profile(domain, rng, n, first, last) for n in range(count)]
        if self.variant("changed-without-timestamp"):
            for n, profile in enumerate(profiles):
                if n % CHANGED_EVERY == 1:
                    _change_content(profile)
        # The vendor's own shape: a profile with events only (no keyring, no consents, no time).
        profiles.append(
            Profile(str(uuid.UUID(int=rng.getrandbits(128))), domain, {"id1": "abcd", "matchOnId": "Id001"})
        )
        for change_domain, new, updated, at in self._changes:
            if change_domain != domain:
                continue
            timed = [profile for profile in profiles if profile.updated_at is not None]
            for profile in timed[:updated]:
                profile.consents.append({"i": "t", "c": "consent1", "s": True, "t": at})
            for n in range(new):
                profile = self._profile(domain, self._rng("gravito-new", domain, at, n), 1000 + n, at, at)
                profiles.append(profile)
        return profiles

    def _profile(self, domain: str, rng: random.Random, n: int, first: int, last: int) -> Profile:
        profile_id = str(uuid.UUID(int=rng.getrandbits(128)))
        profile = Profile(profile_id, domain, {"id1": f"id-{n}", "matchOnId": f"{rng.getrandbits(64):016x}"})
        stamps = sorted(rng.randint(first, last) for _ in range(rng.randint(1, 4)))
        for stamp in stamps:
            for consent_id, consent_name in rng.sample(CONSENT_IDS, rng.randint(1, 3)):
                profile.consents.append({"i": consent_id, "c": consent_name, "s": rng.random() < 0.6, "t": stamp})
        for key_name in rng.sample(KEY_NAMES, rng.randint(0, 3)):
            value = f"{key_name.lower()}-{rng.getrandbits(40):010x}"
            profile.keyring.append({"i": value, "k": key_name, "v": value, "t": rng.choice(stamps)})
        if n % 4 != 3:  # most profiles went through the CMP
            profile.non_tcf = [
                {"id": vid, "name": vname, "consent": rng.random() < 0.7}
                for vid, vname in NON_TCF
                if rng.random() < 0.6
            ]
            profile.trailing_comma = n % 2 == 0
            if n % 5 == 4:
                profile.tc_string = BROKEN_TC_STRINGS[n % len(BROKEN_TC_STRINGS)]
            else:
                profile.tc = self._tc_model(rng, stamps[0], n)
        return profile

    def _tc_model(self, rng: random.Random, stamp: int, n: int) -> TcModel:
        created = dt.datetime.fromtimestamp(stamp - stamp % 86400, tz=dt.UTC)
        return TcModel(
            created=created,
            last_updated=created + dt.timedelta(seconds=rng.randint(0, 3600), milliseconds=100 * rng.randint(0, 9)),
            cmp_id=rng.choice([84, 300, 7]),
            cmp_version=rng.randint(1, 12),
            consent_screen=rng.randint(0, 5),
            consent_language=rng.choice(["FI", "EN", "SV"]),
            vendor_list_version=rng.randint(100, 250),
            policy_version=rng.choice([2, 4]),
            is_service_specific=rng.random() < 0.8,
            use_non_standard_texts=rng.random() < 0.1,
            special_feature_optins=sorted(rng.sample(range(1, 3), rng.randint(0, 2))),
            purposes_consented=sorted(rng.sample(range(1, 11), rng.randint(0, 10))),
            purposes_legitimate_interest=sorted(rng.sample(range(2, 11), rng.randint(0, 5))),
            purpose_one_treatment=rng.random() < 0.1,
            publisher_country_code=rng.choice(["FI", "SE", "AA"]),
            vendors_consented=sorted(rng.sample(range(1, 1000), rng.randint(0, 40))),
            vendors_legitimate_interest=sorted(rng.sample(range(1, 1000), rng.randint(0, 20))),
            ranges=n % 2 == 1,
            publisher_segment=".YAAAAAAAAMAA" if n % 3 == 0 else "",
        )

    def changed_profile_ids(self, domain: str) -> list[str]:
        """While `changed-without-timestamp` is on: the profiles it serves with new content (same ids,
        same timestamps)."""
        return [
            p.profile_id for p in self.profiles(domain) if str(p.events.get("matchOnId", "")).startswith(CHANGED_PREFIX)
        ]

    def invalid_messages(self, domain: str) -> list[str]:
        if domain == UNKNOWN_DOMAIN and self.variant("unknown-domain"):
            return []
        return list(INVALID_MESSAGES) if domain in DOMAINS else []

    def elements(self, domain: str) -> t.Iterator[dict]:
        drift = self.sandbox.settings.get("gravito.drift")
        profiles = self.profiles(domain)
        if profiles and profiles[0].consents:
            # An older snapshot of the first profile, served before the latest one (same id).
            older = Profile(profiles[0].profile_id, domain, dict(profiles[0].events), consents=profiles[0].consents[:1])
            yield {"referer": domain, "message": self._message(older, drift)}
        for index, profile in enumerate(profiles):
            yield {"referer": domain, "message": self._message(profile, drift)}
            if index < len(INVALID_MESSAGES) and domain in DOMAINS:
                yield {"referer": domain, "message": INVALID_MESSAGES[index]}

    def _stamp(self, seconds: int) -> int:
        return seconds * 1000 if self.variant("timestamps-in-milliseconds") else seconds

    def _message(self, profile: Profile, drift: str | None) -> str:
        events = dict(profile.events)
        gravito_data = profile.gravito_data_text()
        if gravito_data is not None:
            events["gravitoData"] = gravito_data
        consents = [{**entry, "t": self._stamp(entry["t"])} for entry in profile.consents]
        keyring = [{**entry, "t": self._stamp(entry["t"])} for entry in profile.keyring]
        for entry in consents:
            if drift == "add":
                entry["src"] = "web"
            elif drift == "remove":
                del entry["s"]
            elif drift == "retype":
                entry["s"] = "yes" if entry["s"] else "no"
        message: dict[str, t.Any] = {
            "i": profile.profile_id,
            "r": profile.domain,
            "v": "v3",
            "e": events,
            "k": keyring,
            "c": consents,
        }
        if drift == "add":
            message["l"] = "fi"
        return json.dumps(message, separators=(",", ":"))


def _change_content(profile: Profile) -> None:
    """New events content under the same timestamps: another matchOnId, and a TC string of another CMP version."""
    profile.events["matchOnId"] = CHANGED_PREFIX + profile.events["matchOnId"]
    if profile.tc is not None:
        profile.tc.cmp_version = profile.tc.cmp_version % 12 + 1


def _iso(seconds: int | None) -> str | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


# -- what the tests know about this vendor (sandbox/sandbox/profiles.py) --------------------------------

#: the Meltano `sandbox` environment's settings (api_url and access_token come from the environment)
MELTANO_SETTINGS: dict = {"domains": list(DOMAINS), "lookback_hours": 24}

#: each table's primary key, in the vendor's rows of the ground truth
TABLE_KEYS = {
    "microprofiles": ("domain", "profile_id"),
    "consents": ("domain", "profile_id", "consent_id", "recorded_at"),
    "keyring": ("domain", "profile_id", "key_id", "recorded_at"),
    "tcf_consents": ("domain", "profile_id"),
    "non_tcf_vendor_consents": ("domain", "profile_id", "vendor_id"),
}


def expected_table_rows(sandbox: t.Any, config: dict) -> dict[str, int]:
    truth = sandbox.app("gravito").ground_truth(domains=config["domains"])
    unparsed = {(row["domain"], row["raw_message"]) for row in truth["unparsed_messages"]}
    counts = {stream: len({tuple(row[k] for k in key) for row in truth[stream]}) for stream, key in TABLE_KEYS.items()}
    counts["microprofiles"] += len(unparsed)
    return counts


FAILING_DOMAIN = DOMAINS[1]  # the reliability matrix's "one partition always fails"


def rows_without_failing_domain(sandbox: t.Any, config: dict) -> dict[str, int]:
    return expected_table_rows(sandbox, {**config, "domains": [d for d in config["domains"] if d != FAILING_DOMAIN]})


PROFILE = VendorProfile(
    vendor="gravito",
    label="Gravito",
    tap="tap-gravito",
    tap_class="tap_gravito.tap:TapGravito",
    source="source-gravito",
    order=2,
    secrets=("access_token",),
    auth_check="access_token",
    meltano_settings=MELTANO_SETTINGS,
    test_settings=lambda _scratch: {"domains": list(DOMAINS)},
    expected_rows=expected_table_rows,
    soak_sizes={"small": 2, "full": 100},
    records_path="domainName=news.example.org",
    state_bookmark=("consents", "replication_key_value"),
    no_lookback={"lookback_hours": 0},
    bad_configs=(
        ("missing setting", {"domains": None}, "domains"),
        ("empty domains list", {"domains": []}, "setting domains must list at least one domain"),
    ),
    partitions=Partitions(
        setting="domains",
        stream="microprofiles",
        request_path="/api/gp",
        empty_variant="unknown-domain",
    ),
    failing_part=FailingPart(
        path=lambda _sandbox, _state: f"domainName={FAILING_DOMAIN}",
        named=lambda _sandbox: f"domain {FAILING_DOMAIN}",
        streams=("microprofiles", "consents", "keyring", "tcf_consents", "non_tcf_vendor_consents"),
        saved_state=partition_state("microprofiles", lambda _sandbox: {"domain": FAILING_DOMAIN}),
        healthy_rows=rows_without_failing_domain,
    ),
    no_error_envelope="no error envelope documented: the fault is a 200 with an object where the array belongs",
    probe=Probe(rows=7, breaking_variant="unknown-domain"),
    benchmark=Benchmark(
        largest=BenchStream(
            "consents", "consents", r"/api/gp", "gravito.profiles_per_domain", lambda: {"domains": [DOMAINS[0]]}
        ),
        # the fingerprints of a domain's profiles (what changed since the last run): every stream keeps the
        # feed's index of snapshots
        large_answers=(
            BenchStream(
                "microprofiles",
                "microprofiles",
                r"/api/gp",
                "gravito.profiles_per_domain",
                lambda: {"domains": [DOMAINS[0]]},
            ),
        ),
        many_pages_sandbox={"gravito.profiles_per_domain": 400},
        many_pages_settings=lambda: {"domains": [f"site{n:03d}.example.com" for n in range(40)]},
        record_shape="message-consents",
    ),
    static_discovery=True,
    #: dbt tests of the staging models beyond the key's (stream -> column -> tests): documented states, links
    staging_tests={
        "tcf_consents": {
            "profile_id": [
                {"relationships": {"arguments": {"to": "ref('stg_gravito__microprofiles')", "field": "profile_id"}}}
            ]
        }
    },
)
