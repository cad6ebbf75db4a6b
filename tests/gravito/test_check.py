"""An Airbyte `check` reads one record: the domains the tap had started fetching ahead are not
downloaded in the background after it answered (they were, and their requests landed in later tests)."""

from __future__ import annotations

import time

from sandbox.gravito import DOMAINS
from tap_gravito.tap import TapGravito
from tests.airbyte.protocol import run_in_process
from tests.gravito.test_sync import config

#: domains Gravito does not know answer `[]`: cheap partitions for a long plan
EXTRA_DOMAINS = [f"unknown-{n}.example.com" for n in range(8)]
WORKERS = 2
LATENCY = 0.2


def test_a_check_leaves_no_domain_fetching_after_it_answered(sandbox):
    sandbox.latency = LATENCY
    domains = [*DOMAINS, *EXTRA_DOMAINS]
    run = run_in_process(TapGravito, "check", config=config(sandbox, domains=domains, max_concurrency=WORKERS))
    assert run.connection_status.status.value == "SUCCEEDED"
    asked_when_answered = sandbox.count("gravito")
    time.sleep(LATENCY * len(domains))  # long enough for every domain, had the rest gone on in the background
    assert sandbox.count("gravito") == asked_when_answered
    # the first domain, and at most one more per worker that had begun before the check had its record
    assert 1 <= asked_when_answered <= 1 + 2 * WORKERS < len(domains)
