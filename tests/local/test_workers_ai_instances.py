"""The schema-driven instance generator behind tool arguments and JSON mode.

Every generated value is checked with ``jsonschema`` (installed in the dev venv) and, where the text
carries the answer, against the value the text gives. All schemas here are made up for these tests.
"""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from cf_core.local.workers_ai.engines.instances import InstanceError, synthesize
from cf_core.local.workers_ai.engines.text_facts import name_words


def valid(schema: dict[str, Any], text: str, **kw: Any) -> Any:
    value = synthesize(schema, text, **kw)
    jsonschema.validate(value, schema)
    return value


FLIGHT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "origin": {"type": "string", "description": "Departure city"},
        "destination": {"type": "string"},
        "adults": {"type": "integer", "minimum": 1, "maximum": 9},
        "cabin": {"type": "string", "enum": ["economy", "premium", "business"]},
        "refundable": {"type": "boolean"},
        "passenger": {"type": "object", "properties": {
            "first_name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
            "required": ["first_name", "age"]},
    },
    "required": ["origin", "destination", "adults", "passenger"],
    "additionalProperties": False,
}


def test_flight_booking_filled_from_text() -> None:
    text = "Book a business flight from Lisbon to Oslo for 2 adults, refundable please, first name Maria, age 34"
    value = valid(FLIGHT, text)
    assert value["origin"] == "Lisbon"
    assert value["destination"] == "Oslo"
    assert value["adults"] == 2
    assert value["passenger"] == {"first_name": "Maria", "age": 34}


def test_optional_properties_only_when_the_text_gives_them() -> None:
    value = valid(FLIGHT, "Fly from Lisbon to Oslo, 1 adult, first name Ana age 20")
    assert "cabin" not in value and "refundable" not in value
    value = valid(FLIGHT, "Fly from Lisbon to Oslo in premium, 1 adult, first name Ana age 20")
    assert value["cabin"] == "premium"


def test_include_optional_fills_every_property() -> None:
    value = valid(FLIGHT, "Lisbon to Oslo", include_optional=True)
    assert set(value) == set(FLIGHT["properties"])
    assert value["cabin"] == "economy"  # nothing mentioned: the first enum value
    assert value["adults"] == 1  # no number: clamped up to the minimum


def test_no_argument_tool() -> None:
    assert valid({"type": "object", "properties": {}}, "What time is it?") == {}


def test_numbers_in_order_and_by_name() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
              "required": ["a", "b"]}
    assert valid(schema, "multiply 3 by 12.5") == {"a": 3, "b": 12.5}
    named = {"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
             "required": ["width", "height"]}
    assert valid(named, "a box with height 40 and width 25") == {"width": 25, "height": 40}
    before = {"type": "object", "properties": {"nights": {"type": "integer"}, "guests": {"type": "integer"}},
              "required": ["guests", "nights"]}
    assert valid(before, "for 4 nights with 2 guests") == {"nights": 4, "guests": 2}


def test_integer_bounds_and_multiples() -> None:
    schema = {"type": "object", "properties": {
        "limit": {"type": "integer", "maximum": 50},
        "step": {"type": "integer", "multipleOf": 5, "minimum": 5},
        "ratio": {"type": "number", "exclusiveMaximum": 1, "exclusiveMinimum": 0}},
        "required": ["limit", "step", "ratio"]}
    value = valid(schema, "limit 500, step 12, ratio 3")
    assert value["limit"] == 50 and value["step"] % 5 == 0 and 0 < value["ratio"] < 1


def test_arrays_of_names_numbers_and_enums() -> None:
    schema = {"type": "object", "properties": {
        "cities": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "values": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 5},
        "toppings": {"type": "array", "items": {"type": "string", "enum": ["cheese", "ham", "olives", "basil"]}},
    }, "required": ["cities", "values", "toppings"]}
    value = valid(schema, "Compare Rome and Madrid using 3, 4.5 and 10; pizza with olives and cheese")
    assert value["cities"] == ["Rome", "Madrid"]
    assert value["values"] == [3, 4.5, 10]
    assert set(value["toppings"]) == {"cheese", "olives"}


def test_min_items_padding_stays_unique() -> None:
    schema = {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": True}
    value = valid(schema, "nothing capitalised here")
    assert len(value) == 3


def test_enum_prefers_the_value_after_the_name() -> None:
    schema = {"type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["unit"]}
    assert valid(schema, "temperature unit fahrenheit please, not celsius") == {"unit": "fahrenheit"}
    assert valid(schema, "in celsius") == {"unit": "celsius"}


def test_booleans_from_negation_and_mention() -> None:
    schema = {"type": "object", "properties": {"include_breakfast": {"type": "boolean"}},
              "required": ["include_breakfast"]}
    assert valid(schema, "a room without breakfast") == {"include_breakfast": False}
    assert valid(schema, "a room with breakfast") == {"include_breakfast": True}
    assert valid(schema, "a room") == {"include_breakfast": False}
    assert valid(schema, "include breakfast: yes") == {"include_breakfast": True}


def test_unicode_text_and_names() -> None:
    schema = {"type": "object", "properties": {"ville": {"type": "string"}, "nuits": {"type": "integer"}},
              "required": ["ville", "nuits"]}
    assert valid(schema, "Réserve un hôtel à Montréal pour 3 nuits") == {"ville": "Montréal", "nuits": 3}
    greek = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    assert valid(greek, "καιρός στην Αθήνα σήμερα") == {"city": "Αθήνα"}


def test_quoted_strings_win_over_names() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
              "required": ["title", "body"]}
    value = valid(schema, 'Create a note for Bob titled "Shopping list" with "milk, eggs"')
    assert value == {"title": "Shopping list", "body": "milk, eggs"}


def test_formats_and_patterns() -> None:
    schema = {"type": "object", "properties": {
        "day": {"type": "string", "format": "date"},
        "contact": {"type": "string", "format": "email"},
        "airport": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }, "required": ["day", "contact", "airport"]}
    value = valid(schema, "Land at JFK on 2031-04-05, mail zoe@example.org")
    assert value == {"day": "2031-04-05", "contact": "zoe@example.org", "airport": "JFK"}


def test_unmatchable_pattern_is_an_error() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^Q[0-9]{7}Z$"}},
              "required": ["code"]}
    with pytest.raises(InstanceError):
        synthesize(schema, "no such code here")


def test_string_lengths() -> None:
    schema = {"type": "object", "properties": {"tag": {"type": "string", "minLength": 5, "maxLength": 6}},
              "required": ["tag"]}
    valid(schema, "tag ab")
    valid(schema, "tag abcdefghijkl")


class Address(BaseModel):
    street: str
    city: str
    postcode: str | None = None


class Person(BaseModel):
    """A person, as a pydantic model would describe them ($defs, $ref, anyOf-null)."""

    name: str
    age: int = Field(ge=0, le=150)
    home: Address
    nickname: str | None = None
    status: Literal["active", "retired"] = "active"
    languages: list[str] = []


def test_pydantic_schema_with_defs_refs_and_optional_nulls() -> None:
    schema = Person.model_json_schema()
    assert "$defs" in schema
    value = valid(schema, "Oskar is 67 and retired, living on Harbour Road in Bergen", include_optional=True)
    person = Person.model_validate(value)
    assert person.age == 67
    assert person.status == "retired"
    assert person.nickname is None  # anyOf [string, null] with nothing in the text: null
    assert person.home.postcode is None


def test_any_of_with_null_picks_the_value_when_the_text_has_one() -> None:
    schema = {"type": "object", "properties": {"count": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
              "required": ["count"]}
    assert valid(schema, "count 7") == {"count": 7}
    assert valid(schema, "none given") == {"count": None}


def test_one_of_and_type_lists() -> None:
    schema = {"type": "object", "properties": {
        "id": {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^x"}]},
        "note": {"type": ["string", "null"]}}, "required": ["id", "note"]}
    valid(schema, "id 42")


def test_all_of_is_merged() -> None:
    schema = {"allOf": [
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        {"properties": {"b": {"type": "string"}}, "required": ["b"]},
    ]}
    value = valid(schema, "a 5 and b is Kyoto")
    assert value == {"a": 5, "b": "Kyoto"}


def test_recursive_schema_terminates() -> None:
    schema = {"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
        "label": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "required": ["label"]}}}
    valid(schema, "tree with Root and Leaf", include_optional=True)


def test_const_and_missing_property_schema() -> None:
    schema = {"type": "object", "properties": {"kind": {"const": "event"}}, "required": ["kind", "loose"]}
    value = valid(schema, "anything")
    assert value["kind"] == "event" and isinstance(value["loose"], str)


def test_fallback_text_for_strings_without_candidates() -> None:
    schema = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
    assert valid(schema, "lower case only", fallback_text="the stand-in answer") == {"summary": "the stand-in answer"}


def test_deterministic() -> None:
    text = "Book a business flight from Lisbon to Oslo for 2 adults, first name Maria, age 34"
    assert synthesize(FLIGHT, text) == synthesize(FLIGHT, text)


def test_name_words() -> None:
    assert name_words("get_current_weather") == ["get", "current", "weather"]
    assert name_words("maxResults") == ["max", "results"]
    assert name_words("user-id") == ["user", "id"]
