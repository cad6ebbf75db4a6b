"""What every mart must hold after one run of every tap, computed from the simulators' ground truth.

Never from the warehouse or the models: only the vendors' raw rows (VendorApp.ground_truth and the
tests/<vendor>/truth.py helpers) and the Meltano `sandbox` environment's settings.
"""

from __future__ import annotations

from collections import defaultdict

from tests.pipelines.meltano_project import resolved_sandbox_config, truth_module

VOYADO_ANSWERED = "downloaded"  # a job done on its first poll is downloaded and its lines emitted in the same run


def consent_daily(sandbox) -> dict[tuple, tuple]:
    """(date, cmp_id, country, device_id) -> (page_views, consent_views, accepts, rejects, accept_rate, reject_rate)."""
    rows = truth_module("tap-consentmanager").raw_rows(sandbox, resolved_sandbox_config("tap-consentmanager"))[
        "cmp_report"
    ]
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        key = (row["date"], int(row["cmpID"]), row["country"], int(row["deviceID"]))
        for n, field in enumerate(("pageView", "consentView", "consentAccept", "consentReject")):
            sums[key][n] += int(row[field])
    return {
        key: (views, shown, accepts, rejects, accepts / shown if shown else None, rejects / shown if shown else None)
        for key, (views, shown, accepts, rejects) in sums.items()
    }


def _decoded_tc_strings(sandbox) -> list[dict]:
    domains = resolved_sandbox_config("tap-gravito")["domains"]
    return [row for row in sandbox.app("gravito").ground_truth(domains=domains)["tcf_consents"] if row["decodes"]]


def tcf_consent(sandbox, consented: str, legitimate_interest: str) -> dict[tuple, tuple]:
    """(domain, id) -> (profiles, consenting_profiles, consent_rate) over the TC strings that decode."""
    rows = _decoded_tc_strings(sandbox)
    profiles: dict[str, int] = defaultdict(int)
    named: set[tuple] = set()
    consenting: dict[tuple, set] = defaultdict(set)
    for row in rows:
        domain, decoded = row["domain"], row["decoded"]
        profiles[domain] += 1
        for id_ in decoded[consented]:
            named.add((domain, id_))
            consenting[(domain, id_)].add(row["profile_id"])
        named.update((domain, id_) for id_ in decoded[legitimate_interest])
    return {
        (domain, id_): (
            profiles[domain],
            len(consenting[(domain, id_)]),
            len(consenting[(domain, id_)]) / profiles[domain],
        )
        for domain, id_ in named
    }


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


def tcf_consent_by_day(sandbox) -> dict[tuple, tuple]:
    """(choice_date, domain, kind, id) -> (profiles, consenting_profiles): per UTC day of the TC string's
    LastUpdated, every id the domain's decoded strings name (as tcf_consent)."""
    rows = _decoded_tc_strings(sandbox)
    expected: dict[tuple, tuple] = {}
    for kind, consented, legitimate_interest in (
        ("purpose", "purposes_consented", "purposes_legitimate_interest"),
        ("vendor", "vendors_consented", "vendors_legitimate_interest"),
    ):
        named: dict[str, set] = defaultdict(set)
        by_day: dict[tuple, list[dict]] = defaultdict(list)
        for row in rows:
            decoded = row["decoded"]
            named[row["domain"]].update(decoded[consented], decoded[legitimate_interest])
            by_day[(decoded["last_updated"][:10], row["domain"])].append(decoded)
        for (day, domain), decoded_rows in by_day.items():
            for id_ in named[domain]:
                consenting = sum(id_ in decoded[consented] for decoded in decoded_rows)
                expected[(day, domain, kind, id_)] = (len(decoded_rows), consenting)
    return expected
