"""The fast decode of write bodies (``fastbody``) against the general path it short-cuts.

``fastbody.decode_fast`` parses each line's ``values`` array with simdjson and the rest with orjson;
whenever it is unsure it steps aside. These tests run the same request through
``parse_vectors_body`` with the shortcut on and off and require the same records (bytes for bytes)
or the same error (code and message), on odd and broken inputs as well as plain ones.
"""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_core.local.vectorize import fastbody
from cf_core.local.vectorize.limits import MAX_VECTORS_PER_REQUEST, VectorRecord
from cf_core.local.vectorize.routes import parse_vectors_body
from cf_core.local.wire import ApiError, EmuRequest

DIMS = 4

Outcome = list[VectorRecord] | tuple[int, str]


def _request(body: bytes, query: str = "", content_type: str = "application/x-ndjson") -> EmuRequest:
    return EmuRequest.build("POST", "/x", query, {"content-type": content_type}, body)


def _run(req: EmuRequest, dims: int) -> Outcome:
    try:
        return parse_vectors_body(req, dims)
    except ApiError as exc:
        return exc.code, exc.message


def _both(monkeypatch: pytest.MonkeyPatch, body: bytes, dims: int = DIMS, query: str = "",
          content_type: str = "application/x-ndjson") -> tuple[Outcome, Outcome]:
    req = _request(body, query, content_type)
    fast = _run(req, dims)
    with monkeypatch.context() as m:
        m.setattr(fastbody, "AVAILABLE", False)
        general = _run(req, dims)
    return fast, general


def test_client_encoded_body_takes_the_shortcut_and_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((50, 16)).astype(np.float32)
    body = b"\n".join(orjson.dumps({"id": f"v{i}", "values": v, "metadata": {"i": i, "t": "é"}},
                                   option=orjson.OPT_SERIALIZE_NUMPY) for i, v in enumerate(vecs))
    decoded = fastbody.decode_fast(body, 16, MAX_VECTORS_PER_REQUEST)
    assert decoded is not None and len(decoded.objects) == 50  # the shortcut is really used
    assert np.array_equal(decoded.matrix, vecs)
    fast, general = _both(monkeypatch, body, dims=16)
    assert isinstance(fast, list) and fast == general
    assert [np.frombuffer(r.values, dtype=np.float32).tolist() for r in fast] == vecs.tolist()


def test_python_json_spacing_and_key_order(monkeypatch: pytest.MonkeyPatch) -> None:
    body = (json.dumps({"metadata": {"values": [1, 2]}, "values": [1, 2.5, -0.0, 3e-5], "id": "a"}) + "\r\n\n  "
            + json.dumps({"id": "b", "namespace": "n", "values": [0, 1, 2, 3]}) + "\n").encode()
    assert fastbody.decode_fast(body, DIMS, MAX_VECTORS_PER_REQUEST) is not None
    fast, general = _both(monkeypatch, body)
    assert isinstance(fast, list) and fast == general
    assert np.frombuffer(fast[0].values, dtype=np.float32)[2].tobytes() == np.float32(-0.0).tobytes()


@pytest.mark.parametrize("line", [
    b'{"id":"a","values":[1,2,3]}',  # too few
    b'{"id":"a","values":[1,2,3,4,5]}',  # too many
    b'{"id":"a","values":[1,2,3,true]}',
    b'{"id":"a","values":[1,2,3,null]}',
    b'{"id":"a","values":[1,2,3,"4"]}',
    b'{"id":"a","values":[1,2,[3],4]}',
    b'{"id":"a","values":[[],[1,2],3,4]}',  # flattening would give 4 numbers
    b'{"id":"a","values":[1,2,3,NaN]}',
    b'{"id":"a","values":[1,2,3,Infinity]}',
    b'{"id":"a","values":[1,2,3,1e39]}',  # beyond float32
    b'{"id":"a","values":[1,2,3,1e400]}',  # beyond float64
    b'{"id":"a","values":[1,2,3,' + b"9" * 400 + b"]}",  # an integer beyond float64
    b'{"id":"a","values":[1,2,3,-9223372036854775809]}',
    b'{"id":"a","values":[1,2,3,18446744073709551616]}',
    b'{"id":"a","values":[1,2,3,01]}',
    b'{"id":"a","values":[1,2,3,4,]}',
    b'{"id":"a","values":[1,2,3,4]',  # unterminated object
    b'{"id":"a","values":[1,2,3,4]} x',
    b'{"id":"a","values":[1,2,3,4],"values":[1,2,3,4,5]}',  # the last one counts
    b'{"id":"a","values":[1,2,3,4,5],"values":[1,2,3,4]}',
    b'{"id":"a","values":"[1,2,3,4]"}',
    b'{"id":"a","metadata":{"values":[1,2,3,4]}}',
    b'{"id":"a","metadata":{"s":"\\"values\\":[1,2,3,4]"},"values":[1,2,3]}',
    b'{"id":"a","values":[1,2,3,4],"metadata":{"a.b":1}}',
    b'{"id":"a","values":[1,2,3,4],"metadata":{"x":"' + b"y" * 11000 + b'"}}',
    b'{"id":"a","values":[1,2,3,4],"metadata":{"x":NaN}}',
    b'{"id":"a","values":[1,2,3,4],"metadata":{"x":"\\ud800"}}',
    b'{"id":"","values":[1,2,3,4]}',
    b'{"id":"' + b"x" * 65 + b'","values":[1,2,3,4]}',
    b'{"id":7,"values":[1,2,3,4]}',
    b'{"id":"a","values":[1,2,3,4],"namespace":""}',
    b'{"id":"a","values":[1,2,3,4],"namespace":3}',
    b'["id","values",[1,2,3,4]]',
    b'{"id":"a","values"\x0b:[1,2,3,4]}',
    b'{"id":"a","values":[1,2,3,4]}\x0b',
    b'{"id":"a","values":[1,2,3,\xff]}',
    b'{"id":"\xff","values":[1,2,3,4]}',
    b'{"id":"a","values":[ 1 ,\t2 , 3\r, 4 ]}',
    b'{"id":"a","values":[0.1,-0,1E+2,3.4028235677973366e38]}',  # rounds to float32 max
    b'{"id":"a","values":[1e-46,-1e-46,1.401298464324817e-45,9007199254740993]}',
])
@pytest.mark.parametrize("behaviour", ["", "unparsable-behavior=discard"])
def test_odd_line_among_good_ones(monkeypatch: pytest.MonkeyPatch, line: bytes, behaviour: str) -> None:
    good = b'{"id":"g","values":[0.5,0.25,0.125,1]}'
    fast, general = _both(monkeypatch, good + b"\n" + line + b"\n" + good.replace(b'"g"', b'"h"'),
                          query=behaviour)
    assert fast == general


def test_errors_that_concern_the_whole_body(monkeypatch: pytest.MonkeyPatch) -> None:
    for body, query in [(b"", ""), (b"\n \n", ""), (b"x\n", "unparsable-behavior=discard"),
                        (b'{"id":"a","values":[1,2,3,4]}', "unparsable-behavior=maybe")]:
        fast, general = _both(monkeypatch, body, query=query)
        assert isinstance(fast, tuple) and fast == general
    line = b'{"id":"a","values":[1]}\n'
    fast, general = _both(monkeypatch, line * (MAX_VECTORS_PER_REQUEST + 1), dims=1)
    assert isinstance(fast, tuple) and fast == general and "5001 vectors" in fast[1]
    fast, general = _both(monkeypatch, line * MAX_VECTORS_PER_REQUEST, dims=1)
    assert isinstance(fast, list) and len(fast) == MAX_VECTORS_PER_REQUEST and fast == general


def test_multipart_body(monkeypatch: pytest.MonkeyPatch) -> None:
    ndjson = b'{"id":"a","values":[1,2,3,4]}\r\n{"id":"b","values":[4,3,2,1],"metadata":{"k":"v"}}\r\n'
    body = (b"--xyz\r\nContent-Disposition: form-data; name=\"vectors\"; filename=\"v.ndjson\"\r\n"
            b"Content-Type: application/x-ndjson\r\n\r\n" + ndjson + b"\r\n--xyz--\r\n")
    fast, general = _both(monkeypatch, body, content_type="multipart/form-data; boundary=xyz")
    assert isinstance(fast, list) and len(fast) == 2 and fast == general


# -- generated bodies --------------------------------------------------------------------------------

_NUMBER_TEXTS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: json.dumps(f)),
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(
        lambda f: orjson.dumps(np.float32(f), option=orjson.OPT_SERIALIZE_NUMPY).decode()),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["-0", "-0.0", "0e0", "1E+2", "1e-400", "3.4028235e38", "3.4028236e38", "-3.5e38",
                     "1e39", "1e400", "NaN", "-Infinity", "true", "false", "null", '"1"', "[1]", "[]",
                     "{}", "1.", ".5", "01", "+1", "0x1", "1e", " 2 ", "4.9e-324", "1.17549435e-38"]),
)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    count = draw(st.sampled_from([DIMS, DIMS, DIMS, DIMS - 1, DIMS + 1, 0]))
    sep = draw(st.sampled_from([",", ", ", " ,"]))
    values = "[" + sep.join(draw(st.lists(_NUMBER_TEXTS, min_size=count, max_size=count))) + "]"
    members = [f'"id": {json.dumps(draw(st.sampled_from(["a", "b", "", "é" * 40])))}',
               f'"values":{draw(st.sampled_from(["", " "]))}{values}']
    extra = draw(st.sampled_from([None, "ns", "meta", "nested", "dup", "string"]))
    if extra == "ns":
        members.append(f'"namespace": {json.dumps(draw(st.sampled_from(["n", "", "x" * 65])))}')
    elif extra == "meta":
        meta = draw(st.dictionaries(st.sampled_from(["k", "a.b", "$x", "v"]),
                                    st.one_of(st.integers(), st.text(max_size=5), st.booleans()), max_size=3))
        members.append(f'"metadata": {json.dumps(meta)}')
    elif extra == "nested":
        members.append('"metadata": {"values": [1, 2, 3, 4]}')
    elif extra == "dup":
        members.append('"values": [4, 3, 2, 1]')
    elif extra == "string":
        members.append('"metadata": {"s": "\\"values\\":[9,9,9,9]"}')
    members = draw(st.permutations(members))
    text = "{" + ", ".join(members) + "}"
    if draw(st.booleans()):
        text = " " + text + "\r"
    return text.encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_lines(), min_size=1, max_size=4), blank=st.booleans(),
       behaviour=st.sampled_from(["", "unparsable-behavior=discard"]))
def test_generated_bodies_decode_the_same(monkeypatch: pytest.MonkeyPatch, lines: list[bytes], blank: bool,
                                          behaviour: str) -> None:
    body = (b"\n\n" if blank else b"\n").join(lines)
    fast, general = _both(monkeypatch, body, query=behaviour)
    assert fast == general


# -- what the first query after a write reads -----------------------------------------------------------

def _record(vid: str, x: float, meta: str | None = None) -> VectorRecord:
    return VectorRecord(vid, np.array([x, 0, 0, 0], dtype=np.float32).tobytes(), None, meta)


def test_snapshot_rows_follow_first_write_order_across_indexes() -> None:
    """``all_vectors`` sorts by rowid itself; interleaved indexes, re-writes and deletes must not
    change the order each index sees (first write first, a re-insert after a delete last)."""
    from cf_core.local.vectorize.limits import IndexConfig
    from cf_core.local.vectorize.search import Snapshot
    from cf_core.local.vectorize.store import VectorStore

    store = VectorStore(None)
    one = store.create_index("acc", IndexConfig("one", "", DIMS, "cosine", None), "t").uid
    two = store.create_index("acc", IndexConfig("two", "", DIMS, "cosine", None), "t").uid
    store.apply_write(one, [_record("zeta", 1), _record("alpha", 2)], 1, replace=True)
    store.apply_write(two, [_record("other", 9)], 1, replace=True)
    store.apply_write(one, [_record("mid", 3, '{"m":1}'), _record("zeta", 4, '{"z":2}')], 2, replace=True)
    store.apply_write(one, [_record("alpha", 5)], 3, replace=False)  # insert keeps the stored vector
    store.apply_delete(one, ["alpha"])
    store.apply_write(one, [_record("alpha", 6)], 4, replace=True)
    stored = store.all_vectors(one)
    assert [(v.id, np.frombuffer(v.vals, dtype=np.float32)[0], v.written_seq) for v in stored] == [
        ("zeta", 4, 2), ("mid", 3, 2), ("alpha", 6, 4)]
    snap = Snapshot(DIMS, stored)
    assert [snap.metadata_at(i) for i in range(3)] == [{"z": 2}, {"m": 1}, None]
    assert [snap.metadata_at(i) for i in range(3)] == snap.metadata()  # the same once all are parsed
    store.close()
