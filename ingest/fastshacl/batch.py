"""Checking focus nodes against compiled shapes, many at a time.

A file has ~14 fields per record; checking them one call per field and shape cost more in
Python's function calls than in the checks. So a shape runs over all its focus nodes in one
loop, and a property shape that depends on its values alone (``Shape.memo``) costs a dictionary
look-up per focus node. Nested shapes (``sh:node``, ``sh:or``, ...) are checked the same way,
over the value nodes of their parent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ingest.fastshacl.shapes import Shape, Step
from ingest.fastshacl.terms import Data, Node

Result = tuple[Node, str, Node | None]  # (focus node, source shape, offending value or None)
_MEMO_LIMIT = 100_000
_EMPTY: list[Node] = []


Broken = list[tuple[str, Node | None]]  # (source shape, offending value or None)


def values(data: Data, path: tuple[Step, ...], focus: Node) -> list[Node]:
    """The value nodes of a path (do not change the list: it may be the index's own)."""
    if len(path) == 1 and not path[0][0]:
        return data.values(focus, path[0][1])
    nodes: list[Node] = [focus]
    for inverse, p in path:
        found: dict[Node, None] = {}
        for n in nodes:
            found.update(dict.fromkeys(data.inverse(n, p) if inverse else data.values(n, p)))
        nodes = list(found)
    return nodes


def _own(data: Data, s: Shape, nodes: Sequence[Node]) -> Broken:
    """The shape's own constraints (not its property shapes) that its value nodes break."""
    out: Broken = []
    if s.path is not None:
        n = len(nodes)
        if s.min_count is not None and n < s.min_count:
            out.append((s.name, None))
        if s.max_count is not None and n > s.max_count:
            out.append((s.name, None))
        out += [(s.name, None) for v in s.has_value if v not in nodes]
    out += [(s.name, v) for v in nodes for check in s.simple if not check(data, v)]
    for kind, shapes in s.logic:
        bad = _logic_failing(data, kind, shapes, nodes)
        out += [(s.name, v) for v in nodes if v in bad]
    return out


def _values_each(
    data: Data, path: tuple[Step, ...], foci: Sequence[Node]
) -> Iterator[tuple[Node, list[Node]]]:
    """Each focus node with its values on the path (a single predicate looked up inline)."""
    if len(path) == 1 and not path[0][0]:
        p = path[0][1]
        get = data.out.get
        for f in foci:
            by_p = get(f) if isinstance(f, str) else None
            yield f, (by_p.get(p, _EMPTY) if by_p is not None else _EMPTY)
    else:
        for f in foci:
            yield f, values(data, path, f)


def _leaf_broken(data: Data, s: Shape, foci: Sequence[Node]) -> list[tuple[Node, Broken]]:
    """(focus, broken constraints) for a memo-able property shape, focus nodes that break any."""
    memo, path = s.memo, s.path
    if memo is None or path is None:
        raise ValueError(f"{s.name} is not a memo-able property shape")
    counted = s.counts_only
    out = []
    for f, vals in _values_each(data, path, foci):
        key: object = len(vals) if counted else tuple(vals)
        broken = memo.get(key)
        if broken is None:
            if len(memo) > _MEMO_LIMIT:
                memo.clear()
            broken = memo[key] = _own(data, s, vals)
        if broken:
            out.append((f, broken))
    return out


def failing(data: Data, s: Shape, foci: Sequence[Node]) -> set[Node]:
    """The focus nodes that do not conform to ``s``."""
    if s.deactivated or not foci:
        return set()
    if s.path is not None:
        if s.memo is not None:
            return {f for f, _ in _leaf_broken(data, s, foci)}
        return {
            f
            for f, vals in _values_each(data, s.path, foci)
            if _own(data, s, vals) or any(failing(data, p, vals) for p in s.properties)
        }
    # A node shape's value nodes are its focus nodes: what its own constraints name is them.
    bad = {v for _, v in _own(data, s, foci) if v is not None}
    for prop in s.properties:
        bad |= failing(data, prop, foci)
    return bad


def _logic_failing(data: Data, kind: str, shapes: list[Shape], foci: Sequence[Node]) -> set[Node]:
    if kind == "node":
        return failing(data, shapes[0], foci)
    if kind == "not":
        return set(foci) - failing(data, shapes[0], foci)
    fails = [failing(data, x, foci) for x in shapes]
    if kind == "and":
        return set().union(*fails)
    if kind == "or":
        return set(foci).intersection(*fails)
    # xone: exactly one conforms
    return {f for f in foci if sum(f not in bad for bad in fails) != 1}


def batch_results(data: Data, s: Shape, foci: Sequence[Node]) -> list[Result]:
    """Every constraint of ``s`` that each focus node breaks, as SHACL validation reports them
    (a nested property shape's results name the value node it was checked on as focus)."""
    if s.deactivated or not foci:
        return []
    if s.path is not None:
        if s.memo is not None:
            return [(f, source, v) for f, broken in _leaf_broken(data, s, foci)
                    for source, v in broken]  # fmt: skip
        out: list[Result] = []
        for f, vals in _values_each(data, s.path, foci):
            out += [(f, source, v) for source, v in _own(data, s, vals)]
            for prop in s.properties:
                out += batch_results(data, prop, vals)
        return out
    # A node shape's value nodes are its focus nodes (so a value is never None here).
    out = [(v, source, v) for source, v in _own(data, s, foci) if v is not None]
    for prop in s.properties:
        out += batch_results(data, prop, foci)
    return out
