"""The spaCy pipeline: a blank Chinese pipeline segmented by jieba (which works offline; pkuseg
and every trained zh pipeline download models), plus two rule components.

``hs_identifiers`` puts the identifier recognisers' findings in ``doc.spans["identifiers"]``
and uses jieba's words to settle a name's length ("张伟" vs "张伟男"); ``hs_clinical`` puts
diagnoses, drugs, measurements, sex and dates in ``doc.spans["clinical"]``. The exact character
offsets (which spaCy spans round to token boundaries) are kept in ``doc.user_data``.
"""

from __future__ import annotations

import logging
from functools import cache

import jieba
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan

from ingest.nlp.clinical import entities
from ingest.nlp.identifiers import Span, identifiers
from ingest.nlp.text import fold

jieba.setLogLevel(logging.WARNING)  # it prints its dictionary loading at INFO


def _token_spans(doc: Doc, found: list[tuple[int, int, str]]) -> list[SpacySpan]:
    out = []
    for start, end, label in found:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None:
            out.append(span)
    return out


def _settle_name(doc: Doc, s: Span) -> Span:
    """Where the name runs straight into more text ("患者张伟说"), the rules cannot tell where it
    ends; a jieba word that starts with it and is a plausible name settles it. A name followed by
    punctuation, a space or the end of the text keeps the rules' length."""
    text = doc.text
    if s.end >= len(text) or not ("\u4e00" <= text[s.end] <= "\u9fff"):
        return s
    for token in doc:
        plausible = 2 <= len(token.text) <= 4 and token.is_alpha and token.text[0] == s.text[0]
        if token.idx == s.start and plausible and token.text != s.text:
            return Span(s.start, s.start + len(token.text), "name", token.text, s.score, s.context)
    return s


@Language.component("hs_identifiers")
def identifier_component(doc: Doc) -> Doc:
    found = [_settle_name(doc, s) if s.type == "name" else s for s in identifiers(doc.text)]
    doc.user_data["identifiers"] = found
    doc.spans["identifiers"] = _token_spans(doc, [(s.start, s.end, s.type) for s in found])
    return doc


@Language.component("hs_clinical")
def clinical_component(doc: Doc) -> Doc:
    found = entities(fold(doc.text))
    doc.user_data["clinical"] = found
    doc.spans["clinical"] = _token_spans(doc, [(e.start, e.end, e.type) for e in found])
    return doc


@cache
def nlp() -> Language:
    """The pipeline, built once per process (~1 s: jieba loads its dictionary)."""
    pipeline = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    pipeline.add_pipe("hs_identifiers")
    pipeline.add_pipe("hs_clinical")
    return pipeline


def find_identifiers(text: str) -> list[Span]:
    """Every identifier in ``text`` with exact character offsets."""
    found: list[Span] = nlp()(text).user_data["identifiers"]
    return found
