"""The rule sets decisions are judged by, loaded once per process and vetted for speed.

Decisions use the active rule set in the graph, else the shipped files. Each is prepared once
(its Turtle parsed, its context read) and kept by hash, and vetted on the generated corpus
(kgservice/decisions/corpus.py) before it is used: requests are judged together only if that
gives each exactly the findings it gets alone, and findings are remembered only if a request
graph gets the same ones under any IRI. A rule set that fails a check is simply judged without
that mechanism.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kgservice.decisions import corpus
from kgservice.decisions.rules import RedLines
from kgservice.graph.database import Runner
from kgservice.rulesets import repository as rulesets_repo
from kgservice.settings import DecisionEngineSettings

log = logging.getLogger("kgservice")


class RuleSetCache:
    """The shipped rule set (``default``) and every active one loaded so far, by hash."""

    def __init__(self, default: RedLines, settings: DecisionEngineSettings) -> None:
        self.settings = settings
        self.default = self._vetted(default)
        self._loaded: dict[str, RedLines] = {}

    def loaded(self, active: str | None) -> RedLines | None:
        """The rule set with hash ``active`` (None: the shipped one) if this process has it,
        else None."""
        if active is None or active == self.default.rule_set:
            return self.default
        return self._loaded.get(active)

    async def resolve(self, tx: Runner, active: str | None) -> RedLines:
        """The rule set with hash ``active`` (read by the caller), loaded once per process."""
        known = self.loaded(active)
        if known is not None:
            return known
        if active is None:  # loaded() answers for it; this tells the type checker
            return self.default
        found = await rulesets_repo.get(tx, active)
        if found is None:
            return self.default
        self._loaded[active] = self._vetted(RedLines(rules=found[1]))
        return self._loaded[active]

    async def active(self, tx: Runner) -> RedLines:
        """The rule set active in the graph as ``tx`` reads it."""
        return await self.resolve(tx, await rulesets_repo.active_hash(tx))

    def _vetted(self, redlines: RedLines) -> RedLines:
        """Let requests be judged together, and findings be remembered, where either changes
        nothing for these rules."""
        size = self.settings.batch_size
        redlines.batchable = _holds(
            # At least three full batches, whatever the size, so a batch is vetted at its size.
            lambda r: corpus.batches_like_singles(r, n=max(96, 3 * size), size=size),
            redlines,
            "not batched",
        )
        redlines.repeatable = _holds(corpus.findings_repeat, redlines, "findings not remembered")
        redlines.memo_size = self.settings.remembered_findings
        return redlines


def _holds(check: Callable[[RedLines], bool], redlines: RedLines, otherwise: str) -> bool:
    """The check's answer; False if it fails (a rule the engine fails on: each request is then
    judged, and fails, alone)."""
    try:
        return check(redlines)
    except Exception:
        log.warning(
            "rule set %s: %s, the check failed", redlines.rule_set, otherwise, exc_info=True
        )
        return False
