"""Which package a release tag publishes: `<distribution>-v<version>`, e.g. `tap-gravito-v0.1.0` or
`consent-tapkit-v0.1.0` (one tag per package). Prints the package's folder, or one line saying why the tag
does not name a package at its current version, and exits 1.

Run by .github/workflows/release.yml before building; `uv run python scripts/release_package.py TAG`.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"(?P<name>[a-z0-9][a-z0-9-]*?)-v(?P<version>\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)")


def packages() -> dict[str, tuple[Path, str]]:
    """Distribution name → (folder, version) of the kit and every tap."""
    found = {}
    for pyproject in sorted((ROOT / "taps").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        found[project["name"]] = (pyproject.parent.relative_to(ROOT), project["version"])
    return found


def package_folder(tag: str) -> Path:
    match = TAG.fullmatch(tag)
    if not match:
        raise ValueError(f"tag {tag!r} is not <package>-v<version> (e.g. tap-x-v0.1.0)")
    known = packages()
    if match["name"] not in known:
        raise ValueError(f"tag {tag!r} names no package; packages: {', '.join(sorted(known))}")
    folder, version = known[match["name"]]
    if match["version"] != version:
        raise ValueError(f"tag {tag!r} says {match['version']}, but {folder}/pyproject.toml says {version}")
    return folder


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: release_package.py TAG", file=sys.stderr)
        return 2
    try:
        print(package_folder(argv[0]))
    except ValueError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
