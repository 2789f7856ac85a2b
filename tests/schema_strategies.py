"""Hypothesis strategies built from a JSON schema: valid instances and single-fault mutants.

The OCPP 2.0.1 schemas use a small subset of draft-06. This builder understands exactly that
subset and raises `UnsupportedSchema` on anything else, so a keyword the schemas start using
can never be skipped silently (a skipped keyword would make "valid" instances that are not).

- `SchemaStrategies(schema).valid()` draws instances the schema accepts: optional properties
  present or absent, strings up to and exactly at maxLength (sometimes non-ASCII or astral),
  integers at and near their bounds, canonical RFC 3339 date-times, small arrays (at most
  `MAX_ITEMS` items unless minItems asks for more), and open objects (`customData`) sometimes
  carrying extra vendor properties.
- `SchemaStrategies(schema).mutation(instance)` picks one place in a valid instance and breaks
  it in one targeted way, returning a `Mutation` that names the kind of fault and the OCPP-J
  errorCode (Part 4 §4.3) a receiver must answer with.
- `json_objects(keys)` draws arbitrary JSON objects, their keys partly taken from `keys` so that
  some of them come close to a real message (no integral floats such as `2.0`: see
  `json_values`).

Instances are plain JSON values (dict, list, str, int, float, bool, None) ready for
`json.dumps`.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeAlias

from hypothesis import strategies as st

from trio_csms.rpc.errors import ErrorCode

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None
Schema: TypeAlias = Mapping[str, Any]
Path: TypeAlias = tuple[str | int, ...]

MAX_ITEMS = 3
"""Longest array drawn unless minItems asks for more: keeps examples small and fast."""

# Keywords that change what an instance may be: each one is implemented below.
ASSERTION_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "$ref",
        "enum",
        "maxLength",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "maxItems",
        "format",
    }
)
# Keywords that never change validity (annotations), or that do nothing here: `additionalItems`
# only applies when `items` is an array of schemas, and the OCPP schemas always give one schema.
IGNORED_KEYWORDS = frozenset(
    {"$schema", "$id", "description", "javaType", "comment", "default", "additionalItems"}
)
SCHEMA_TYPES = frozenset({"object", "string", "integer", "number", "boolean", "array"})


class UnsupportedSchema(ValueError):
    """The schema uses a keyword or value this builder does not implement."""


class MutationKind(enum.StrEnum):
    """One way to break a valid instance, each with the errorCode it must cause."""

    MISSING_REQUIRED = "remove a required property"
    WRONG_TYPE = "a value of another JSON type"
    NULL = "null instead of a value"
    TOO_LONG = "a string one character over maxLength"
    BELOW_MINIMUM = "a number one under minimum"
    ABOVE_MAXIMUM = "a number one over maximum"
    BAD_ENUM = "a string outside the enum"
    UNKNOWN_PROPERTY = "a property the object does not declare"
    EMPTY_ARRAY = "an empty array where minItems is 1"
    TOO_MANY_ITEMS = "an array one item over maxItems"
    BAD_DATE_TIME = "a string that is not an RFC 3339 date-time"


EXPECTED_CODE: dict[MutationKind, ErrorCode] = {
    MutationKind.MISSING_REQUIRED: ErrorCode.OccurrenceConstraintViolation,
    MutationKind.WRONG_TYPE: ErrorCode.TypeConstraintViolation,
    MutationKind.NULL: ErrorCode.TypeConstraintViolation,
    MutationKind.TOO_LONG: ErrorCode.PropertyConstraintViolation,
    MutationKind.BELOW_MINIMUM: ErrorCode.PropertyConstraintViolation,
    MutationKind.ABOVE_MAXIMUM: ErrorCode.PropertyConstraintViolation,
    MutationKind.BAD_ENUM: ErrorCode.PropertyConstraintViolation,
    MutationKind.UNKNOWN_PROPERTY: ErrorCode.ProtocolError,
    MutationKind.EMPTY_ARRAY: ErrorCode.OccurrenceConstraintViolation,
    MutationKind.TOO_MANY_ITEMS: ErrorCode.OccurrenceConstraintViolation,
    MutationKind.BAD_DATE_TIME: ErrorCode.PropertyConstraintViolation,
}


class Mutation(NamedTuple):
    """A valid instance with one fault put in at `path` (JSON keys and array indexes)."""

    instance: JSON
    kind: MutationKind
    expected: ErrorCode
    path: Path


# One value of each JSON type, to put where another type is expected. 4.5 is a number that is
# not an integer, so it is wrong for `integer` under every reading of draft-06.
_VALUE_OF_TYPE: dict[str, JSON] = {
    "string": "wrong type",
    "integer": 42,
    "number": 4.5,
    "boolean": True,
    "array": [],
    "object": {},
}
_ACCEPTED_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "integer": frozenset({"integer"}),
    "number": frozenset({"integer", "number"}),
    "boolean": frozenset({"boolean"}),
    "array": frozenset({"array"}),
    "object": frozenset({"object"}),
}

# Strings that every RFC 3339 reader rejects, ours and jsonschema's FormatChecker alike. The
# forms where the two are known to differ (space separator, lowercase t/z, leap second, an
# offset without colon, a trailing newline) are tested on their own and left out here.
INVALID_DATE_TIMES: tuple[str, ...] = (
    "",
    "now",
    "2024-01-01",
    "12:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-00-10T00:00:00Z",
    "2023-02-29T12:00:00Z",
    "2024-04-31T12:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T12:60:00Z",
    "2024-01-01T12:00Z",
    "2024-01-01T12:00:00.Z",
    "2024-01-01T12:00:00+25:00",
    "2024-01-01T12:00:00+01:60",
    "2024-01-01T12:00:00+01",
    "24-01-01T12:00:00Z",
    "0000-01-01T00:00:00Z",
    "2024-1-1T12:00:00Z",
    "20240101T120000Z",
    " 2024-01-01T12:00:00Z",
)

# Characters for drawn strings: mostly ASCII, with Latin-1, other BMP and astral (non-BMP)
# characters mixed in, since maxLength counts code points, not UTF-8 bytes or UTF-16 units.
_CHARACTERS = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0, max_codepoint=0xFF),
    st.characters(exclude_categories=["Cs"]),
    st.characters(min_codepoint=0x10000, exclude_categories=["Cs"]),
)
_SHORT_TEXT = st.text(_CHARACTERS, max_size=12)


def json_values(max_leaves: int = 6, *, integral_floats: bool = True) -> st.SearchStrategy[JSON]:
    """Any JSON value: null, booleans, numbers, strings, and small arrays and objects of them.

    With `integral_floats=False` no float has a zero fraction (`2.0`): draft-06 counts those as
    integers and our decoder does not, a documented deviation best kept out of random input.
    """
    floats = st.floats(allow_nan=False, allow_infinity=False)
    if not integral_floats:
        floats = floats.filter(lambda f: not f.is_integer())
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), floats, _SHORT_TEXT)
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=MAX_ITEMS),
            st.dictionaries(_SHORT_TEXT, children, max_size=MAX_ITEMS),
        ),
        max_leaves=max_leaves,
    )


def json_objects(keys: list[str]) -> st.SearchStrategy[dict[str, JSON]]:
    """Arbitrary JSON objects whose keys are often taken from `keys` (a schema's properties)."""
    key = st.one_of(st.sampled_from(keys), _SHORT_TEXT) if keys else _SHORT_TEXT
    return st.dictionaries(key, json_values(integral_floats=False), max_size=6)


def check_schema(node: JSON, where: str = "#") -> None:
    """Raise `UnsupportedSchema` unless every keyword in `node` is one this builder handles."""
    if not isinstance(node, dict):
        raise UnsupportedSchema(f"{where}: a schema must be an object, not {node!r}")
    for key, value in node.items():
        if key in ("properties", "definitions"):
            if not isinstance(value, dict):
                raise UnsupportedSchema(f"{where}/{key} must be an object")
            for name, sub in value.items():
                check_schema(sub, f"{where}/{key}/{name}")
        elif key == "items":
            check_schema(value, f"{where}/items")
        elif key == "type":
            if value not in SCHEMA_TYPES:
                raise UnsupportedSchema(f"{where}: type {value!r}")
        elif key == "format":
            if value != "date-time":
                raise UnsupportedSchema(f"{where}: format {value!r}")
        elif key == "additionalProperties":
            if value is not False:
                raise UnsupportedSchema(f"{where}: additionalProperties {value!r}")
        elif key == "$ref":
            if not str(value).startswith("#/definitions/"):
                raise UnsupportedSchema(f"{where}: $ref {value!r}")
        elif key not in ASSERTION_KEYWORDS and key not in IGNORED_KEYWORDS:
            raise UnsupportedSchema(f"{where}: unsupported keyword {key!r}")


def _format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


@st.composite
def rfc3339_date_times(draw: st.DrawFn) -> str:
    """A canonical RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`.

    The latest moment is 9999-12-30 so that rounding a fraction finer than a microsecond can
    never carry past year 9999 (that corner is a test of its own).
    """
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30)))
    digits = draw(st.sampled_from([0, 0, 1, 3, 6, 9]))
    fraction = "." + draw(st.text("0123456789", min_size=digits, max_size=digits)) if digits else ""
    offset = draw(
        st.one_of(
            st.sampled_from(["Z", "+00:00", "-00:00"]),
            st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(_format_offset),
        )
    )
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{fraction}{offset}"
    )


def _strings(max_length: int | None) -> st.SearchStrategy[str]:
    if max_length is None:
        return _SHORT_TEXT
    # Long strings repeat a short drawn chunk: drawing thousands of characters one by one
    # would be slow and overflow Hypothesis's buffer, and the limit is what matters here.
    at_limit = st.builds(
        lambda chunk, length: (chunk * length)[:length],
        st.text(_CHARACTERS, min_size=1, max_size=4),
        st.sampled_from(sorted({max_length, max(max_length - 1, 0)})),
    )
    return st.one_of(st.text(_CHARACTERS, max_size=min(max_length, 12)), at_limit)


def _integers(minimum: float | None, maximum: float | None) -> st.SearchStrategy[int]:
    lo = None if minimum is None else math.ceil(minimum)
    hi = None if maximum is None else math.floor(maximum)
    near = [v for v in (lo, hi) if v is not None]
    near += [v + 1 for v in near if hi is None or v + 1 <= hi]
    if lo is None and hi is None:
        # Unbounded: 32- and 64-bit edges, and beyond, since the schema sets no limit.
        near = [0, -1, 1, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 2**64, -(2**64) - 1]
    return st.one_of(st.sampled_from(near), st.integers(min_value=lo, max_value=hi))


def _numbers(minimum: float | None, maximum: float | None) -> st.SearchStrategy[int | float]:
    floats = st.floats(min_value=minimum, max_value=maximum, allow_nan=False, allow_infinity=False)
    lo = -(2**53) if minimum is None else math.ceil(minimum)
    hi = 2**53 if maximum is None else math.floor(maximum)
    return st.one_of(floats, st.integers(lo, hi))


def _set(instance: JSON, path: Path, value: JSON) -> None:
    """Replace the value at `path` (never empty) inside `instance`, in place."""
    parent = _get(instance, path[:-1])
    parent[path[-1]] = value  # type: ignore[index]


def _get(instance: JSON, path: Path) -> JSON:
    for step in path:
        instance = instance[step]  # type: ignore[index]
    return instance


class _Candidate(NamedTuple):
    path: Path
    kind: MutationKind
    node: Schema


class SchemaStrategies:
    """Strategies for one schema document; `$ref`s point into its `definitions`."""

    def __init__(self, schema: Schema) -> None:
        check_schema(dict(schema))
        self.schema = schema
        self.definitions: Mapping[str, Schema] = schema.get("definitions", {})
        self._by_definition: dict[str, st.SearchStrategy[JSON]] = {}

    # --- schema navigation --------------------------------------------------------------------

    def resolve(self, node: Schema) -> Schema:
        """The node itself, or the definition it `$ref`s (followed until it has no `$ref`)."""
        seen: set[str] = set()
        while "$ref" in node:
            name = node["$ref"].removeprefix("#/definitions/")
            if name in seen or name not in self.definitions:
                raise UnsupportedSchema(f"unresolvable $ref {node['$ref']!r}")
            seen.add(name)
            node = self.definitions[name]
        return node

    @staticmethod
    def is_open(node: Schema) -> bool:
        """An object without `additionalProperties: false` accepts undeclared properties."""
        return node.get("additionalProperties", True) is not False

    # --- valid instances ----------------------------------------------------------------------

    def valid(self) -> st.SearchStrategy[JSON]:
        """Instances of the whole document."""
        return self.for_node(self.schema)

    def for_node(self, node: Schema) -> st.SearchStrategy[JSON]:
        """Instances of one schema node."""
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/definitions/")
            if name not in self._by_definition:
                # deferred: a definition may (in principle) refer to itself
                self._by_definition[name] = st.deferred(lambda: self.for_node(self.resolve(node)))
            return self._by_definition[name]
        if "enum" in node:
            return st.sampled_from(list(node["enum"]))
        kind = node.get("type")
        if kind is None:
            return json_values()  # no type: any JSON value (DataTransfer `data`)
        if kind == "object":
            return self._objects(node)
        if kind == "array":
            return self._arrays(node)
        if kind == "string":
            if node.get("format") == "date-time":
                return rfc3339_date_times()
            return _strings(node.get("maxLength"))
        if kind == "integer":
            return _integers(node.get("minimum"), node.get("maximum"))
        if kind == "number":
            return _numbers(node.get("minimum"), node.get("maximum"))
        if kind == "boolean":
            return st.booleans()
        raise UnsupportedSchema(f"type {kind!r}")

    def _objects(self, node: Schema) -> st.SearchStrategy[JSON]:
        properties: Mapping[str, Schema] = node.get("properties", {})
        required = set(node.get("required", []))
        undeclared = required - set(properties)
        if undeclared:
            raise UnsupportedSchema(f"required but not declared: {sorted(undeclared)}")
        declared = st.fixed_dictionaries(
            {k: self.for_node(v) for k, v in properties.items() if k in required},
            optional={k: self.for_node(v) for k, v in properties.items() if k not in required},
        )
        if not self.is_open(node):
            return declared
        # An open object (customData): sometimes vendor-specific extra properties.
        extra_key = st.text(_CHARACTERS, min_size=1, max_size=10).filter(
            lambda k: k not in properties
        )
        extras = st.dictionaries(extra_key, json_values(4), max_size=2)
        return st.builds(lambda d, e: {**e, **d}, declared, extras)

    def _arrays(self, node: Schema) -> st.SearchStrategy[JSON]:
        min_items = node.get("minItems", 0)
        max_items = node.get("maxItems")
        size = max(min_items, MAX_ITEMS)
        if max_items is not None:
            size = min(size, max_items)
        return st.lists(self.for_node(node["items"]), min_size=min_items, max_size=size)

    # --- mutations ----------------------------------------------------------------------------

    def mutants(self) -> st.SearchStrategy[Mutation]:
        """A valid instance of the document with one fault put in."""
        return self.valid().flatmap(self.mutation)

    def mutation(self, instance: JSON) -> st.SearchStrategy[Mutation]:
        """One targeted fault at a random place of `instance`, a valid instance."""
        by_kind: dict[MutationKind, list[_Candidate]] = {}
        for candidate in self._candidates(self.schema, instance, ()):
            by_kind.setdefault(candidate.kind, []).append(candidate)
        if not by_kind:
            raise UnsupportedSchema("nothing in this instance can be mutated")
        # Kind first, then place: otherwise the many required properties of a large instance
        # would crowd out the rarer kinds (a date-time, an array with maxItems). Rarest first,
        # since Hypothesis favours the start of a sampled list.
        kinds = sorted(by_kind, key=lambda k: len(by_kind[k]))
        candidates = st.sampled_from(kinds).flatmap(lambda k: st.sampled_from(by_kind[k]))
        return candidates.flatmap(
            lambda c: self._apply(c, instance).map(
                lambda mutated: Mutation(mutated, c.kind, EXPECTED_CODE[c.kind], c.path)
            )
        )

    def _candidates(self, node: Schema, value: JSON, path: Path) -> Iterator[_Candidate]:
        """Every mutation that applies at `path` or below it."""
        node = self.resolve(node)
        kind = node.get("type")
        if path:  # the document root is always an object; only its contents get replaced
            if kind is not None:
                yield _Candidate(path, MutationKind.WRONG_TYPE, node)
                yield _Candidate(path, MutationKind.NULL, node)
            if "enum" in node:
                yield _Candidate(path, MutationKind.BAD_ENUM, node)
            if kind == "string" and node.get("format") == "date-time":
                yield _Candidate(path, MutationKind.BAD_DATE_TIME, node)
            if kind == "string" and "maxLength" in node:
                yield _Candidate(path, MutationKind.TOO_LONG, node)
            if kind in ("integer", "number") and "minimum" in node:
                yield _Candidate(path, MutationKind.BELOW_MINIMUM, node)
            if kind in ("integer", "number") and "maximum" in node:
                yield _Candidate(path, MutationKind.ABOVE_MAXIMUM, node)
        if kind == "object" and isinstance(value, dict):
            properties: Mapping[str, Schema] = node.get("properties", {})
            for name in node.get("required", []):
                yield _Candidate((*path, name), MutationKind.MISSING_REQUIRED, node)
            if not self.is_open(node):
                yield _Candidate(path, MutationKind.UNKNOWN_PROPERTY, node)
            for name, sub_value in value.items():
                if name in properties:  # vendor extras of customData have no schema
                    yield from self._candidates(properties[name], sub_value, (*path, name))
        elif kind == "array" and isinstance(value, list):
            if node.get("minItems", 0) >= 1:
                yield _Candidate(path, MutationKind.EMPTY_ARRAY, node)
            if "maxItems" in node and value:
                yield _Candidate(path, MutationKind.TOO_MANY_ITEMS, node)
            for index, item in enumerate(value):
                yield from self._candidates(node["items"], item, (*path, index))

    def _apply(self, c: _Candidate, instance: JSON) -> st.SearchStrategy[JSON]:
        """The strategy of instances with candidate `c` applied to a copy of `instance`."""
        current = _get(instance, c.path) if c.kind is not MutationKind.MISSING_REQUIRED else None
        replacement: st.SearchStrategy[JSON]
        if c.kind is MutationKind.MISSING_REQUIRED:
            return st.just(c.path).map(lambda p: _without(instance, p))
        if c.kind is MutationKind.UNKNOWN_PROPERTY:
            return self._unknown_property(c.node).map(
                lambda kv: _replaced(instance, c.path, {**current, kv[0]: kv[1]})  # type: ignore[dict-item]
            )
        if c.kind is MutationKind.WRONG_TYPE:
            accepted = _ACCEPTED_TYPES[c.node["type"]]
            replacement = st.sampled_from(
                [v for t, v in _VALUE_OF_TYPE.items() if t not in accepted]
            )
        elif c.kind is MutationKind.NULL:
            replacement = st.none()
        elif c.kind is MutationKind.TOO_LONG:
            assert isinstance(current, str)
            limit = c.node["maxLength"]
            replacement = st.text(_CHARACTERS, min_size=1, max_size=1).map(
                lambda ch: current + ch * (limit + 1 - len(current))
            )
        elif c.kind is MutationKind.BELOW_MINIMUM:
            replacement = st.just(_as_integer_if_integral(c.node["minimum"] - 1))
        elif c.kind is MutationKind.ABOVE_MAXIMUM:
            replacement = st.just(_as_integer_if_integral(c.node["maximum"] + 1))
        elif c.kind is MutationKind.BAD_ENUM:
            assert isinstance(current, str)
            members = list(c.node["enum"])
            wrong = {"", "NotAnEnumValue", current.lower(), current.upper(), current + "_"}
            replacement = st.sampled_from(sorted(wrong - set(members)))
        elif c.kind is MutationKind.EMPTY_ARRAY:
            replacement = st.just([])
        elif c.kind is MutationKind.TOO_MANY_ITEMS:
            assert isinstance(current, list) and current
            size = c.node["maxItems"] + 1
            replacement = st.just([current[i % len(current)] for i in range(size)])
        elif c.kind is MutationKind.BAD_DATE_TIME:
            assert isinstance(current, str)
            # the drawn value without its offset: a local time, which RFC 3339 does not allow
            local = current[:-1] if current.endswith("Z") else current[: -len("+00:00")]
            replacement = st.sampled_from([*INVALID_DATE_TIMES, local])
        else:  # pragma: no cover - every kind is handled above
            raise AssertionError(c.kind)
        return replacement.map(lambda new: _replaced(instance, c.path, new))

    def _unknown_property(self, node: Schema) -> st.SearchStrategy[tuple[str, JSON]]:
        declared = list(node.get("properties", {}))
        names = {"unknownProperty", "x", "ünknown", "😀", ""}
        # A declared name with its first letter's case flipped: names are case-sensitive.
        names |= {n[:1].swapcase() + n[1:] for n in declared}
        names -= set(declared)
        return st.tuples(st.sampled_from(sorted(names)), st.sampled_from([None, 1, "x", {}]))


def _as_integer_if_integral(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _replaced(instance: JSON, path: Path, value: JSON) -> JSON:
    out = copy.deepcopy(instance)
    if not path:
        return value
    _set(out, path, value)
    return out


def _without(instance: JSON, path: Path) -> JSON:
    out = copy.deepcopy(instance)
    parent = _get(out, path[:-1])
    assert isinstance(parent, dict)
    del parent[path[-1]]  # type: ignore[arg-type]
    return out
