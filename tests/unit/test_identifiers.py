"""Identifier recognisers: checksums, phone forms, names by context, addresses by structure,
record numbers — and recall/precision on generated notes with varied templates."""

from __future__ import annotations

import random
from datetime import date

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from ingest.nlp.identifiers import identifiers, resident_id_valid
from ingest.nlp.pipeline import find_identifiers
from ingest.nlp.text import fold
from ingest.synthetic.samples import check_digit
from ingest.synthetic.sheets import note, patient


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, s.text) for s in identifiers(text)]


def test_resident_id_checksum_and_foreigners_ids() -> None:
    first17 = "11010519800101123"
    good = first17 + check_digit(first17)
    bad = first17 + ("0" if good[-1] != "0" else "1")
    assert resident_id_valid(good)
    assert not resident_id_valid(bad)
    assert found(f"身份证号：{good}。") == [("resident_id", good)]
    assert found(f"身份证号：{bad}。") == []  # a wrong check character is not an ID
    # Permanent-residence IDs for foreigners (since 2023) start with 9 and use the same check.
    foreign17 = "93310119900307001"
    foreign = foreign17 + check_digit(foreign17)
    assert found(f"永久居留身份证 {foreign}") == [("resident_id", foreign)]
    # Grouped as people write it.
    grouped = f"{good[:6]} {good[6:14]} {good[14:]}"
    assert found(f"证件：{grouped}") == [("resident_id", grouped)]
    lower_x = "11010519800101002" + check_digit("11010519800101002")
    assert found(lower_x.lower()) == [("resident_id", lower_x.lower())]


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "14512345678",
        "16612345678",
        "17012345678",
        "19112345678",
        "19912345678",
    ],
)
def test_mobile_numbers_in_their_written_forms(phone: str) -> None:
    assert found(f"联系电话：{phone}，") == [("phone", phone)]


@pytest.mark.parametrize(
    "phone", ["010-65123456", "(010)65123456", "0755-86123456", "0371 6512345", "021-6512345转801"]
)
def test_landlines_with_area_codes(phone: str) -> None:
    assert found(f"家庭电话{phone}。") == [("phone", phone)]


def test_numbers_that_are_not_phones() -> None:
    first17 = "11010519800101123"
    rid = first17 + check_digit(first17)
    # The mobile pattern must not fire inside a resident ID, nor on a 10- or 12-digit run.
    assert found(rid) == [("resident_id", rid)]
    assert found("编号1381234567") == []
    assert found("编号138123456789") == []
    assert found("12012345678") == []  # 120 is not a mobile prefix


def test_names_need_context_and_stop_at_labels() -> None:
    assert found("姓名：王秀兰") == [("name", "王秀兰")]
    assert found("患者欧阳娜娜，女，62岁") == [("name", "欧阳娜娜")]
    assert found("患者张伟今日复诊") == [("name", "张伟")]
    # OCR runs two fields into one line.
    assert found("姓名：张伟性别：男") == [("name", "张伟")]
    # Form labels and ordinary words are not names.
    assert found("姓名：") == []
    assert found("性别：男 年龄：62") == []
    assert found("患者自述口干多饮") == []
    assert found("王府井大街") == []  # a surname character with no context


def test_jieba_settles_where_a_run_on_name_ends() -> None:
    spans = find_identifiers("患者张伟说头晕")
    assert [(s.type, s.text) for s in spans] == [("name", "张伟")]
    assert find_identifiers("患者姓名：李四平")[0].text == "李四平"  # a full stop keeps three


def test_addresses_by_gazetteer_and_context() -> None:
    assert found("家住北京市东城区景山街道28号院3单元501室。") == [
        ("address", "北京市东城区景山街道28号院3单元501室")
    ]
    assert found("住址：建设路12号3栋，电话无") == [("address", "建设路12号3栋")]
    assert found("地址：武侯区人民路5号联系电话：13812345678")[0] == ("address", "武侯区人民路5号")
    assert found("北京的天气") == []  # a place name alone is not an address


def test_record_numbers_by_context() -> None:
    assert found("病历号：MZ20260012") == [("mrn", "MZ20260012")]
    assert found("住院号 2026-00123") == [("mrn", "2026-00123")]
    assert found("医保卡号：SZ12345678") == [("insurance_number", "SZ12345678")]
    assert found("病历号：待补") == []


def test_offsets_index_the_original_text_even_with_full_width_forms() -> None:
    text = "患者：张伟，电话：１３８１２３４５６７８，住址：人民路５号２栋"
    spans = identifiers(text)
    assert [text[s.start : s.end] for s in spans] == [s.text for s in spans]
    assert [s.type for s in spans] == ["name", "phone", "address"]


@given(
    st.text(alphabet=st.sampled_from("0123456789lIOo|：:，, 。mmol/LmgdLＡＢ１２ 　"), max_size=60)
)
def test_folding_keeps_every_offset(text: str) -> None:
    assert len(fold(text)) == len(text)


def test_generated_notes_recall_and_precision() -> None:
    """Every identifier the generator put into 60 notes (three templates, Faker zh_CN names incl.
    compound surnames) is found with exact offsets, and nothing else is."""
    rng = random.Random(5)
    fake = Faker("zh_CN")
    fake.seed_instance(5)
    missed, extra = [], []
    for _ in range(60):
        t = patient(fake, rng, date(2026, 10, 20))
        text, truth = note(t, rng)
        expected = {(int(str(s["start"])), int(str(s["end"])), str(s["type"])) for s in truth}
        got = {(s.start, s.end, s.type) for s in find_identifiers(text)}
        missed += [(text[a:b], k) for a, b, k in expected - got]
        extra += [(text[a:b], k) for a, b, k in got - expected]
    assert missed == []
    assert extra == []
