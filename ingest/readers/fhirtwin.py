"""A fast, stricter twin of fhir.resources' models, for the FHIR Bundles we read.

fhir.resources validates each nested element through Python: a wrap validator per element that
calls back into pydantic, a "before" validator looping over every field of the class, and an
"after" one for choice types and required primitives. For a Bundle of 1,000 patients (7,000
resources, ~51,000 elements) that is ~1.0 s, three quarters of what reading FHIR costs.

The twin is built at run time from fhir.resources' own model metadata, so it cannot drift from
it: the same field names, JSON keys and primitive types (the very ``Annotated`` types, so every
value parses to what fhir.resources would give), with nested elements as plain pydantic models
that pydantic-core validates in one pass. It only accepts a subset of what fhir.resources
accepts — it is stricter wherever it is simpler to be:

- only the JSON names (fhir.resources also takes Python names such as ``class_fhir``);
- no ``_field`` primitive-extension siblings and no ``fhir_comments``;
- required elements must be present and not null (fhir.resources lets an extension stand in
  for a required primitive);
- no null inside any list of elements; a nested element must be a JSON object (fhir.resources
  also parses a JSON string);
- a resource in ``Bundle.entry.resource`` or ``contained`` must be one of the types we read.

Choice types (``value[x]``) are checked as fhir.resources checks them: at most one, and one when
required. Anything the twin refuses goes to fhir.resources, which gives the error or accepts it;
so a Bundle is read the same either way, only faster when the twin takes it. The claim "the
twin accepts only what fhir.resources accepts, with the same values" is tested on the sample
Bundles and on thousands of broken variants of them (tests/unit/test_fhirtwin.py).
"""

from __future__ import annotations

import functools
import logging
import types
import typing
import warnings
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional, Union

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    create_model,
    model_validator,
)

# The resource types the reader handles (ingest/readers/fhir.py); any other is fhir.resources'.
RESOURCES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Consent",
)
_CONFIG = ConfigDict(extra="forbid")
log = logging.getLogger(__name__)


class Unsupported(Exception):
    """A field whose type the twin does not reproduce: it is left out, so its key is refused."""


def _resource_tag(value: Any) -> str | None:
    return value.get("resourceType") if isinstance(value, dict) else None


class _Builder:
    """Twins of the fhir.resources classes reachable from Bundle, by class name."""

    def __init__(self) -> None:
        self.twins: dict[str, type[BaseModel]] = {}
        self.building: set[str] = set()

    def twin(self, cls: type[FHIRAbstractModel]) -> str:
        """The twin's name (a forward reference until it is built, for recursive types)."""
        name = "Twin" + cls.__name__
        if name in self.twins or name in self.building:
            return name
        if not _only_base_behaviour(cls):
            raise Unsupported(f"{cls.__name__} validates in ways of its own")
        self.building.add(name)
        required = {field for field, _ in cls.get_required_fields(None)}  # type: ignore[arg-type]
        fields: dict[str, Any] = {}
        for field, info in cls.model_fields.items():
            if field == "fhir_comments" or field.endswith("__ext"):
                continue
            try:
                kind = self._field_type(info.annotation)
            except Unsupported:
                continue
            key = info.alias or field
            if info.is_required() or field in required:
                fields[field] = (kind, Field(alias=key))
            else:
                # Optional[...], not "| None": ``kind`` may be a forward reference (a str).
                fields[field] = (Optional[kind], Field(default=None, alias=key))  # noqa: UP045
        if cls.has_resource_base() and "resourceType" not in cls.model_fields:
            fields["resourceType"] = (Literal[cls.get_resource_type()], ...)
        validators: dict[str, Any] = {}
        choices = _choices(cls)
        if choices:
            validators["one_of_many"] = model_validator(mode="after")(_choice_check(choices))
        with warnings.catch_warnings():
            # Field names such as "json" or "copy" shadow BaseModel methods, as in fhir.resources.
            warnings.simplefilter("ignore")
            model = create_model(name, __config__=_CONFIG, __validators__=validators, **fields)
        # What the reader's handlers ask a resource for, as of fhir.resources' models.
        setattr(model, "__resource_type__", cls.get_resource_type())  # noqa: B010
        self.twins[name] = model
        self.building.discard(name)
        return name

    def _field_type(self, annotation: Any) -> Any:
        inner = _without_none(annotation)
        if typing.get_origin(inner) is list:
            (item,) = typing.get_args(inner)
            return list[self._element(item)]  # type: ignore[misc]
        return self._element(inner)

    def _element(self, kind: Any) -> Any:
        if isinstance(kind, type) and issubclass(kind, FhirBase):
            model = kind.get_model_klass()
            if issubclass(kind, FhirElementOrResourceBase):
                if model.__name__ not in ("Resource", "DomainResource"):
                    raise Unsupported(f"any element of type {model.__name__}")
                return self._resources()
            return self.twin(model)
        if _mentions_model(kind):
            raise Unsupported(f"{kind!r}")
        return kind  # a primitive: fhir.resources' own annotated type

    def _resources(self) -> Any:
        members = tuple(
            Annotated[self.twin(get_fhir_model_class(name)), Tag(name)] for name in RESOURCES
        )
        # typing.Union: the members are forward references to twins still being built.
        return Annotated[Union[members], Discriminator(_resource_tag)]  # noqa: UP007


def _function(decorator: Any) -> Any:
    return getattr(decorator.func, "__func__", decorator.func)  # a classmethod's function


def _only_base_behaviour(cls: type[FHIRAbstractModel]) -> bool:
    """Whether validating ``cls`` does only what every fhir.resources element does — the very
    validators of the base class, its ``__init__``, no extra keys — which the twin reproduces.
    A class that adds or overrides any of it (FHIRPrimitiveExtension does) is not twinned."""
    base = FHIRAbstractModel.__pydantic_decorators__
    ours = cls.__pydantic_decorators__
    if ours.field_validators or ours.validators or ours.root_validators:
        return False
    if ours.model_validators.keys() != base.model_validators.keys():
        return False
    same = all(
        _function(ours.model_validators[n]) is _function(base.model_validators[n])
        for n in base.model_validators
    )
    return (
        same
        and cls.__init__ is FHIRAbstractModel.__init__
        and (cls.model_config.get("extra") == "forbid")
    )


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _mentions_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, (FhirBase, BaseModel)):
        return True
    return any(_mentions_model(a) for a in typing.get_args(annotation))


Choices = tuple[tuple[tuple[str, ...], bool], ...]  # (fields of one choice, required)


def _choices(cls: type[FHIRAbstractModel]) -> Choices:
    groups = cls.get_one_of_many_fields(None)  # type: ignore[arg-type]
    out = []
    for names in groups.values():
        extra = cls.model_fields[names[0]].json_schema_extra
        required = isinstance(extra, dict) and extra.get("one_of_many_required") is True
        out.append((tuple(names), required))
    return tuple(out)


def _choice_check(choices: Choices) -> Any:
    def one_of_many(self: BaseModel) -> BaseModel:
        values = self.__dict__
        for names, required in choices:
            present = sum(1 for n in names if values.get(n) is not None)
            if present > 1 or (required and present == 0):
                # Never shown: a refusal only sends the Bundle to fhir.resources.
                raise ValueError(f"at most one of {list(names)}, one if required")
        return self

    return one_of_many


@functools.cache
def bundle_twin() -> type[BaseModel] | None:
    """The twin of Bundle (built once per process, ~0.3 s); None if a version of fhir.resources
    validates Bundles in a way the twin does not reproduce (then it judges every Bundle)."""
    builder = _Builder()
    try:
        root = builder.twin(Bundle)
    except Unsupported as e:
        log.warning("FHIR Bundles are validated by fhir.resources alone: %s", e)
        return None
    model = builder.twins[root]
    # Twins refer to each other by name (Identifier and Reference to each other, for one).
    # Rebuilding the root resolves them all into its one schema; nested twins are only ever
    # validated through it.
    model.model_rebuild(force=True, _types_namespace=dict(builder.twins))
    return model


def validate_json(data: bytes) -> BaseModel | None:
    """As ``validate`` on the JSON text itself: pydantic-core parses it while it validates, with
    no dictionaries in between (1,000 patients: 0.145 s against 0.172 s for ``json.loads`` and
    ``validate``, least of five, collector off). None whenever either the twin or the text is
    refused — then the reader decodes the text as before and decides; the tests hold both ways
    to the same result, on every variant the twin's differential test makes."""
    return _judged(lambda twin: twin.model_validate_json(data))


def validate(raw: dict[str, Any]) -> BaseModel | None:
    """The Bundle as the twin reads it, or None when the twin refuses it (then fhir.resources
    decides)."""
    return _judged(lambda twin: twin.model_validate(raw))


def _judged(read: Callable[[type[BaseModel]], BaseModel]) -> BaseModel | None:
    twin = bundle_twin()
    if twin is None:
        return None
    try:
        return read(twin)
    except (ValidationError, ValueError, TypeError):
        return None
