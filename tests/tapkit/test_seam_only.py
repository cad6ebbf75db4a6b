"""Private singer-sdk names appear only in tapkit/seam.py: every other module of the kit and the taps
uses public SDK API or the seam's hooks. The private names are read off the installed singer-sdk (its
classes' underscore attributes, the `self._x` it assigns, its underscore modules), so a new use of
one anywhere else fails here, naming the file and line."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import singer_sdk
from singer_sdk import Stream, Tap
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams import RESTStream

ROOT = Path(__file__).resolve().parents[2]
SEAM = ROOT / "taps/tapkit/tapkit/seam.py"
SDK_CLASSES = (Stream, RESTStream, Tap, PluginBase)
#: public names the issue names as private state (the SDK's state bookkeeping)
PRIVATE_BY_CONTRACT = {"state_manager"}


def sdk_private_names() -> set[str]:
    names = set(PRIVATE_BY_CONTRACT)
    for cls in SDK_CLASSES:
        for klass in cls.__mro__:
            if not klass.__module__.startswith("singer_sdk"):
                continue
            names.update(n for n in vars(klass) if n.startswith("_") and not n.startswith("__"))
            names.update(re.findall(r"self\.(_[a-z]\w*)\s*[:=]", inspect.getsource(klass)))
    return names


def kit_and_tap_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "taps").glob("*/*/*.py") if p != SEAM and ".venv" not in p.parts)


def uses(path: Path, private: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        name = None
        if isinstance(node, ast.Attribute) and node.attr in private:
            name = node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in private:
            name = f"def {node.name}"
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("singer_sdk")
            and any(part.startswith("_") for part in (node.module or "").split("."))
        ):
            name = f"from {node.module}"
        if name:
            found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {name}")
    return found


def test_the_sdk_private_names_are_read_off_the_installed_sdk():
    private = sdk_private_names()
    assert {"_request", "_tap", "_config", "_increment_stream_state", "_stream_version"} <= private
    assert singer_sdk.__name__ == "singer_sdk"


def test_private_sdk_names_appear_only_in_the_seam():
    private = sdk_private_names()
    found = [use for path in kit_and_tap_modules() for use in uses(path, private)]
    assert found == [], "private singer-sdk names outside tapkit/seam.py:\n" + "\n".join(found)


def test_the_seam_uses_each_name_it_declares():
    from tapkit.seam import PRIVATE_API

    text = SEAM.read_text()
    assert all(entry.name in text.split("PRIVATE_API")[-1] for entry in PRIVATE_API)
