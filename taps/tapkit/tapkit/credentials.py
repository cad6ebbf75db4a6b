"""Vendor fields named like a credential never reach a record, a log or a state.

Vendors put keys and tokens in their answers (Lytics' account record carries `apikey` and
`dataapikey`). The rule, applied to every field of every stream, at any depth (nested objects, lists
of objects, `_extra`):

    A field is a credential when its name, lowercased with separators and camelCase boundaries
    removed, ENDS WITH one of: apikey, token, secret, password, passwd, authorization, credential,
    privatekey (each also with a plural "s").

So `api_key`, `apiKey`, `Api-Key`, `dataapikey`, `access_token`, `Client-Secret`, `PASSWORD`,
`Authorization`, `credentials`, `private_key` are dropped, while names where such a word only
qualifies another (`token_count`, `password_changed_at`, `secret_question_id`, `api_key_id`) are
kept: the last word of a name says what the value is. A bare `key` is not a credential (Voyado's
`customer_key`, Gravito's `key_id`/`key_value` are identifiers); none of the five taps' declared
columns matches the rule (tests/tapkit/test_credentials.py checks every schema).

A stream adds names to drop with `credential_fields` and keeps a name the rule would drop with
`credential_allowed_fields` (both compared in the same normalised form, at any depth). Each dropped
field is named once per stream in a warning; its value is never shown.
"""

from __future__ import annotations

import functools
import re
import typing as t

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
TERMS = ("apikey", "token", "secret", "password", "passwd", "authorization", "credential", "privatekey")
_ENDINGS = tuple(term + suffix for term in TERMS for suffix in ("", "s"))
MASK = "***"


def normalised(name: str) -> str:
    """`Api-Key` -> `apikey`, `accessToken` -> `accesstoken`: lowercase, no separators (so camelCase
    boundaries need no splitting)."""
    return _NOT_ALNUM.sub("", name.lower())


@functools.lru_cache(maxsize=8192)  # bounded: vendors may key objects by ids
def is_credential_name(name: str) -> bool:
    return isinstance(name, str) and normalised(name).endswith(_ENDINGS)


class CredentialFilter:
    """Per stream: which vendor field names are dropped (the rule, plus and minus the stream's lists)."""

    def __init__(self, extra: t.Iterable[str] = (), allowed: t.Iterable[str] = ()) -> None:
        self._extra = frozenset(normalised(name) for name in extra)
        self._allowed = frozenset(normalised(name) for name in allowed)
        self._decided: dict[str, bool] = {}

    def drops(self, name: t.Any) -> bool:
        if type(name) is not str:
            return False
        decided = self._decided.get(name)
        if decided is None:
            if len(self._decided) > 8192:  # names that are ids: keep the cache bounded
                self._decided.clear()
            key = normalised(name)
            decided = key not in self._allowed and (key in self._extra or is_credential_name(name))
            self._decided[name] = decided
        return decided

    def strip(self, value: t.Any, path: str, dropped: t.Callable[[str], None]) -> t.Any:
        """`value` without credential-named members at any depth (copied only where something goes)."""
        return self._strip(value, (path,), dropped)

    def _strip(self, value: t.Any, where: tuple, dropped: t.Callable[[str], None]) -> t.Any:
        # Hot for vendors with nested objects (a Voyado export line): one cache lookup per member, the
        # path kept as a chain of tuples and spelled out only when something is dropped.
        decided = self._decided
        if type(value) is dict:
            copy: dict | None = None
            for key, member in value.items():
                drop = decided.get(key)
                if drop is None:
                    drop = self.drops(key)
                if drop:
                    dropped(_spell(where, f".{key}"))
                    if copy is None:
                        copy = dict(value)
                    del copy[key]
                    continue
                kind = type(member)
                if kind is dict or kind is list:
                    cleaned = self._strip(member, (where, f".{key}"), dropped)
                    if cleaned is not member:
                        if copy is None:
                            copy = dict(value)
                        copy[key] = cleaned
            return value if copy is None else copy
        items: list | None = None
        for index, member in enumerate(value):
            kind = type(member)
            if kind is dict or kind is list:
                cleaned = self._strip(member, (where, "[]"), dropped)
                if cleaned is not member:
                    if items is None:
                        items = list(value)
                    items[index] = cleaned
        return value if items is None else items


def _spell(where: tuple, last: str) -> str:
    parts = [last]
    while len(where) == 2:
        where, part = where
        parts.append(part)
    parts.append(where[0])
    return "".join(reversed(parts))


_JSON_MEMBER = re.compile(r'"((?:[^"\\]|\\.){1,200})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)')


def mask_in_text(text: str) -> str:
    """Mask the values of credential-named members in (possibly truncated) JSON text, e.g. the first
    bytes of a bad body that an error message shows."""

    def mask(match: re.Match) -> str:
        if is_credential_name(match.group(1)):
            return f'"{match.group(1)}"{match.group(2)}"{MASK}"'
        return match.group(0)

    return _JSON_MEMBER.sub(mask, text)
