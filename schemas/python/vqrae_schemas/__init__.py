"""Python side of vqrae-stream: the job's Avro schemas, single-object codec and torch datasets.

* ``encode`` / ``decode`` / ``encode_image_record``: Avro single-object encoding with
  fingerprints that match Java's (python3-avro's own canonical form does not); ``decode``
  reads records of every released schema version (``released_fingerprints``) into today's shape.
* ``KafkaTokenDataset``: the tokens (and features) topics, read_committed.
* ``WebDatasetShards`` / ``AvroFiles``: the outputs of ``bin/vqrae tokenize-corpus``;
  ``read_dead_letters`` and ``read_manifest`` for the rest of such a directory.

Every dataset yields the same sample dicts (``conversions.SAMPLE_KEYS``); ``collate`` batches them for a
torch ``DataLoader`` (``collate_fn=collate``), which PyTorch's default collate cannot (``None``s, datetimes).
"""

from ._common import MixedCodebooksError
from .conversions import collate
from .files import AvroFiles, IncompleteRunError, WebDatasetShards, read_dead_letters, read_manifest, webdataset_key
from .kafka import KafkaTokenDataset
from .single_object import SchemaMismatchError, decode, encode, encode_image_record, fingerprints, released_fingerprints

__all__ = [
    "AvroFiles", "IncompleteRunError", "KafkaTokenDataset", "MixedCodebooksError", "SchemaMismatchError",
    "WebDatasetShards", "collate", "decode", "encode", "encode_image_record", "fingerprints", "read_dead_letters",
    "read_manifest", "released_fingerprints", "webdataset_key",
]
__version__ = "0.1.0"
