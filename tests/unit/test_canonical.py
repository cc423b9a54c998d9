"""Leaf data is RFC 8785 canonical JSON of the placed event."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from kgservice.ledger.canonical import Entry, Event, canonical, payload_digest


def test_canonical_json_sorts_keys_and_formats_numbers_per_rfc_8785() -> None:
    # Examples in the style of RFC 8785 §3.2.2/§3.2.3: key order by UTF-16 code units, no
    # whitespace, shortest round-tripping numbers, minimal string escaping.
    value = {"b": [1e21, 1.5, -0.0, 100], "a": "€\n", "\u00e9": True, "1": None}
    assert canonical(value) == '{"1":null,"a":"€\\n","b":[1e+21,1.5,0,100],"é":true}'.encode()


def test_entry_leaf_data_contains_every_field_and_the_payload_digest() -> None:
    event = Event("principal.created", "cli:root", {"id": "prn_1", "role": "admin"}, "hosp-a")
    entry = Entry.place(event, 7, "2026-11-29T00:00:00.000000Z")
    data = json.loads(entry.leaf_data())
    assert data == {
        "seq": 7,
        "type": "principal.created",
        "actor": "cli:root",
        "institution": "hosp-a",
        "time": "2026-11-29T00:00:00.000000Z",
        "payload": {"id": "prn_1", "role": "admin"},
        "payload_digest": entry.payload_digest,
    }
    expected = hashlib.sha256(b'{"id":"prn_1","role":"admin"}').hexdigest()
    assert payload_digest(event.payload) == "sha256:" + expected


def test_moving_an_entry_changes_its_leaf() -> None:
    event = Event("x", "a", {})
    t = "2026-11-29T00:00:00.000000Z"
    assert Entry.place(event, 1, t).leaf_data() != Entry.place(event, 2, t).leaf_data()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


@given(JSON)
def test_fast_path_agrees_with_the_reference_jcs_encoder(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        return  # not representable in JCS (e.g. lone surrogates, out-of-range integers)
    assert canonical(value) == expected


def test_keys_outside_the_bmp_sort_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2}  # U+1F600 is D83D DE00 in UTF-16: sorts first
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value).startswith('{"\U0001f600"'.encode())
