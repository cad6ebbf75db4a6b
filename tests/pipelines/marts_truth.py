"""What every mart must hold after one run of every tap, computed from the simulators' ground truth.

Never from the warehouse or the models: only the vendors' raw rows (VendorApp.ground_truth and the
tests/<vendor>/truth.py helpers) and the Meltano `sandbox` environment's settings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from tests.pipelines.meltano_project import resolved_sandbox_config, truth_module

VOYADO_ANSWERED = "downloaded"  # a job done on its first poll is downloaded and its lines emitted in the same run


def consent_daily(sandbox, sources: tuple[str, ...] = ("consentmanager", "didomi")) -> dict[tuple, tuple]:
    """(source, date, cmp_id, notice_id, country, device_id, device_type) -> (page_views, consent_views, accepts,
    rejects, accept_rate, reject_rate, custom_choices, interactions, opt_ins, consent_rate, opt_in_rate,
    interaction_rate), with the published definitions written out here (docs/metrics.md), not read from the SQL."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    if "consentmanager" in sources:
        rows = truth_module("tap-consentmanager").raw_rows(sandbox, resolved_sandbox_config("tap-consentmanager"))
        for row in rows["cmp_report"]:
            key = ("consentmanager", row["date"], int(row["cmpID"]), None, row["country"], int(row["deviceID"]), None)
            for n, field in enumerate(("pageView", "consentView", "consentAccept", "consentReject", "consentCustom")):
                sums[key][n] += int(row[field])
    if "didomi" in sources:
        for row in didomi_truth(sandbox)["cmp_hourly_metrics"]:
            key = ("didomi", row["hour"][:10], None, row["notice_id"], row["country"], None, row["device_type"])
            for n, field in enumerate(
                ("pageviews", "notice_displays", "consents_given", "consents_denied", "consents_partial")
            ):
                sums[key][n] += row[field] or 0
    expected = {}
    for key, (views, shown, accepts, rejects, custom) in sums.items():
        choices, opt_ins = accepts + rejects + custom, accepts + custom
        expected[key] = (
            *(views, shown, accepts, rejects),
            *(ratio(accepts, shown), ratio(rejects, shown), custom, choices, opt_ins),
            ratio(opt_ins, opt_ins + rejects),  # Didomi's consent rate: opt-ins / total choices
            ratio(opt_ins, shown),  # Didomi's opt-in rate: opt-ins / consents asked (notices shown)
            ratio(choices, shown),  # Usercentrics' interaction rate: (ACCEPT_ALL + DENY_ALL + SAVE) / CMP_SHOWN
        )
    return expected


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def didomi_truth(sandbox) -> dict[str, list[dict]]:
    """The Didomi simulator's rows for one run with the Meltano sandbox environment's settings."""
    config = resolved_sandbox_config("tap-didomi")
    return sandbox.app("didomi").ground_truth(start_date=config["start_date"])


def cmp_hourly_metrics(sandbox) -> dict[tuple, tuple]:
    """(export_id, partition_date, hour, notice_id, domain, country, device_type, regulation) -> (pageviews,
    notice_displays, consents_given, consents_denied, consents_partial, ui_interactions, opt_ins, opt_outs,
    total_choices, no_choices, consent_rate, opt_in_rate, interaction_rate); hour as a naive UTC datetime."""
    expected = {}
    for row in didomi_truth(sandbox)["cmp_hourly_metrics"]:
        hour = dt.datetime.fromisoformat(row["hour"].replace("Z", "+00:00")).replace(tzinfo=None)
        key = (row["export_id"], row["partition_date"], hour, row["notice_id"], row["domain"], row["country"])
        counts = [row[field] for field in COUNTS]
        given, denied, partial, shown = (
            row["consents_given"],
            row["consents_denied"],
            row["consents_partial"],
            row["notice_displays"],
        )
        opt_ins, choices = given + partial, given + partial + denied
        expected[(*key, row["device_type"], row["regulation"])] = (
            *counts,
            *(opt_ins, denied, choices, shown - choices),
            *(ratio(opt_ins, choices), ratio(opt_ins, shown), ratio(choices, shown)),
        )
    return expected


COUNTS = ("pageviews", "notice_displays", "consents_given", "consents_denied", "consents_partial", "ui_interactions")


def _decoded_tc_strings(sandbox) -> list[dict]:
    domains = resolved_sandbox_config("tap-gravito")["domains"]
    return [row for row in sandbox.app("gravito").ground_truth(domains=domains)["tcf_consents"] if row["decodes"]]


def _tcf_profiles(sandbox, sources: tuple[str, ...]) -> list[dict]:
    """Every profile of the TCF marts: source, domain, profile_id, day (of its latest choice), and per kind the
    TCF ids it names, each with whether it consented."""
    profiles = []
    if "gravito" in sources:
        for row in _decoded_tc_strings(sandbox):
            decoded = row["decoded"]
            named: dict[str, dict[int, bool]] = {"purpose": {}, "vendor": {}}
            for kind, prefix in (("purpose", "purposes"), ("vendor", "vendors")):
                named[kind].update(dict.fromkeys(decoded[f"{prefix}_legitimate_interest"], False))
                named[kind].update(dict.fromkeys(decoded[f"{prefix}_consented"], True))
            day = decoded["last_updated"][:10] if decoded["last_updated"] else None
            profiles.append(
                {"source": "gravito", "domain": row["domain"], "id": row["profile_id"], "day": day, **named}
            )
    if "didomi" in sources:
        truth = didomi_truth(sandbox)
        purpose_iab = {row["id"]: row["iab_id"] for row in truth["purposes"] if row["iab_id"] is not None}
        # a vendor's TCF id: its IAB TCF v2 id (namespaces.iab2), else its v1 one (namespaces.iab), sent as text
        tcf_ids = {row["id"]: row["namespaces"].get("iab2") or row["namespaces"].get("iab") for row in truth["vendors"]}
        vendor_iab = {vendor: int(tcf_id) for vendor, tcf_id in tcf_ids.items() if tcf_id is not None}
        latest: dict[tuple, dict] = {}  # a user written again (later partition) counts once, as of its latest
        for user in sorted(truth["export_users"], key=lambda user: (user["partition_date"], user["updated_at"])):
            latest[(user["organization_id"], user["id"])] = user
        for (organization, user_id), user in latest.items():
            consents = user["consents"] or {}
            purposes = {
                purpose_iab[item["id"]]: item["enabled"]
                for item in consents.get("purposes", [])
                if item["id"] in purpose_iab
            }
            vendors = {
                vendor_iab[vendor]: enabled
                for enabled, listed in ((False, "disabled"), (True, "enabled"))
                for vendor in consents.get("vendors", {}).get(listed, [])
                if vendor in vendor_iab
            }
            day = user["updated_at"][:10] if user["updated_at"] else None
            profiles.append(
                {
                    "source": "didomi",
                    "domain": organization,
                    "id": user_id,
                    "day": day,
                    "purpose": purposes,
                    "vendor": vendors,
                }
            )
    return profiles


def tcf_consent(sandbox, kind: str, sources: tuple[str, ...] = ("gravito", "didomi")) -> dict[tuple, tuple]:
    """(source, domain, id) -> (profiles, consenting_profiles, consent_rate): every id a profile of the domain
    names; consent rate = consenting / all profiles (Didomi's opt-ins / total choices, every profile a choice)."""
    profiles: dict[tuple, int] = defaultdict(int)
    named: set[tuple] = set()
    consenting: dict[tuple, set] = defaultdict(set)
    for profile in _tcf_profiles(sandbox, sources):
        domain = (profile["source"], profile["domain"])
        profiles[domain] += 1
        for id_, consented in profile[kind].items():
            named.add((*domain, id_))
            if consented:
                consenting[(*domain, id_)].add(profile["id"])
    return {key: (profiles[key[:2]], len(consenting[key]), len(consenting[key]) / profiles[key[:2]]) for key in named}


def _lytics(sandbox) -> tuple[dict, dict]:
    config = resolved_sandbox_config("tap-lytics")
    return truth_module("tap-lytics").ground_truth(sandbox, config), config


def audience_sizes(sandbox) -> set[tuple]:
    """(segment_id, segment_name, size) measured by one run, for the configured audiences."""
    truth, _ = _lytics(sandbox)
    return {(row["id"], row["name"], row["size"]) for row in truth["segment_sizes"]}


def audience_members_current(sandbox) -> dict[str, int]:
    truth, config = _lytics(sandbox)
    members: dict[str, set] = defaultdict(set)
    for row in truth["audience_members"]:
        key = truth_module("tap-lytics").member_key(sandbox, config, row["profile"])
        if key is not None:
            members[row["segment_id"]].add(key)
    return {segment_id: len(profiles) for segment_id, profiles in members.items()}


def data_subject_requests(sandbox) -> dict[tuple, tuple]:
    """(system, request_id) -> (subject, state, answered, days_open, overdue) after one run today.

    Times come from the tap's clock (Voyado) or are unknown (Lytics): `answered` says whether
    completed_at is set; a request made and answered (or still waiting) in this run is 0 days open.
    """
    expected: dict[tuple, tuple] = {}
    voyado = truth_module("tap-voyado")
    jids = {job.customer_key: job.jid for job in sandbox.app("voyado").jobs.values()}
    for key in resolved_sandbox_config("tap-voyado")["customer_keys"]:
        answered = voyado.done_on_first_poll(sandbox, key)
        expected[("voyado", jids[key])] = (key, VOYADO_ANSWERED if answered else "waiting", answered, 0, False)
    return {**expected, **lytics_deletion_requests(sandbox)}


def lytics_deletion_requests(sandbox) -> dict[tuple, tuple]:
    """The Lytics rows of data_subject_requests (all of it where Voyado is not loaded)."""
    expected: dict[tuple, tuple] = {}
    truth, _ = _lytics(sandbox)
    for row in truth["deletion_requests"]:
        state = row["data"]["state"]["current"] if row["data"] else "not_found"
        closed = state in ("done", "not_found")
        expected[("lytics", row["request_id"])] = (None, state, False, None, False if closed else None)
    return expected


def taxonomy_submissions(sandbox) -> dict[tuple, tuple]:
    """(dataset_uuid, date) -> (submissions, rows, pending, failed)."""
    config = resolved_sandbox_config("tap-claravine")
    transactions = sandbox.app("claravine").ground_truth(start=config["start_date"], datasets=config.get("datasets"))[
        "transactions"
    ]
    days: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for tx in transactions:
        day = days[(tx["datasetUuid"], tx["submittedAt"][:10])]
        day[0] += 1
        day[1] += int(tx["rowCount"])
        day[2] += tx["status"] == "Pending"
        day[3] += tx["status"] == "Failed"
    return {key: tuple(values) for key, values in days.items()}


def consent_choices_daily(sandbox) -> dict[tuple, tuple]:
    """(date, cmp_id, url_id, country, device_id) -> (site, page_views, consent_views, accepts, rejects,
    custom_choices, interactions); site: the delivery domain of url_id, when the list names it."""
    rows = truth_module("tap-consentmanager").raw_rows(sandbox, resolved_sandbox_config("tap-consentmanager"))
    sites = {int(row["id"]): row["domain"] for row in rows["delivery_domains"]}
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in rows["cmp_report"]:
        key = (row["date"], int(row["cmpID"]), int(row["urlID"]), row["country"], int(row["deviceID"]))
        for n, field in enumerate(("pageView", "consentView", "consentAccept", "consentReject", "consentCustom")):
            sums[key][n] += int(row[field])
    return {
        key: (sites.get(key[2]), views, shown, accepts, rejects, custom, accepts + rejects + custom)
        for key, (views, shown, accepts, rejects, custom) in sums.items()
    }


def tcf_consent_by_day(sandbox, sources: tuple[str, ...] = ("gravito", "didomi")) -> dict[tuple, tuple]:
    """(source, choice_date, domain, kind, id) -> (profiles, consenting_profiles): per UTC day of the profile's
    latest choice, every id the domain's profiles name (as tcf_consent)."""
    profiles = [profile for profile in _tcf_profiles(sandbox, sources) if profile["day"]]
    expected: dict[tuple, tuple] = {}
    for kind in ("purpose", "vendor"):
        named: dict[tuple, set] = defaultdict(set)
        by_day: dict[tuple, list[dict]] = defaultdict(list)
        for profile in profiles:
            named[(profile["source"], profile["domain"])].update(profile[kind])
            by_day[(profile["source"], profile["day"], profile["domain"])].append(profile)
        for (source, day, domain), day_profiles in by_day.items():
            for id_ in named[(source, domain)]:
                consenting = sum(bool(profile[kind].get(id_)) for profile in day_profiles)
                expected[(source, day, domain, kind, id_)] = (len(day_profiles), consenting)
    return expected
