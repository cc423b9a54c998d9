"""No module of the service imports itself through others (CONVENTIONS.md practice 15).

import-linter's ``acyclic_siblings`` contract (pyproject.toml) holds inside each package; a cycle
that crosses packages (say ``auth.access`` importing ``deps``, which imports a service that
imports ``auth.access``) is found here, on the same graph (grimp, import-linter's own library). The
domain packages themselves may depend on each other both ways (a domain's endpoints use the
request dependencies, which use other domains' services), so the check is on modules.
Imports under ``TYPE_CHECKING`` count: a cycle hidden from the interpreter is still one in the
design.
"""

from __future__ import annotations

import grimp

ROOTS = ("kgservice", "ingest", "settlement")


def cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Every import cycle that some import closes: for each import, the shortest chain back from
    the imported module to its importer; each cycle once, from its first module in name order
    round to that module again."""
    found = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                loop = (importer, *back[:-1])
                first = loop.index(min(loop))
                found.add((*loop[first:], *loop[:first], loop[first]))
    return sorted(found)


def test_no_module_imports_itself_through_others() -> None:
    found = cycles(grimp.build_graph(*ROOTS, cache_dir=None))
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_check_finds_a_cycle_and_says_where_it_runs() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("app.access", "app.deps"),
        ("app.deps", "app.decisions"),
        ("app.decisions", "app.reviews"),
        ("app.reviews", "app.access"),
        ("app.reviews", "app.models"),
        ("app.access", "app.models"),
        ("app.models", "app.roles"),
        ("app.roles", "app.models"),
    ]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [
        ("app.access", "app.deps", "app.decisions", "app.reviews", "app.access"),
        ("app.models", "app.roles", "app.models"),
    ]
