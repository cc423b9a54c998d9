"""Checking focus nodes against compiled shapes, many at a time.

A file has ~14 fields per record; checking them one call per field and shape cost more in
Python's function calls than in the checks. So a shape runs over all its focus nodes in one
loop, and a property shape that depends on its values alone (``Shape.memo``) costs a dictionary
look-up per focus node. Nested shapes (``sh:node``, ``sh:or``, ...) are checked the same way,
over the value nodes of their parent.

Two more memos, each exact for the reason given where it is used: a node shape whose verdict
depends on its focus node's values alone (``Shape.node_memo``: R-TIER-LEVEL's three bands) is
judged once per combination of values, and a property shape that looks past its values
(``sh:class``: "the field is in a patient record") once per value tuple for as long as the graph
does not change (``Data.scratch``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ingest.fastshacl.shapes import Shape, Step
from ingest.fastshacl.terms import Data, Node

Result = tuple[Node, str, Node | None]  # (focus node, source shape, offending value or None)
_MEMO_LIMIT = 100_000
_EMPTY: list[Node] = []


Broken = list[tuple[str, Node | None]]  # (source shape, offending value or None)
Key = tuple[object, ...]


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
        # Its verdict is a function of the value nodes and the graph (checks of the values, of
        # what they link to, of nested shapes over them), and the graph does not change while
        # its scratch memo lives: one verdict per value tuple.
        memo = data.scratch.setdefault(("failing", id(s)), {})
        bad: set[Node] = set()
        for f, vals in _values_each(data, s.path, foci):
            key = tuple(vals)
            verdict = memo.get(key)
            if verdict is None:
                verdict = memo[key] = bool(_own(data, s, vals)) or any(
                    failing(data, p, vals) for p in s.properties
                )
            if verdict:
                bad.add(f)
        return bad
    if s.node_memo is not None:
        return {f for f, _ in _node_broken(data, s, foci)}
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
            return [
                (f, source, v) for f, broken in _leaf_broken(data, s, foci) for source, v in broken
            ]
        # As in ``failing``: what the values break, and what nested shapes report about the
        # values (whatever the focus node), are one per value tuple while the graph is unchanged.
        memo: dict[Key, tuple[Broken, list[Result]]] = data.scratch.setdefault(
            ("results", id(s)), {}
        )
        out: list[Result] = []
        for f, vals in _values_each(data, s.path, foci):
            key = tuple(vals)
            found = memo.get(key)
            if found is None:
                nested = [r for prop in s.properties for r in batch_results(data, prop, vals)]
                found = memo[key] = (_own(data, s, vals), nested)
            out += [(f, source, v) for source, v in found[0]]
            out += found[1]
        return out
    if s.node_memo is not None:
        return [(f, source, v) for f, broken in _node_broken(data, s, foci) for source, v in broken]
    return _node_results(data, s, foci)


def _node_results(data: Data, s: Shape, foci: Sequence[Node]) -> list[Result]:
    # A node shape's value nodes are its focus nodes (so a value is never None here).
    out: list[Result] = [(v, source, v) for source, v in _own(data, s, foci) if v is not None]
    for prop in s.properties:
        out += batch_results(data, prop, foci)
    return out


def _keys(data: Data, s: Shape, foci: Sequence[Node]) -> Iterator[tuple[Node, Key]]:
    """Each focus node with its values on the shape's key paths: per path, the tuple of value
    nodes, or their number where only that counts."""
    paths = s.key_paths or ()
    if all(len(path) == 1 and not path[0][0] for path, _ in paths):
        predicates = [(path[0][1], counted) for path, counted in paths]
        none = tuple(0 if counted else () for _, counted in predicates)
        get = data.out.get
        for f in foci:
            by_p = get(f) if isinstance(f, str) else None
            if by_p is None:
                yield f, none  # a literal, or a node with no values at all
            else:
                yield (
                    f,
                    tuple(
                        [
                            len(by_p.get(p, _EMPTY)) if counted else tuple(by_p.get(p, _EMPTY))
                            for p, counted in predicates
                        ]
                    ),
                )
    else:
        for f in foci:
            found = [(values(data, path, f), counted) for path, counted in paths]
            yield f, tuple([len(v) if counted else tuple(v) for v, counted in found])


def _node_broken(data: Data, s: Shape, foci: Sequence[Node]) -> list[tuple[Node, Broken]]:
    """(focus, broken constraints) for a node shape judged by its values (``Shape.node_memo``),
    focus nodes that break any. A focus node is judged like any other the first time its
    combination of values is seen; the results name either one of those values (the same for
    every focus node with them), none, or the focus node itself, which is remembered as such."""
    memo = s.node_memo
    if memo is None:
        raise ValueError(f"{s.name} is not judged by its values")
    out: list[tuple[Node, Broken]] = []
    for f, key in _keys(data, s, foci):
        remembered = memo.get(key)
        if remembered is None:
            found = _node_results(data, s, [f])
            if any(f in part for part in key if isinstance(part, tuple)):
                # A value is the focus node itself: which is meant cannot be told apart later.
                if found:
                    out.append((f, [(source, v) for _, source, v in found]))
                continue
            if len(memo) > _MEMO_LIMIT:
                memo.clear()
            remembered = memo[key] = [
                (source, None, True) if v == f else (source, v, False) for _, source, v in found
            ]
        if remembered:
            out.append((f, [(source, f if is_focus else v) for source, v, is_focus in remembered]))
    return out
