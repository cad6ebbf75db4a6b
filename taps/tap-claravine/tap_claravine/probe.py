"""`tap-claravine --probe`: each assumption of api.py, checked with a few read-only GETs.

At most: the dataset list, the definitions of up to `MAX_DEFINITIONS` datasets (until one has a
row id field), one transaction list (the last `WINDOW_DAYS` of the configured window), the status
of up to `MAX_STATUSES` of its transactions (until one is Complete), and that transaction's data
on each candidate path until one answers. Every request goes through the tap's own client.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from tap_claravine.api import DATA_PATHS, DEFINITION_PATH, STATUSES
from tap_claravine.id_field import id_field_name
from tapkit import TapkitError, clock, probe

if t.TYPE_CHECKING:
    from tap_claravine.api import ClaravineApi
    from tap_claravine.settings import ClaravineSettings
    from tapkit.tap import VendorTap

MAX_DEFINITIONS = 5
MAX_STATUSES = 5
WINDOW_DAYS = 30
#: statuses a probe request reports rather than raises
ANSWERS = frozenset({400, 401, 403, 404, 409})

AUTH = "the API key and secret are accepted in headers {key} and {secret} (settings key_header, secret_header)"
LIST_SHAPE = 'GET /v1/datasets answers {"datasets": [{"uuid", "name", "fields", ...}]}'
FIELDS_LISTED = "List Datasets lists each dataset's fields"
DEFINITION = f'GET {DEFINITION_PATH} answers the dataset with every field ({{"fields": [...]}})'
ID_LISTED = "List Datasets lists the read-only row id field (else the tap reads the definition)"
ID_NAME = 'the row id field is named "CVID" (the tap also finds "Claravine ID", other spellings, type cv_id)'
TX_LIST = (
    'GET /v1/datasets/{uuid}/transactions?start-date&end-date answers {"transactions": [{"uuid", "submittedAt", ...}]}'
)
STATUS = f"GET /v1/datasets/{{uuid}}/transactions/{{uuid}}/status answers a status among {', '.join(STATUSES)}"
DATA_PATH = (
    "transaction data is at the nested /v1/datasets/{d}/transactions/{t}/data "
    "(the tap also tries the singular /transaction/ and the top-level /v1/transactions/{t}/data)"
)
HOST = (
    "api_url answers the API: https://api.claravine.com (the newer vendor pages) or "
    "https://<customer>.claravine.com (the older support article)"
)
TX_FILTER = (
    "the transactions list's start-date/end-date select transactions by submission day "
    "(not by their rows' creation day)"
)
DATA_SHAPE = 'transaction data is {"fields": [header...], "rows": [[value...]...]}, each row as long as fields'
#: what can only be judged once the dataset list is read (untold when it is not)
AFTER_THE_LIST = (FIELDS_LISTED, DEFINITION, ID_LISTED, ID_NAME, TX_LIST, TX_FILTER, STATUS, DATA_PATH, DATA_SHAPE)


@dataclass
class Answer:
    asked: str
    status: int | None  # None: no answer (network, retries exhausted)
    document: t.Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def shown(self) -> t.Any:
        if self.status is None:
            return self.error
        return self.document if self.ok else f"HTTP {self.status} {self.error}".strip()


class Prober:
    def __init__(self, tap: VendorTap[ClaravineSettings]) -> None:
        self.tap = tap
        self.api = t.cast("ClaravineApi", tap.api).for_stream("probe")

    def ask(self, path: str, params: dict | None = None) -> Answer:
        asked = "GET " + path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        try:
            with self.api.document(path, params, tolerate=ANSWERS) as (answer, document):
                return Answer(asked, answer.status, None if answer.status in ANSWERS else document)
        except TapkitError as exc:
            return Answer(asked, None, error=str(exc))

    # -- the checks ------------------------------------------------------------------------------

    def results(self) -> t.Iterator[probe.ProbeResult]:
        listed = self.ask("/v1/datasets")
        yield self.host_row(listed)
        auth = AUTH.format(key=self.tap.settings.key_header, secret=self.tap.settings.secret_header)
        if listed.status in (401, 403):
            yield probe.result(auth, listed.asked, listed.shown(), False)
            yield from self.untold(
                listed.asked,
                "the credentials were refused",
                LIST_SHAPE,
                *AFTER_THE_LIST,
            )
            return
        yield probe.result(
            auth, listed.asked, f"HTTP {listed.status}" if listed.status else listed.error, listed.ok or None
        )
        datasets = listed.document.get("datasets") if listed.ok and isinstance(listed.document, dict) else None
        shape_holds = isinstance(datasets, list) and all(
            isinstance(d, dict) and isinstance(d.get("uuid"), str) for d in datasets
        )
        yield probe.result(LIST_SHAPE, listed.asked, listed.shown(), shape_holds if listed.ok else None)
        if not shape_holds or not datasets:
            reason = "no dataset listed" if shape_holds else "the dataset list has another shape"
            yield from self.untold(
                listed.asked,
                reason,
                *AFTER_THE_LIST,
            )
            return
        unlisted = [d["uuid"] for d in datasets if not (isinstance(d.get("fields"), list) and d["fields"])]
        yield probe.result(
            FIELDS_LISTED,
            listed.asked,
            f"{len(datasets) - len(unlisted)} of {len(datasets)} datasets list fields",
            not unlisted,
        )
        chosen = yield from self.id_field_checks(datasets)
        yield from self.transaction_checks(chosen)

    def host_row(self, listed: Answer) -> probe.ProbeResult:
        """Which host answers: the configured one, named by the documented form it has."""
        url = (self.tap.settings.api_url or "").rstrip("/")
        form = host_form(url)
        asked = f"{listed.asked} at {url}"
        if listed.status is None:
            return probe.result(HOST, asked, f"no answer ({form}): {listed.error}", False)
        if listed.status == 404:
            return probe.result(HOST, asked, f"HTTP 404, not the API's base URL ({form})", False)
        return probe.result(HOST, asked, f"HTTP {listed.status}: it answers ({form})", True)

    def id_field_checks(self, datasets: list[dict]) -> t.Generator[probe.ProbeResult, None, dict]:
        """Definitions until one has a row id field; returns the dataset whose transactions to read."""
        listed_id = next(((d, name) for d in datasets if (name := id_field_name(_fields(d))) is not None), None)
        candidates = [listed_id[0]] if listed_id else datasets[:MAX_DEFINITIONS]
        asked: list[str] = []
        definition: Answer | None = None
        found: tuple[dict, str, dict] | None = None  # dataset, id name, id field
        for dataset in candidates:
            definition = self.ask(DEFINITION_PATH.format(dataset=dataset["uuid"]))
            asked.append(definition.asked)
            fields = _fields({"fields": _definition_fields(definition.document)}) if definition.ok else []
            name = id_field_name(fields)
            if name is not None:
                found = (dataset, name, next(f for f in fields if f.get("name") == name))
                break
        assert definition is not None
        defined = definition.ok and isinstance(_definition_fields(definition.document), list)
        yield probe.result(DEFINITION, definition.asked, definition.shown(), defined if definition.status else None)
        if found is None and listed_id is not None:
            dataset, name = listed_id
            found = (dataset, name, next(f for f in _fields(dataset) if f.get("name") == name))
        if found is None:
            reason = f"no row id field in the definitions of {len(candidates)} dataset(s)"
            yield probe.could_not_tell(ID_LISTED, "; ".join(asked), reason)
            yield probe.could_not_tell(ID_NAME, "; ".join(asked), reason)
            return datasets[0]
        dataset, name, field = found
        in_list = id_field_name(_fields(dataset)) is not None
        yield probe.result(
            ID_LISTED,
            "GET /v1/datasets; " + "; ".join(asked),
            f"dataset {dataset['uuid']}: id field {name!r} {'listed' if in_list else 'only in the definition'}",
            in_list,
        )
        yield probe.result(
            ID_NAME, "; ".join(asked) or "GET /v1/datasets", {"name": name, "type": field.get("type")}, name == "CVID"
        )
        return dataset

    def transaction_checks(self, dataset: dict) -> t.Iterator[probe.ProbeResult]:
        last = self.tap.settings.end_date or clock.today()
        first = max(self.tap.settings.start_date, last - dt.timedelta(days=WINDOW_DAYS - 1))
        listed = self.ask(
            f"/v1/datasets/{dataset['uuid']}/transactions",
            {"start-date": first.isoformat(), "end-date": last.isoformat()},
        )
        items = listed.document.get("transactions") if listed.ok and isinstance(listed.document, dict) else None
        holds = isinstance(items, list) and all(isinstance(i, dict) and isinstance(i.get("uuid"), str) for i in items)
        yield probe.result(TX_LIST, listed.asked, listed.shown(), holds if listed.ok else None)
        if not holds or not items:
            reason = (
                f"no transaction of dataset {dataset['uuid']} between {first} and {last}"
                if holds
                else "no transaction list"
            )
            yield from self.untold(listed.asked, reason, TX_FILTER, STATUS, DATA_PATH, DATA_SHAPE)
            return
        yield filter_row(listed.asked, items, first.isoformat(), last.isoformat())
        complete, statuses, asked = None, [], []
        for item in sorted(items, key=lambda i: str(i.get("submittedAt") or ""))[:MAX_STATUSES]:
            answer = self.ask(f"/v1/datasets/{dataset['uuid']}/transactions/{item['uuid']}/status")
            asked.append(answer.asked)
            status = answer.document.get("status") if answer.ok and isinstance(answer.document, dict) else None
            statuses.append(status if answer.ok else answer.shown())
            if not answer.ok or status not in STATUSES:
                yield probe.result(STATUS, answer.asked, answer.shown(), False if answer.ok else None)
                yield from self.untold(answer.asked, "no status", DATA_PATH, DATA_SHAPE)
                return
            if status == "Complete":
                complete = item["uuid"]
                break
        yield probe.result(STATUS, "; ".join(asked), statuses, True)
        if complete is None:
            yield from self.untold(
                "; ".join(asked), f"none of {len(statuses)} transactions is Complete", DATA_PATH, DATA_SHAPE
            )
            return
        yield from self.data_checks(dataset["uuid"], complete)

    def data_checks(self, dataset_uuid: str, transaction_uuid: str) -> t.Iterator[probe.ProbeResult]:
        tried: list[Answer] = []
        for template in DATA_PATHS:
            answer = self.ask(template.format(dataset=dataset_uuid, transaction=transaction_uuid))
            tried.append(answer)
            if answer.ok or answer.status is None:
                break
        asked = "; ".join(a.asked for a in tried)
        answered = "; ".join(f"HTTP {a.status}" if a.status else a.error for a in tried)
        last = tried[-1]
        if last.status is None:
            yield probe.could_not_tell(DATA_PATH, asked, answered)
            yield probe.could_not_tell(DATA_SHAPE, asked, answered)
            return
        yield probe.result(DATA_PATH, asked, answered, last.ok and len(tried) == 1)
        if not last.ok:
            yield probe.could_not_tell(DATA_SHAPE, asked, "no data path answered")
            return
        document = last.document
        fields = document.get("fields") if isinstance(document, dict) else None
        rows = document.get("rows") if isinstance(document, dict) else None
        holds = (
            isinstance(fields, list)
            and bool(fields)
            and isinstance(rows, list)
            and all(isinstance(row, list) and len(row) == len(fields) for row in rows)
        )
        yield probe.result(
            DATA_SHAPE, last.asked, {"fields": fields, "rows": len(rows) if isinstance(rows, list) else rows}, holds
        )

    @staticmethod
    def untold(asked: str, reason: str, *assumptions: str) -> t.Iterator[probe.ProbeResult]:
        for assumption in assumptions:
            yield probe.could_not_tell(assumption, asked, reason)


def host_form(url: str) -> str:
    """Which documented form of the Claravine host `url` has."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "api.claravine.com":
        return "the api.claravine.com host of the newer vendor pages"
    if host.endswith(".claravine.com"):
        return "a per-customer host of the older support article"
    return "neither documented Claravine host: a proxy or a simulator"


def filter_row(asked: str, items: list[dict], first: str, last: str) -> probe.ProbeResult:
    """Listed transactions submitted outside the asked days show that the dates select something else (the
    rows' creation days, in the vendor's words); none outside is what the submission-day reading gives."""
    outside = sorted(
        (str(item.get("submittedAt") or ""), item["uuid"])
        for item in items
        if not first <= str(item.get("submittedAt") or "")[:10] <= last
    )
    if outside:
        submitted, uuid = outside[0]
        answered = (
            f"{len(outside)} of {len(items)} listed transactions were submitted outside {first}..{last} "
            f"(e.g. {uuid} at {submitted}): the dates select by another day, such as the rows' creation"
        )
        return probe.result(TX_FILTER, asked, answered, False)
    return probe.result(
        TX_FILTER, asked, f"all {len(items)} listed transactions were submitted in {first}..{last}", True
    )


def _fields(dataset: t.Any) -> list[dict]:
    fields = dataset.get("fields") if isinstance(dataset, dict) else None
    return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


def _definition_fields(document: t.Any) -> t.Any:
    definition = document.get("dataset", document) if isinstance(document, dict) else None
    return definition.get("fields") if isinstance(definition, dict) else None


def run(tap: VendorTap[ClaravineSettings]) -> t.Iterator[probe.ProbeResult]:
    return Prober(tap).results()
