"""Java <-> Python interoperability, run by a Java JUnit test against a real job run.

Every test is skipped unless its environment variables are set:

* test_produce_image_records: VQRAE_BOOTSTRAP, VQRAE_INPUT_TOPIC, VQRAE_IMAGES_DIR
* test_read_kafka_outputs: VQRAE_BOOTSTRAP, VQRAE_TOKENS_TOPIC, VQRAE_FEATURES_TOPIC,
  VQRAE_DEAD_LETTER_TOPIC, VQRAE_EXPECTED
* test_read_file_outputs: VQRAE_CORPUS_DIRS (os.pathsep-separated), VQRAE_CORPUS_EXPECTED
* test_read_mixed_versions: VQRAE_MIXED_DIR (an avro run with v1 files added), VQRAE_MIXED_EXPECTED

Expected JSON (written by Java)::

    {"codebook_sha256": "...", "grid": [h, w],
     "images": {ID: {"token_ids": [ints], "image_sha256": "...",
                     "features": {"kind", "dtype", "shape", "sha256"} or null,
                     "metadata": obj or null, "text": str or null}},
     "dead_letters": {ID: REASON}}
"""

import collections
import hashlib
import json
import os
import stat

import pytest
from torch.utils.data import DataLoader

from vqrae_schemas import AvroFiles, KafkaTokenDataset, WebDatasetShards, decode, encode_image_record, read_dead_letters, read_manifest
from vqrae_schemas.conversions import _to_le_bytes, dtype_name

MAX_IMAGE_BYTES = 8 * 1024 * 1024
# Room for an 8 MiB image plus the record's id, header and batch overhead.
PRODUCER_MESSAGE_MAX_BYTES = 16 * 1024 * 1024


def _env(*names):
    values = [os.environ.get(n) for n in names]
    missing = [n for n, v in zip(names, values) if not v]
    if missing:
        pytest.skip(f"interop test: set {', '.join(missing)} to run it")
    return values


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_produce_image_records():
    bootstrap, topic, images_dir = _env("VQRAE_BOOTSTRAP", "VQRAE_INPUT_TOPIC", "VQRAE_IMAGES_DIR")
    from confluent_kafka import Producer

    names = sorted(n for n in os.listdir(images_dir) if stat.S_ISREG(os.stat(os.path.join(images_dir, n)).st_mode))
    assert names, f"no regular file in {images_dir}"
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES})
    delivered, failed = [], []

    def on_delivery(err, msg):
        (failed if err is not None else delivered).append((msg.key().decode("utf-8"), err))

    for name in names:
        path = os.path.join(images_dir, name)
        with open(path, "rb") as f:
            image = f.read()
        assert len(image) <= MAX_IMAGE_BYTES, f"{path} is {len(image)} bytes, over the 8 MiB this test allows"
        value = encode_image_record(name, image, source_uri=path, metadata={"producer": "python", "caption": f"caption of {name}"})
        while True:
            try:
                producer.produce(topic, key=name.encode("utf-8"), value=value, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.5)
        producer.poll(0)
    remaining = producer.flush(120)
    assert remaining == 0, f"{remaining} record(s) still undelivered after flush"
    assert not failed, (f"deliveries failed: {failed[:5]} (MSG_SIZE_TOO_LARGE from the broker means the topic's "
                        f"max.message.bytes is the 1 MB default: create the topic with a larger one)")
    assert sorted(k for k, _ in delivered) == names


def _check_samples(samples, expected, what, check_sidecars):
    counts = collections.Counter(s["id"] for s in samples)
    twice = sorted(i for i, n in counts.items() if n > 1)
    assert not twice, f"{what}: ids read more than once: {twice[:10]}"
    want = expected["images"]
    assert set(counts) == set(want), (f"{what}: missing {sorted(set(want) - set(counts))[:10]}, "
                                      f"unexpected {sorted(set(counts) - set(want))[:10]}")
    grid = tuple(expected["grid"])
    for s in samples:
        e = want[s["id"]]
        where = f"{what}: {s['id']!r}"
        assert s["token_ids"].tolist() == e["token_ids"], f"{where}: token ids differ"
        assert tuple(s["grid"]) == grid, f"{where}: grid {s['grid']} != {grid}"  # DataLoader turns tuples into lists
        assert s["codebook_sha256"] == expected["codebook_sha256"], f"{where}: codebook differs"
        assert s["image_sha256"] == e["image_sha256"], f"{where}: image_sha256 differs"
        ef = e.get("features")
        if ef is None:
            assert s["features"] is None, f"{where}: features where none were expected"
        else:
            assert s["features"] is not None, f"{where}: no features"
            assert list(s["features"].shape) == list(ef["shape"]), f"{where}: feature shape"
            assert dtype_name(s["features"]) == ef["dtype"], f"{where}: feature dtype"
            assert s["feature_kind"] == ef["kind"], f"{where}: feature kind"
            assert hashlib.sha256(_to_le_bytes(s["features"])).hexdigest() == ef["sha256"], f"{where}: feature bytes"
        if check_sidecars:
            assert s["metadata"] == e.get("metadata"), f"{where}: metadata {s['metadata']!r} != {e.get('metadata')!r}"
            assert s["text"] == e.get("text"), f"{where}: text {s['text']!r} != {e.get('text')!r}"


def _read_topic(bootstrap, topic, timeout_s=120.0):
    """Every committed record value of ``topic``: a plain read_committed consumer, to the end offsets."""
    import time
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "vqrae-interop-dead-letters",
                         "isolation.level": "read_committed", "enable.partition.eof": True,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30, cached=False)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        values, deadline = [], time.monotonic() + timeout_s
        while ends:
            assert time.monotonic() < deadline, f"{topic}: did not reach the end offsets {ends} in {timeout_s}s"
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    if msg.offset() >= ends.get(msg.partition(), 0):
                        ends.pop(msg.partition(), None)
                    continue
                raise KafkaException(msg.error())
            if msg.partition() in ends and msg.offset() < ends[msg.partition()]:
                values.append(msg.value())
                if msg.offset() >= ends[msg.partition()] - 1:
                    ends.pop(msg.partition())
        return values
    finally:
        consumer.close()


def _dead_letter_reasons(records, what):
    reasons = {}
    for r in records:
        assert r["id"] not in reasons, f"{what}: two dead letters for {r['id']!r}"
        reasons[r["id"]] = r["reason"]
    return reasons


def test_read_kafka_outputs():
    bootstrap, tokens, features, dead_topic, expected_path, _ = _env(
        "VQRAE_BOOTSTRAP", "VQRAE_TOKENS_TOPIC", "VQRAE_FEATURES_TOPIC", "VQRAE_DEAD_LETTER_TOPIC", "VQRAE_EXPECTED",
        "VQRAE_IMAGES_DIR")
    expected = _load(expected_path)
    with_features = any(e.get("features") for e in expected["images"].values())
    dataset = KafkaTokenDataset(bootstrap, tokens, features if with_features else None)
    samples = list(DataLoader(dataset, batch_size=None, num_workers=2))
    # The topics mix the job's v2 records (captions from the producer's metadata) and v1 ones (none).
    _check_samples(samples, expected, "kafka", check_sidecars=True)
    for s in samples:
        caption = expected["images"][s["id"]].get("text")
        assert s["source_uri"] == (None if caption is None else os.path.join(os.environ["VQRAE_IMAGES_DIR"], s["id"]))

    dead = [decode(v, expected="DeadLetterRecord")[1] for v in _read_topic(bootstrap, dead_topic)]
    assert _dead_letter_reasons(dead, "kafka") == expected["dead_letters"]


def _avro_token_fields(directory):
    """Field names of the TokenRecord writer schema in the run's token files (None if there are none)."""
    import avro.datafile
    import avro.io
    from vqrae_schemas.files import list_files

    files = list_files(os.path.join(directory, "tokens"), ".avro")
    if not files:
        return None
    with open(files[0], "rb") as f, avro.datafile.DataFileReader(f, avro.io.DatumReader()) as reader:
        schema = json.loads(reader.get_meta("avro.schema"))
    return {field["name"] for field in schema["fields"]}


def test_read_file_outputs():
    dirs, expected_path = _env("VQRAE_CORPUS_DIRS", "VQRAE_CORPUS_EXPECTED")
    expected = _load(expected_path)
    tested = []
    for directory in [d for d in dirs.split(os.pathsep) if d]:
        manifest = read_manifest(directory)
        fmt = manifest["format"]
        what = f"{fmt} run {directory}"
        if fmt == "webdataset":
            dataset, sidecars = WebDatasetShards(directory), True
        elif fmt == "avro":
            # TokenRecord has no metadata/text fields; check them only if the writer schema gained them.
            fields = _avro_token_fields(directory) or set()
            dataset, sidecars = AvroFiles(directory), {"metadata", "text"} <= fields
        else:
            continue  # parquet: no Python reader here
        assert manifest["codebook_sha256"] == expected["codebook_sha256"], f"{what}: _SUCCESS.json codebook"
        samples = list(DataLoader(dataset, batch_size=None, num_workers=2))
        _check_samples(samples, expected, what, check_sidecars=sidecars)
        if fmt == "webdataset":
            # The run's index splits its samples over 2 ranks x 2 workers, every sample once.
            assert dataset.index is not None and len(dataset.index["shardlist"]) > 1, f"{what}: shards.json"
            assert sum(shard["nsamples"] for shard in dataset.index["shardlist"]) == len(samples), f"{what}: nsamples"
            seen = collections.Counter()
            for rank in range(2):
                split = WebDatasetShards(directory, rank=rank, world_size=2)
                seen.update(s["id"] for s in DataLoader(split, batch_size=None, num_workers=2))
            assert sorted(seen) == sorted(s["id"] for s in samples) and set(seen.values()) == {1}, f"{what}: 2 x 2 split"
        assert manifest["counts"]["tokens"] == len(samples), f"{what}: _SUCCESS.json counts.tokens"
        dead = list(read_dead_letters(directory))
        assert _dead_letter_reasons(dead, what) == expected["dead_letters"]
        assert manifest["counts"]["dead_letters"] == len(dead), f"{what}: _SUCCESS.json counts.dead_letters"
        tested.append(fmt)
    if not tested:
        pytest.skip("no webdataset or avro directory in VQRAE_CORPUS_DIRS")


def test_read_mixed_versions():
    directory, expected_path = _env("VQRAE_MIXED_DIR", "VQRAE_MIXED_EXPECTED")
    expected = _load(expected_path)
    samples = list(DataLoader(AvroFiles(directory), batch_size=None, num_workers=2))
    # v1 files have no metadata or text (None), v2 files have the corpus sidecars'; both in one pass.
    _check_samples(samples, expected, f"mixed avro folder {directory}", check_sidecars=True)
    v1 = sorted(s["id"] for s in samples if s["id"].startswith("v1-"))
    assert v1 == ["v1-a-copy.png", "v1-b.png"]
