"""Avro single-object encoding, the format of every Kafka record value the job reads and writes.

A value is ``C3 01``, the 8-byte little-endian CRC-64-AVRO fingerprint of the
writer schema's Parsing Canonical Form, then the Avro binary datum. The
fingerprint is the only schema identification, so it must match Java's
``SchemaNormalization.parsingFingerprint64`` bit for bit; see ``_schemas`` for
why python3-avro's own canonical form cannot be used for that.

``decode`` knows the fingerprint of every released version of every record
schema (``schemas/released``) and resolves a record written with any of them
into today's shape: a field its writer did not have takes today's default (a
v1 TokenRecord decodes with ``text``, ``metadata`` and ``source_uri`` None),
a field today's schema lacks is dropped. ``encode`` writes today's version.

Values of ``timestamp-millis`` fields decode to timezone-aware ``datetime``
(python3-avro's logical-type conversion); pass ``datetime`` when encoding.
"""

from __future__ import annotations

import io
from typing import Dict, List, Mapping, Optional, Tuple

import avro.io

from ._schemas import SchemaInfo, get_schema, load_released, load_schemas

MAGIC = b"\xc3\x01"
HEADER_SIZE = 10

# Top-level record types a value can hold (enums are never values of their own).
RECORD_TYPES = ("ImageRecord", "TokenRecord", "FeatureRecord", "DeadLetterRecord", "DuplicateRecord")


class SchemaMismatchError(ValueError):
    """A value's header does not name one of the known schemas (or not the one expected)."""


def _records() -> Dict[int, SchemaInfo]:
    schemas = load_schemas()
    return {schemas[n].fingerprint: schemas[n] for n in RECORD_TYPES if n in schemas}


def _writers() -> Dict[int, SchemaInfo]:
    """Every schema a record can have been written with, by fingerprint: each released version, and today's."""
    writers = {fp: info for name, versions in load_released().items() if name in RECORD_TYPES
               for fp, info in ((v.fingerprint, v) for v in versions)}
    writers.update(_records())
    return writers


def fingerprints() -> Dict[str, int]:
    """Fingerprint of today's version of every record schema by short name (what this package's ``encode`` writes)."""
    return {info.name: fp for fp, info in _records().items()}


def released_fingerprints() -> Dict[str, List[int]]:
    """Fingerprints of every released version of every record schema, oldest first (what ``decode`` reads)."""
    return {name: [v.fingerprint for v in versions] for name, versions in load_released().items() if name in RECORD_TYPES}


def _known() -> str:
    return "; ".join(f"{name} " + ", ".join(f"v{i}=0x{fp:016x}" for i, fp in enumerate(fps, 1))
                     for name, fps in released_fingerprints().items())


def encode(schema_name: str, datum: Mapping[str, object]) -> bytes:
    """Single-object encoding of ``datum`` written with the named record schema."""
    info = get_schema(schema_name)
    out = io.BytesIO()
    out.write(MAGIC)
    out.write(info.fingerprint.to_bytes(8, "little"))
    avro.io.DatumWriter(info.schema).write(dict(datum), avro.io.BinaryEncoder(out))
    return out.getvalue()


def decode(value: bytes, expected: Optional[str] = None) -> Tuple[str, dict]:
    """Decode a single-object encoded value into ``(schema short name, record dict)``.

    Raises ``SchemaMismatchError`` naming the fingerprint found and the known
    ones when the header is missing or the fingerprint is unknown, or when
    ``expected`` is given and the value holds another record type.
    """
    if value is None:
        raise SchemaMismatchError("value is null (a tombstone), not a single-object encoded Avro record")
    value = bytes(value)
    if len(value) < HEADER_SIZE or value[:2] != MAGIC:
        raise SchemaMismatchError(
            f"not Avro single-object encoding: expected header C3 01 and an 8-byte fingerprint, "
            f"got {value[:HEADER_SIZE].hex(' ') or 'an empty value'}")
    fp = int.from_bytes(value[2:HEADER_SIZE], "little")
    info = _writers().get(fp)
    if info is None:
        raise SchemaMismatchError(
            f"unknown schema fingerprint 0x{fp:016x}; known: {_known()} "
            f"(a writer of a version not released yet, or one whose canonical form is computed differently)")
    if expected is not None and info.name != get_schema(expected).name:
        raise SchemaMismatchError(f"expected a {expected}, got a {info.name} (fingerprint 0x{fp:016x})")
    reader = _reader(fp, info)
    return info.name, reader.read(avro.io.BinaryDecoder(io.BytesIO(value[HEADER_SIZE:])))


_READERS: Dict[int, avro.io.DatumReader] = {}


def _reader(fp: int, writer: SchemaInfo) -> avro.io.DatumReader:
    """A reader of records written with ``writer`` into today's version of its schema (Avro schema resolution)."""
    if fp not in _READERS:
        _READERS[fp] = avro.io.DatumReader(writer.schema, get_schema(writer.name).schema)
    return _READERS[fp]


def encode_image_record(id: str, image: bytes, source_uri: Optional[str] = None,
                        metadata: Optional[Mapping[str, str]] = None) -> bytes:
    """An ImageRecord value for the job's input topic; produce it with key ``id.encode()``."""
    return encode("ImageRecord", {
        "id": id,
        "image": bytes(image),
        "source_uri": source_uri,
        "metadata": dict(metadata or {}),
    })
