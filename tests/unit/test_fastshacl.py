"""The compiled checker gives the general engines' verdicts, and steps aside where it cannot.

The rule cases and sample files hold it to pySHACL (test_rule_cases.py, test_readers.py); here a
generated corpus of broken records holds it to shifty and, on a smaller part, to pySHACL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH

from ingest.fastshacl.batch import failing
from ingest.fastshacl.engine import analyse
from ingest.fastshacl.shapes import compile_shapes
from ingest.fastshacl.sparql import recognise
from ingest.fastshacl.terms import RDF_TYPE, Lit, Unreadable, read_ntriples
from ingest.grading import RULE_FILES, SHAPES_DIR, Engine, Grade, Graded, Grader
from ingest.model import Datum, Extracted, Subject, SubjectKind
from ingest.rdf import HS, build

KINDS = (
    "PersonName",
    "ResidentId",
    "PhoneNumber",
    "Address",
    "MedicalRecordNumber",
    "DeviceUserId",
    "BirthDate",
    "Sex",
    "FastingGlucose",
    "PostprandialGlucose",
    "RandomGlucose",
    "HbA1c",
    "SystolicPressure",
    "DiastolicPressure",
    "BodyWeight",
    "EGFR",
    "HIVTest",
    "Condition",
    "MedicationStatement",
    "Prescription",
    "EncounterDate",
    "ConsentStatement",
    "InsuranceNumber",
    "InstitutionName",
    "AggregateCount",
    "UnknownKind",
)
VALUES: tuple[str | Decimal | int, ...] = (
    Decimal("7.2"),
    Decimal("0.4"),
    Decimal("61"),
    Decimal("3"),
    Decimal("20.5"),
    Decimal("250"),
    Decimal("-1"),
    42,
    0,
    "13812345678",
    "12345",
    "010-65123456",
    "110105194912310021",
    "11010519491231002X",
    "11010519491231002",
    "张三",
    "negative",
    'a "quoted"\nvalue',
)
UNITS = (None, "mmol/L", "mg/dL", "%", "mm[Hg]", "kg", "mL/min/{1.73_m2}", "lb")
CODES = (None, "E11.9", "B20", "A50.1", "L13.8", "E10.6", "e11", "Z99.999999")
NOW = datetime.now(UTC)
TIMES = (None, NOW - timedelta(days=30), NOW + timedelta(days=30), datetime(2020, 1, 1))
CONFIDENCES = (1.0, 0.95, 0.8, 0.79, 0.3, 0.0, 1.2, -0.1)


def corpus(rng: random.Random, n: int) -> Extracted:
    subjects = []
    for i in range(n):
        data = []
        for j in range(rng.randint(0, 6)):
            data.append(
                Datum(
                    rng.choice(KINDS),
                    rng.choice(VALUES),
                    f"row {i} col {j}",
                    rng.choice(UNITS),
                    rng.choice(TIMES),
                    rng.choice(CODES),
                    rng.choice(CONFIDENCES),
                )
            )
        subjects.append(Subject(rng.choice(list(SubjectKind)), f"s{i}", data))
    return Extracted("corpus", "generated", subjects)


def verdicts(graded: Graded) -> tuple[dict[str, Grade], set[tuple[str, str, str]]]:
    return graded.grades, {(f.focus, f.rule.id, f.value or "") for f in graded.findings}


@pytest.fixture(scope="module")
def graders() -> dict[Engine, Grader]:
    return {engine: Grader.from_directory(engine=engine) for engine in Engine}


def test_the_shipped_rules_compile(graders: dict[Engine, Grader]) -> None:
    compiled = graders[Engine.compiled]
    assert compiled.engine is Engine.compiled
    assert compiled.fallback is None


@pytest.mark.parametrize("seed", range(4))
def test_compiled_matches_shifty_on_a_corpus_of_broken_records(
    seed: int, graders: dict[Engine, Grader]
) -> None:
    extracted = corpus(random.Random(seed), 300)
    graph, refs, _ = build(extracted, "clinic-b", f"{seed:064x}")
    text = graph.ntriples()
    fast = verdicts(graders[Engine.compiled].grade(graph))
    assert fast == verdicts(graders[Engine.shifty].grade(text))
    assert fast == verdicts(graders[Engine.compiled].grade(text))  # from text, the same
    rules = {rule for _, rule, _ in fast[1]}
    assert len(rules) >= 12, rules  # the corpus breaks most rules, not one or two
    assert len(fast[0]) > len(refs) // 3  # and grades many fields


def test_compiled_matches_pyshacl_on_part_of_the_corpus(graders: dict[Engine, Grader]) -> None:
    extracted = corpus(random.Random(99), 40)
    text = build(extracted, "clinic-b", "9" * 64)[0].ntriples()
    fast = verdicts(graders[Engine.compiled].grade(text))
    assert fast == verdicts(graders[Engine.pyshacl].grade(text))
    assert fast[1]


def _shapes_with(extra: str) -> Graph:
    g = Graph()
    for name in RULE_FILES:
        g.parse(data=(SHAPES_DIR / name).read_text("utf-8"), format="turtle")
    return g.parse(data=extra, format="turtle")


def test_shapes_it_cannot_compile_make_the_grader_use_the_engine() -> None:
    extra = """
        @prefix hs: <https://w3id.org/health-shield/ns#> .
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        hs:R-EQUALS a sh:NodeShape ; hs:ruleId "R-EQUALS" ; sh:targetClass hs:Sex ;
            sh:message "x"@en , "x"@zh ; sh:severity sh:Violation ;
            sh:property [ sh:path hs:value ; sh:equals hs:code ] .
    """
    grader = Grader(_shapes_with(extra), Engine.compiled)
    assert grader.engine is Engine.shifty
    assert grader.fallback is not None
    assert "equals" in grader.fallback
    datum = Datum("Sex", "male", "x")
    graph = build(Extracted("t", "t", [Subject(SubjectKind.patient, "s", [datum])]), "c", "0" * 64)
    findings = grader.grade(graph[0]).findings
    assert {f.rule.id for f in findings} == {"R-EQUALS"}  # the engine ran the new rule


def test_a_rule_whose_condition_reads_what_rules_infer_is_left_to_the_engine() -> None:
    extra = """
        @prefix hs: <https://w3id.org/health-shield/ns#> .
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        hs:G-CHAINED a sh:NodeShape ; hs:ruleId "G-CHAINED" ; sh:targetClass hs:Sex ;
            sh:message "x"@en , "x"@zh ; sh:severity sh:Violation ;
            sh:rule [ a sh:TripleRule ; sh:subject sh:this ; sh:predicate hs:note ;
                      sh:object "public" ;
                      sh:condition [ sh:property [ sh:path hs:protectionTier ;
                                                   sh:hasValue hs:Public ] ] ] .
    """
    grader = Grader(_shapes_with(extra), Engine.compiled)
    assert grader.engine is Engine.shifty
    assert "infer" in (grader.fallback or "")


def test_text_that_is_not_plain_ntriples_goes_to_the_engine(graders: dict[Engine, Grader]) -> None:
    with pytest.raises(Unreadable):
        read_ntriples("<urn:a> <urn:p> <urn:b> .\nthis is not a triple\n")
    datum = Datum("PhoneNumber", "12345", "x")
    graph = build(Extracted("t", "t", [Subject(SubjectKind.patient, "s", [datum])]), "c", "0" * 64)
    text = "# a comment line the compiled reader keeps\n" + graph[0].ntriples()
    turtle_ish = text.replace(" .\n", " . \n", 1)  # trailing blank: still one triple a line
    assert verdicts(graders[Engine.compiled].grade(turtle_ish)) == verdicts(
        graders[Engine.shifty].grade(text)
    )


def test_literals_read_from_text_are_the_terms_build_makes() -> None:
    data = read_ntriples(
        '<urn:f> <urn:v> "7.2"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
        '<urn:f> <urn:v> "a \\"q\\"\\n\\u00e9" .\n<urn:f> <urn:v> "x"@EN .\n'
    )
    assert data.values("urn:f", "urn:v") == [
        Lit("7.2", "http://www.w3.org/2001/XMLSchema#decimal"),
        Lit('a "q"\né', "http://www.w3.org/2001/XMLSchema#string"),
        Lit("x", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", "en"),
    ]


def _reads(query: str) -> tuple[set[str] | None, bool]:
    from rdflib.plugins.sparql import prepareQuery

    q = prepareQuery("PREFIX ex: <urn:ex:> " + query)
    reads = analyse(q.algebra)
    return reads.predicates, reads.star


def test_what_a_delegated_query_can_read() -> None:
    assert _reads("SELECT $this WHERE { $this ex:a ?v . FILTER(?v > 1) }") == ({"urn:ex:a"}, True)
    # a pattern away from the focus node: the predicate's triples, whoever their subject
    assert _reads("SELECT $this WHERE { $this ex:a ?r . ?r ex:b ?v }") == (
        {"urn:ex:a", "urn:ex:b"},
        False,
    )
    preds, star = _reads("SELECT $this WHERE { $this ex:a/ex:c ?v }")
    assert preds is not None
    assert {"urn:ex:a", "urn:ex:c"} <= preds
    assert not star
    assert _reads("SELECT $this WHERE { $this ?p ?v }")[0] is None  # any predicate: everything
    assert _reads("SELECT $this WHERE { $this !ex:a ?v }")[0] is None
    inner = "SELECT $this WHERE { $this ex:a ?v . FILTER NOT EXISTS { ?x ex:b $this } }"
    assert _reads(inner) == ({"urn:ex:a", "urn:ex:b"}, False)
    sub = "SELECT $this WHERE { $this ex:a ?v . { SELECT ?this WHERE { ?this ex:b ?w } } }"
    assert _reads(sub)[1] is False  # a subquery's ?this is not the focus node


SHAPE_PREFIXES = """
@prefix ex: <urn:ex:> .
@prefix hs: <https://w3id.org/health-shield/ns#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
CONSTRUCTS = (
    SHAPE_PREFIXES
    + """
ex:HasValue a sh:NodeShape ; hs:ruleId "X-HAS-VALUE" ; sh:targetClass ex:Item ;
    sh:property [ sh:path ex:status ; sh:hasValue "ok" ] .
ex:Inverse a sh:NodeShape ; hs:ruleId "X-INVERSE" ; sh:targetClass ex:Item ;
    sh:property [ sh:path [ sh:inversePath ex:part ] ; sh:minCount 1 ; sh:class ex:Box ] .
ex:Sequence a sh:NodeShape ; hs:ruleId "X-SEQUENCE" ; sh:targetObjectsOf ex:part ;
    sh:property [ sh:path ( ex:made ex:year ) ; sh:maxCount 1 ;
                  sh:minExclusive 1990 ; sh:maxExclusive 2030 ; sh:datatype xsd:integer ] .
ex:Logic a sh:NodeShape ; hs:ruleId "X-LOGIC" ; sh:targetSubjectsOf ex:label ;
    sh:xone ( [ sh:property [ sh:path ex:label ; sh:minLength 3 ] ]
              [ sh:property [ sh:path ex:label ; sh:pattern "^x" ; sh:flags "i" ] ] ) ;
    sh:not [ sh:property [ sh:path ex:label ; sh:maxLength 1 ] ] ;
    sh:and ( [ sh:nodeKind sh:IRI ] [ sh:property [ sh:path ex:label ; sh:minCount 1 ] ] ) .
ex:Node a sh:NodeShape ; hs:ruleId "X-NODE" ; sh:targetNode ex:a , ex:zz ;
    sh:node [ sh:property [ sh:path ex:status ; sh:in ( "ok" "fine" ) ; sh:minCount 1 ] ] .
"""
)
DATA = """
@prefix ex: <urn:ex:> .
ex:box1 a ex:Box ; ex:part ex:a , ex:b . ex:crate a ex:Crate ; ex:part ex:c .
ex:a a ex:Item ; ex:status "ok" ; ex:label "Xy" ; ex:made ex:m1 .
ex:b a ex:Item ; ex:status "bad" , "ok" ; ex:label "abcd" , "x" ; ex:made ex:m1 , ex:m2 .
ex:c a ex:Item ; ex:status "no" ; ex:label "xylophone" ; ex:made ex:m3 .
ex:d a ex:Item ; ex:label "a" .
ex:m1 ex:year 1995 . ex:m2 ex:year 2031 . ex:m3 ex:year "1999" .
"""


def _rules(turtle: str) -> Graph:
    """Shapes with a message on every rule, as the grader wants them."""
    shapes = Graph().parse(data=turtle, format="turtle")
    for s in list(shapes.subjects(HS.ruleId, None)):
        shapes.add((s, SH.message, Literal("m", lang="en")))
    return shapes


def test_constructs_the_shipped_rules_do_not_use_give_the_engines_verdicts() -> None:
    shapes = _rules(CONSTRUCTS)
    text = Graph().parse(data=DATA, format="turtle").serialize(format="nt")
    outcomes = {e: verdicts(Grader(shapes, e).grade(text)) for e in Engine}
    assert Grader(shapes, Engine.compiled).engine is Engine.compiled
    assert outcomes[Engine.compiled] == outcomes[Engine.pyshacl]
    # shifty's result names no value for an sh:node failure caused by a missing value (the
    # focus node ex:zz): the same findings otherwise.
    reported = {(focus, rule) for focus, rule, _ in outcomes[Engine.shifty][1]}
    assert reported == {(focus, rule) for focus, rule, _ in outcomes[Engine.pyshacl][1]}
    fired = {rule for _, rule, _ in outcomes[Engine.compiled][1]}
    assert fired == {"X-HAS-VALUE", "X-INVERSE", "X-SEQUENCE", "X-LOGIC", "X-NODE"}


# Node shapes judged once per combination of values (``Shape.node_memo``): over sequence and
# inverse paths, with a path on which only the count matters, and an item that is its own value
# (ex:e), judged before another item with the same value (ex:f), which must not be reported as
# its own value.
JUDGED_BY_VALUES = (
    SHAPE_PREFIXES
    + """
ex:Bands a sh:NodeShape ; hs:ruleId "X-BANDS" ; sh:targetClass ex:Item ;
    sh:or ( [ sh:property [ sh:path ( ex:made ex:year ) ; sh:maxInclusive 1995 ] ,
                          [ sh:path [ sh:inversePath ex:part ] ; sh:minCount 1 ] ]
            [ sh:property [ sh:path ( ex:made ex:year ) ; sh:minInclusive 2000 ] ] ) .
ex:Pair a sh:NodeShape ; hs:ruleId "X-PAIR" ; sh:targetClass ex:Item ;
    sh:property [ sh:path ex:status ; sh:datatype xsd:string ] ,
                [ sh:path ex:label ; sh:minCount 1 ; sh:maxCount 1 ] .
"""
)
JUDGED_DATA = """
@prefix ex: <urn:ex:> .
ex:e a ex:Item ; ex:status ex:e ; ex:made ex:m1 ; ex:label "e" .
ex:f a ex:Item ; ex:status ex:e ; ex:made ex:m1 ; ex:label "f" .
ex:box ex:part ex:g , ex:h .
ex:g a ex:Item ; ex:status "ok" ; ex:made ex:m1 ; ex:label "g" .
ex:h a ex:Item ; ex:status "ok" ; ex:made ex:m2 ; ex:label "h" , "hh" .
ex:i a ex:Item ; ex:status "ok" ; ex:made ex:m3 ; ex:label "i" .
ex:j a ex:Item ; ex:status "ok" ; ex:made ex:m2 .
ex:m1 ex:year 1990 . ex:m2 ex:year 1997 . ex:m3 ex:year 2001 .
"""


def test_shapes_judged_by_their_values_give_the_engines_verdicts() -> None:
    shapes = _rules(JUDGED_BY_VALUES)
    compiled = Grader(shapes, Engine.compiled)
    assert compiled.engine is Engine.compiled
    validator = compiled._compiled
    assert validator is not None
    assert all(s.node_memo is not None for s in validator.check_shapes)
    text = Graph().parse(data=JUDGED_DATA, format="turtle").serialize(format="nt")
    reference = verdicts(Grader(shapes, Engine.pyshacl).grade(text))
    for _ in range(2):  # the second time from what the first remembered
        assert verdicts(compiled.grade(text)) == reference
    findings = reference[1]
    assert ("urn:ex:f", "X-PAIR", "urn:ex:e") in findings
    assert ("urn:ex:e", "X-PAIR", "urn:ex:e") in findings
    assert {focus for focus, rule, _ in findings if rule == "X-BANDS"} == {
        "urn:ex:e",
        "urn:ex:f",
        "urn:ex:h",
        "urn:ex:j",
    }


def test_what_a_check_remembers_about_a_graph_is_forgotten_when_it_changes() -> None:
    shapes = Graph().parse(
        data="""
        @prefix ex: <urn:ex:> .
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        ex:InBox a sh:NodeShape ; sh:targetClass ex:Item ;
            sh:property [ sh:path ex:in ; sh:class ex:Box ] .
        """,
        format="turtle",
    )
    (shape,) = compile_shapes(shapes)
    (prop,) = shape.properties
    assert prop.memo is None  # sh:class looks past the value: remembered per graph only
    data = read_ntriples(
        "<urn:ex:a> <urn:ex:in> <urn:ex:c> .\n<urn:ex:b> <urn:ex:in> <urn:ex:c> .\n"
    )
    assert failing(data, prop, ["urn:ex:a", "urn:ex:b"]) == {"urn:ex:a", "urn:ex:b"}
    assert data.scratch
    data.add("urn:ex:c", RDF_TYPE, "urn:ex:Box")
    assert not data.scratch
    assert failing(data, prop, ["urn:ex:a", "urn:ex:b"]) == set()
    data.add_all(["urn:ex:z"], "urn:ex:in", "urn:ex:d")
    assert failing(data, prop, ["urn:ex:z", "urn:ex:a"]) == {"urn:ex:z"}


def _effective_times(values: dict[str, str]) -> str:
    return "".join(f"<urn:ex:{k}> <{HS}effectiveTime> {v} .\n" for k, v in values.items())


def _dt(lex: str) -> str:
    return f'"{lex}"^^<http://www.w3.org/2001/XMLSchema#dateTime>'


def test_a_time_compared_with_now_is_judged_without_the_engine_when_it_can_be(
    graders: dict[Engine, Grader],
) -> None:
    soon = (NOW + timedelta(days=3)).replace(tzinfo=None).isoformat(timespec="seconds")
    plain = {
        "future": _dt(soon + "Z"),
        "past": _dt("2020-01-01T08:00:00+08:00"),
        "east": _dt(soon + "+14:00"),
        "micro": _dt(soon + ".123456-05:00"),
    }
    unusual = {
        "naive": _dt(soon),  # no zone: pySHACL never reports it, shifty does
        "digits": _dt(soon + ".1234567Z"),  # finer than a microsecond
        "midnight": _dt("2999-01-01T24:00:00Z"),
        "word": '"soon"',  # pySHACL reports it, shifty does not
    }
    validator = graders[Engine.compiled]._compiled
    assert validator is not None
    assert validator.delegation is not None
    for values, native in [(plain, True)] + [({**plain, k: v}, False) for k, v in unusual.items()]:
        text = _effective_times(values)
        _, rest = validator.delegation.split(read_ntriples(text))
        assert ("R-NOT-FUTURE" not in {s.name.rsplit("#")[-1] for s in rest}) is native, values
        found = verdicts(graders[Engine.compiled].grade(text))[1]
        assert found == verdicts(graders[Engine.shifty].grade(text))[1]
        reported = {focus.rsplit(":")[-1] for focus, rule, _ in found if rule == "R-NOT-FUTURE"}
        assert {"future", "east", "micro"} <= reported
        assert "past" not in reported


def test_only_the_exact_form_of_a_comparison_with_now_is_recognised() -> None:
    from rdflib.plugins.sparql import prepareQuery

    def form(where: str, select: str = "SELECT $this ?value") -> tuple[str, str] | None:
        q = prepareQuery(f"PREFIX ex: <urn:ex:> {select} WHERE {{ {where} }}")
        found = recognise(q.algebra, "urn:ex:S")
        return None if found is None else (found.predicate, found.op)

    assert form("$this ex:t ?value . FILTER (?value > NOW())") == ("urn:ex:t", ">")
    assert form("$this ex:t ?value . FILTER (?value <= NOW())") == ("urn:ex:t", "<=")
    assert form("$this ex:t ?value . FILTER (NOW() < ?value)") == ("urn:ex:t", ">")
    assert form("$this ex:t ?value . FILTER (NOW() >= ?value)") == ("urn:ex:t", "<=")
    for where in (
        "$this ex:t ?value . FILTER (?value != NOW())",
        "$this ex:t ?value . FILTER (?value > NOW() && ?value > NOW())",
        '$this ex:t ?value . FILTER (?value > "2020-01-01T00:00:00Z")',
        "$this ex:t ?value . FILTER (?value > NOW() + 1)",
        "$this ex:t ?value . ?value ex:u ?w . FILTER (?value > NOW())",
        "$this ex:t/ex:u ?value . FILTER (?value > NOW())",
        "?other ex:t ?value . FILTER (?value > NOW())",
        "$this ex:t ?value . FILTER (?value > NOW()) BIND (1 AS ?x)",
        "$this ex:t ?value . OPTIONAL { $this ex:u ?w } FILTER (?value > NOW())",
    ):
        assert form(where) is None, where
    where = "$this ex:t ?value . FILTER (?value > NOW())"
    assert form(where.replace("?value", "?time"), "SELECT $this ?time") is None
    assert form(where, "SELECT DISTINCT $this ?value") is None
    assert form(where, "SELECT $this") is None
    assert form(where + " } ORDER BY ?value LIMIT 1 #", "SELECT $this ?value") is None


def test_an_engine_result_for_a_shape_judged_natively_is_not_counted_twice() -> None:
    # A second constraint on the same times that the native comparison does not take: the
    # engine gets the times, and with them R-NOT-FUTURE's targets.
    extra = """
        @prefix hs: <https://w3id.org/health-shield/ns#> .
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        hs:X-NOT-ANCIENT a sh:NodeShape ; hs:ruleId "X-NOT-ANCIENT" ;
            sh:targetSubjectsOf hs:effectiveTime ;
            sh:message "x"@en , "x"@zh ; sh:severity sh:Violation ;
            sh:sparql [ sh:prefixes hs: ; sh:select \"\"\"
                SELECT $this ?value WHERE { $this hs:effectiveTime ?value .
                    FILTER (YEAR(?value) < 1900) }\"\"\" ] .
    """
    shapes = _shapes_with(extra)
    compiled, shifty = Grader(shapes, Engine.compiled), Grader(shapes, Engine.shifty)
    soon = (NOW + timedelta(days=3)).isoformat(timespec="seconds")
    text = _effective_times({"a": _dt(soon), "b": _dt("1850-01-01T00:00:00Z")})
    findings = compiled.grade(text).findings
    keys = [(f.focus, f.rule.id, f.value) for f in findings]
    assert len(keys) == len(set(keys)), keys
    assert {(focus, rule) for focus, rule, _ in keys} == {
        ("urn:ex:a", "R-NOT-FUTURE"),
        ("urn:ex:b", "X-NOT-ANCIENT"),
    }
    assert verdicts(compiled.grade(text)) == verdicts(shifty.grade(text))


def test_a_deactivated_sparql_constraint_is_not_run() -> None:
    # pySHACL leaves it out; shifty runs it, so the compiled checker must not hand it over.
    shapes = _rules(
        SHAPE_PREFIXES
        + """
ex:Future a sh:NodeShape ; hs:ruleId "X-FUTURE" ; sh:targetSubjectsOf ex:t ;
    sh:sparql [ sh:deactivated true ; sh:select \"\"\"
        SELECT $this ?value WHERE { $this <urn:ex:t> ?value . FILTER (?value > NOW()) }\"\"\" ] .
ex:Past a sh:NodeShape ; hs:ruleId "X-PAST" ; sh:targetSubjectsOf ex:t ;
    sh:sparql [ sh:select \"\"\"
        SELECT $this ?value WHERE { $this <urn:ex:t> ?value . FILTER (?value < NOW()) }\"\"\" ] .
"""
    )
    soon = (NOW + timedelta(days=3)).isoformat(timespec="seconds")
    past = _dt("2020-01-01T00:00:00+00:00")
    text = f"<urn:ex:a> <urn:ex:t> {_dt(soon)} .\n<urn:ex:b> <urn:ex:t> {past} .\n"
    compiled = Grader(shapes, Engine.compiled)
    validator = compiled._compiled
    assert validator is not None
    assert validator.delegation is not None
    assert validator.delegation.split(read_ntriples(text))[1] == []
    found = verdicts(compiled.grade(text))
    assert found == verdicts(Grader(shapes, Engine.pyshacl).grade(text))
    assert found[1] == {("urn:ex:b", "X-PAST", "2020-01-01T00:00:00+00:00")}
    # The same with a query of another form, which the engine runs: still left out.
    other = _rules(
        SHAPE_PREFIXES
        + """
ex:Old a sh:NodeShape ; hs:ruleId "X-OLD" ; sh:targetSubjectsOf ex:t ;
    sh:sparql [ sh:deactivated "1"^^xsd:boolean ; sh:select \"\"\"
        SELECT $this ?value WHERE { $this ex:t ?value . FILTER (YEAR(?value) < 2021) }\"\"\" ;
        sh:prefixes ex: ] .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "urn:ex:"^^xsd:anyURI ] .
"""
    )
    assert verdicts(Grader(other, Engine.compiled).grade(text)) == ({}, set())
    assert verdicts(Grader(other, Engine.pyshacl).grade(text)) == ({}, set())
