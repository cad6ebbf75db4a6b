"""Rows that disappear at the vendor leave the warehouse on the next `meltano run`, in DuckDB and PostgreSQL.

Full-table streams that are the vendor's whole set (tapkit `CompleteSnapshot`) announce their version
(Singer ACTIVATE_VERSION); target-postgres (`activate_version`, `hard_delete`) and the project's DuckDB
loader (loaders/target-duckdb-versions) delete the rows of older versions. Each case: a first run loads
exactly the ground truth's keys, the sandbox then removes some rows (a member leaves an audience, a CMP
and a design are deleted, a dataset is removed), and after a second run the table holds exactly the new
ground truth's keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import psycopg
import pytest

from tests.pipelines.meltano_project import resolved_sandbox_config, truth_module

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]


@dataclass(frozen=True)
class Case:
    tap: str
    table: str
    key: tuple[str, ...]
    select: tuple[str, ...]  # only the streams the case needs: fast runs
    expected: Callable  # sandbox -> set of key tuples the table must hold
    remove: Callable  # sandbox -> None: delete some rows at the vendor

    @property
    def schema(self) -> str:
        return self.tap.replace("-", "_")


def lytics_members(sandbox) -> set[tuple]:
    config = resolved_sandbox_config("tap-lytics")
    truth = truth_module("tap-lytics")
    keys = {
        (row["segment_id"], truth.member_key(sandbox, config, row["profile"]))
        for row in truth.ground_truth(sandbox, config)["audience_members"]
    }
    return {(segment_id, key) for segment_id, key in keys if key is not None}


def lytics_leave(sandbox) -> None:
    app = sandbox.app("lytics")
    swedes = [profile["user_id"] for profile in app.members("sweden")]
    sandbox.settings["lytics.left"] = {"all": ["user00003", "user00010"], "sweden": swedes[:2]}


def consentmanager_ids(stream: str) -> Callable:
    def expected(sandbox) -> set[tuple]:
        truth = truth_module("tap-consentmanager").raw_rows(sandbox, resolved_sandbox_config("tap-consentmanager"))
        return {(str(row["id"]),) for row in truth[stream]}

    return expected


def consentmanager_delete(sandbox) -> None:
    sandbox.settings["consentmanager.deleted"] = {"cmps": ["3"], "designs": ["4"]}


def claravine_datasets(sandbox) -> set[tuple]:
    return {(dataset.uuid,) for dataset in sandbox.app("claravine").datasets()}


def claravine_remove(sandbox) -> None:
    sandbox.settings["claravine.removed"] = [sandbox.app("claravine").datasets()[0].uuid]


CASES = (
    Case(
        "tap-lytics",
        "audience_members",
        ("segment_id", "profile_id"),
        ("segments", "audience_members"),
        lytics_members,
        lytics_leave,
    ),
    Case("tap-consentmanager", "cmps", ("id",), ("cmps", "designs"), consentmanager_ids("cmps"), consentmanager_delete),
    Case(
        "tap-consentmanager",
        "designs",
        ("id",),
        ("cmps", "designs"),
        consentmanager_ids("designs"),
        consentmanager_delete,
    ),
    Case("tap-claravine", "datasets", ("uuid",), ("datasets",), claravine_datasets, claravine_remove),
)
TAPS = tuple(dict.fromkeys(case.tap for case in CASES))


def duckdb_keys(path, case: Case) -> set[tuple]:
    columns = ", ".join(f'cast("{column}" as varchar)' for column in case.key)
    with duckdb.connect(str(path), read_only=True) as conn:
        return set(conn.execute(f'select {columns} from "{case.schema}"."{case.table}"').fetchall())


def postgres_keys(uri: str, case: Case) -> set[tuple]:
    columns = ", ".join(f'"{column}"::text' for column in case.key)
    with psycopg.connect(uri) as conn:
        return set(conn.execute(f'select {columns} from "{case.schema}"."{case.table}"').fetchall())


def run_twice(meltano, sandbox, target: str, keys: Callable[[Case], set[tuple]]) -> None:
    """Every tap into `target` in one `meltano run` (the streams the cases need), twice, around the removals."""
    for tap in TAPS:
        streams = dict.fromkeys(stream for case in CASES if case.tap == tap for stream in case.select)
        meltano.extra_env[f"{tap.upper().replace('-', '_')}__SELECT"] = json.dumps(
            [f"{stream}.*" for stream in streams]
        )
    blocks = [block for tap in TAPS for block in (tap, target)]
    first = meltano.run(*blocks)
    assert first.returncode == 0, first.stderr[-3000:]
    before = {case.table: case.expected(sandbox) for case in CASES}
    assert {case.table: keys(case) for case in CASES} == before

    for remove in dict.fromkeys(case.remove for case in CASES):
        remove(sandbox)
    after = {case.table: case.expected(sandbox) for case in CASES}
    assert all(after[table] < before[table] for table in before)  # the switches really removed rows at the vendor
    second = meltano.run(*blocks)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {case.table: keys(case) for case in CASES} == after


def test_duckdb_drops_rows_the_vendor_removed(meltano, sandbox):
    run_twice(meltano, sandbox, "target-duckdb", lambda case: duckdb_keys(meltano.duckdb_path, case))


def test_postgres_drops_rows_the_vendor_removed(meltano, sandbox, postgres):
    database = postgres.create_database()
    meltano.extra_env["TARGET_POSTGRES_SQLALCHEMY_URL"] = postgres.sqlalchemy_url(database)
    run_twice(meltano, sandbox, "target-postgres", lambda case: postgres_keys(postgres.uri(database), case))
