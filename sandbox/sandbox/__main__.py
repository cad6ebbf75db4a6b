"""`python -m sandbox` / `consent-sandbox`: serve every simulator on one loopback port."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys

from sandbox.core import Sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="consent-sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=1, help="scale of the generated data")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument(
        "--voyado-instant", action="store_true", help="Voyado export jobs are done on their first status poll"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="VENDOR.NAME",
        help="switch on a simulator variant (another reading of the vendor's docs), e.g. lytics.uids-array; repeatable",
    )
    args = parser.parse_args(argv)
    sandbox = Sandbox(host=args.host, port=args.port, seed=args.seed, size=args.size, latency=args.latency)
    by_vendor: dict[str, list[str]] = {}
    for spec in args.variant:
        vendor, _, name = spec.partition(".")
        by_vendor.setdefault(vendor, []).append(name)
    for vendor, names in by_vendor.items():
        sandbox.set_variants(vendor, *names)
    if args.voyado_instant:
        sandbox.settings["voyado.instant"] = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"sandbox serving on {sandbox.base_url} (seed {args.seed}, size {args.size})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()


if __name__ == "__main__":
    main()
