"""The pipeline's Avro schemas, loaded from the package's ``avro/`` folder, and their released versions.

That folder is ``schemas/src/main/avro`` itself (a symlink in the source tree,
copied into wheels), so Python and Java always read the same ``.avsc`` files:
there is no second copy to drift. ``released/`` is ``schemas/released`` the same
way: every released version of each record schema (``NAME/vN.avsc``, complete
with its enums), the writer schemas of records already written.

Record schemas refer to enums defined in other files (``"type": "FailureStage"``,
namespace ``io.vqrae.schemas``), so the files are parsed in dependency order
into one shared names table, as the Java build does with its ``<imports>``.

The Parsing Canonical Form and its CRC-64-AVRO fingerprint are computed here
rather than with python3-avro: python3-avro 1.11 keeps ``{"type":"long"}`` for
a field declared ``{"type":"long","logicalType":"timestamp-millis"}`` where the
specification (and Java) write ``"long"``, so its fingerprint of every record
with a timestamp differs from the one Java puts in single-object headers.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Dict, List, Mapping, Optional

import avro.name
import avro.schema

NAMESPACE = "io.vqrae.schemas"

_PRIMITIVES = frozenset(["null", "boolean", "int", "long", "float", "double", "bytes", "string"])
_NAMED = frozenset(["record", "error", "enum", "fixed"])

_CRC64_EMPTY = 0xC15D213AA4D7A795


def _crc64_table() -> List[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    return table


_CRC64_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO (the Avro specification's Rabin fingerprint) of ``data``, as an unsigned int."""
    fp = _CRC64_EMPTY
    for b in data:
        fp = (fp >> 8) ^ _CRC64_TABLE[(fp ^ b) & 0xFF]
    return fp


def _split_name(name: str, namespace: Optional[str]) -> tuple:
    """(fullname, namespace for nested names) per the specification's name rules."""
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    if namespace:
        return f"{namespace}.{name}", namespace
    return name, None


def _walk(schema: object, namespace: Optional[str]):
    """Yield ``("defines", full name, definition)`` for every named type defined in ``schema`` and
    ``("refers", full name, None)`` for every named type referenced by name."""
    if isinstance(schema, str):
        if schema not in _PRIMITIVES:
            yield "refers", _split_name(schema, namespace)[0], None
    elif isinstance(schema, list):
        for branch in schema:
            yield from _walk(branch, namespace)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in _NAMED:
            space = schema.get("namespace", namespace) or None
            full, inner = _split_name(schema["name"], space)
            yield "defines", full, dict(schema, _namespace=inner)
            for field in schema.get("fields", []):
                yield from _walk(field["type"], inner)
        elif kind == "array":
            yield from _walk(schema["items"], namespace)
        elif kind == "map":
            yield from _walk(schema["values"], namespace)
        else:
            yield from _walk(kind, namespace)


def _definitions(schema: object, namespace: Optional[str], out: Dict[str, dict]) -> None:
    """Collect every named type defined (not merely referenced) in ``schema``."""
    for event, full, definition in _walk(schema, namespace):
        if event == "defines":
            out[full] = definition


def _references(schema: object, namespace: Optional[str], out: set) -> None:
    """Collect the full names of every named type referenced by name in ``schema``."""
    out.update(full for event, full, _ in _walk(schema, namespace) if event == "refers")


def parsing_canonical_form(schema: object, named_types: Mapping[str, dict], namespace: Optional[str] = None) -> str:
    """The specification's Parsing Canonical Form of a schema given as parsed JSON.

    Applies PRIMITIVES, FULLNAMES, STRIP (only name, type, fields, symbols,
    items, values, size survive: logicalType, doc, default, aliases, order and
    any other attribute are dropped), ORDER, STRINGS, INTEGERS and WHITESPACE.
    Names that are referenced rather than defined are looked up in
    ``named_types`` (full name -> JSON definition); as in Java, a named type is
    written in full at its first occurrence and by full name afterwards.
    """
    seen: set = set()

    def pcf(s: object, ns: Optional[str]) -> str:
        if isinstance(s, str):
            if s in _PRIMITIVES:
                return json.dumps(s)
            full = _split_name(s, ns)[0]
            if full in seen:
                return json.dumps(full)
            if full not in named_types:
                raise ValueError(f"unknown named type {s!r} (resolved as {full!r})")
            definition = named_types[full]
            return pcf(definition, definition.get("_namespace"))
        if isinstance(s, list):
            return "[" + ",".join(pcf(branch, ns) for branch in s) + "]"
        if not isinstance(s, dict):
            raise ValueError(f"not a schema: {s!r}")
        kind = s["type"]
        if isinstance(kind, (dict, list)):
            return pcf(kind, ns)
        if kind in _PRIMITIVES:
            return json.dumps(kind)
        if kind in _NAMED:
            space = s.get("namespace", ns) or None
            full, inner = _split_name(s["name"], space)
            if full in seen:
                return json.dumps(full)
            seen.add(full)
            parts = ['"name":' + json.dumps(full, ensure_ascii=False),
                     '"type":' + json.dumps("record" if kind == "error" else kind)]
            if kind in ("record", "error"):
                fields = ",".join('{"name":' + json.dumps(f["name"], ensure_ascii=False)
                                  + ',"type":' + pcf(f["type"], inner) + "}" for f in s["fields"])
                parts.append('"fields":[' + fields + "]")
            elif kind == "enum":
                parts.append('"symbols":[' + ",".join(json.dumps(x, ensure_ascii=False) for x in s["symbols"]) + "]")
            else:
                parts.append('"size":' + str(int(s["size"])))
            return "{" + ",".join(parts) + "}"
        if kind == "array":
            return '{"type":"array","items":' + pcf(s["items"], ns) + "}"
        if kind == "map":
            return '{"type":"map","values":' + pcf(s["values"], ns) + "}"
        return pcf(kind, ns)  # {"type": "SomeNamedType"}

    return pcf(schema, namespace)


@dataclass(frozen=True)
class SchemaInfo:
    """One top-level schema file: its python3-avro schema, canonical form and fingerprint."""

    name: str
    fullname: str
    schema: avro.schema.Schema
    canonical_form: str
    fingerprint: int


def schema_dir():
    """The packaged ``avro/`` folder (a Traversable; a plain path when installed or run from source)."""
    return resources.files(__package__).joinpath("avro")


@functools.lru_cache(maxsize=None)
def load_schemas() -> Dict[str, SchemaInfo]:
    """Every ``*.avsc`` of the package, by short name, parsed once with a shared names table."""
    raw: Dict[str, object] = {}
    folder = schema_dir()
    for entry in folder.iterdir():
        if entry.name.endswith(".avsc"):
            raw[entry.name[: -len(".avsc")]] = json.loads(entry.read_text(encoding="utf-8"))
    if not raw:
        raise RuntimeError(f"no .avsc files in {folder}: the package was built without its schemas")

    named: Dict[str, dict] = {}
    defined_by: Dict[str, str] = {}
    for file, js in raw.items():
        found: Dict[str, dict] = {}
        _definitions(js, None, found)
        named.update(found)
        for full in found:
            defined_by[full] = file

    # Topological order: a file is parsed after the files defining the names it refers to.
    deps = {}
    for file, js in raw.items():
        refs: set = set()
        _references(js, None, refs)
        missing = [r for r in refs if r not in defined_by]
        if missing:
            raise ValueError(f"{file}.avsc refers to undefined types {sorted(missing)}")
        deps[file] = {defined_by[r] for r in refs} - {file}
    order: List[str] = []
    while len(order) < len(raw):
        ready = sorted(f for f in raw if f not in order and deps[f] <= set(order))
        if not ready:
            raise ValueError(f"circular references between schema files {sorted(set(raw) - set(order))}")
        order.extend(ready)

    names = avro.name.Names()
    out: Dict[str, SchemaInfo] = {}
    for file in order:
        js = raw[file]
        parsed = avro.schema.make_avsc_object(js, names)
        form = parsing_canonical_form(js, named)
        fullname = getattr(parsed, "fullname", file)
        out[file] = SchemaInfo(file, fullname, parsed, form, crc64_avro(form.encode("utf-8")))
    return out


def released_dir():
    """The packaged ``released/`` folder: ``NAME/v1.avsc``, ``NAME/v2.avsc``... per record type."""
    return resources.files(__package__).joinpath("released")


@functools.lru_cache(maxsize=None)
def load_released() -> Dict[str, List[SchemaInfo]]:
    """Every released version of every record schema, by short name, oldest (v1) first.

    Each file is complete (named types inline), so each is parsed on its own.
    """
    out: Dict[str, List[SchemaInfo]] = {}
    for folder in sorted(released_dir().iterdir(), key=lambda entry: entry.name):
        versions = []
        while True:
            entry = folder.joinpath(f"v{len(versions) + 1}.avsc")
            if not entry.is_file():
                break
            js = json.loads(entry.read_text(encoding="utf-8"))
            named: Dict[str, dict] = {}
            _definitions(js, None, named)
            form = parsing_canonical_form(js, named)
            parsed = avro.schema.make_avsc_object(js, avro.name.Names())
            versions.append(SchemaInfo(folder.name, parsed.fullname, parsed, form, crc64_avro(form.encode("utf-8"))))
        if versions:
            out[folder.name] = versions
    if not out:
        raise RuntimeError(f"no released schemas in {released_dir()}: the package was built without them")
    return out


def get_schema(name: str) -> SchemaInfo:
    """Look a schema up by short (``TokenRecord``) or full (``io.vqrae.schemas.TokenRecord``) name."""
    schemas = load_schemas()
    short = name[len(NAMESPACE) + 1:] if name.startswith(NAMESPACE + ".") else name
    if short not in schemas:
        raise KeyError(f"unknown schema {name!r}; known: {sorted(schemas)}")
    return schemas[short]
