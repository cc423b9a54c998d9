"""Broken variants of a JSON document, for tests that bad input is refused cleanly.

Every value is replaced in turn by values of other types and by malformed ones, every key and
list item removed, and every object given keys it should not have (unknown ones, Python names,
comments, FHIR primitive-extension siblings, a second ``value[x]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

Json = Any

# Values put in place of every value.
REPLACEMENTS: tuple[Json, ...] = (
    None,
    "",
    " ",
    "a  b",
    "x\ny",
    "2026-13-01",
    "2026-02-30T10:00:00",
    "1e400",
    "true",
    "{}",
    0,
    -1,
    1.5,
    2**40,
    1e300,
    True,
    [],
    {},
    [None],
    ["x"],
    [{}],
    {"text": "t"},
)
# Keys added to every object: unknown, Python names, comments, primitive-extension siblings.
ADDED: tuple[tuple[str, Json], ...] = (
    ("unknown", 1),
    ("fhir_comments", "note"),
    ("resourceType", "Patient"),
    ("class_fhir", {"code": "x"}),
    ("valueString", "second choice"),
    ("effectivePeriod", {"start": "2026-01-01"}),
    ("extension", [{"url": "http://example.org/x", "valueBoolean": True}]),
    ("modifierExtension", [None]),
)


def paths(node: Json, at: tuple[Json, ...] = ()) -> Iterator[tuple[Json, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*at, key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from paths(value, (*at, k))


def _get(node: Json, path: tuple[Json, ...]) -> Json:
    for step in path:
        node = node[step]
    return node


def mutants(raw: Json) -> Iterator[Json]:
    text = json.dumps(raw)

    def fresh() -> Json:
        return json.loads(text)  # ~10x faster than copy.deepcopy here

    for path in paths(raw):
        target = _get(raw, path)
        if path:
            for value in REPLACEMENTS:
                m = fresh()
                _get(m, path[:-1])[path[-1]] = value
                yield m
            m = fresh()
            parent = _get(m, path[:-1])
            del parent[path[-1]]  # a key, or an item of a list
            yield m
            if not isinstance(target, (dict, list)) and isinstance(path[-1], str):
                m = fresh()
                _get(m, path[:-1])["_" + path[-1]] = {
                    "extension": [{"url": "http://example.org/why", "valueString": "unknown"}]
                }
                yield m
        if isinstance(target, list):
            m = fresh()
            _get(m, path).append(None)
            yield m
        if isinstance(target, dict):
            for key, value in ADDED:
                if key not in target:
                    m = fresh()
                    _get(m, path)[key] = value
                    yield m
