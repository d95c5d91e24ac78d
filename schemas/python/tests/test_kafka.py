"""KafkaTokenDataset's read loop against an in-process fake of confluent_kafka.Consumer (no broker).

The fake serves each assigned, unpaused partition round-robin, skips transaction markers
(which occupy offsets, as on a real broker), emits a partition-EOF event at the end, and can
make records "arrive" after the end offsets were taken.
"""

import collections
import pickle

import confluent_kafka
import pytest
from torch.utils.data import DataLoader

from vqrae_schemas import KafkaTokenDataset, MixedCodebooksError, encode

import vqrae_testdata as td

MARKER = object()


class FakeError:
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code

    def fatal(self):
        return False

    def retriable(self):
        return False


class FakeMsg:
    def __init__(self, topic, partition, offset, value=None, error=None):
        self._t, self._p, self._o, self._v, self._e = topic, partition, offset, value, error

    def topic(self):
        return self._t

    def partition(self):
        return self._p

    def offset(self):
        return self._o

    def value(self):
        return self._v

    def error(self):
        return self._e


class Broker:
    """topic -> partition -> list of values or MARKER; ``late`` entries become visible after the first
    watermark query of their partition (they arrived after iteration started)."""

    def __init__(self, topics, late=None):
        self.topics = topics
        self.late = late or {}
        self.configs = []
        self.queried = set()

    def log(self, topic, p):
        entries = list(self.topics[topic][p])
        if (topic, p) in self.queried or any(q[1] == p for q in self.queried):
            entries += self.late.get((topic, p), [])
        return entries


class FakeConsumer:
    def __init__(self, broker, config):
        self.broker = broker
        broker.configs.append(dict(config))
        self.assigned, self.paused, self.pos, self.eof_sent = [], set(), {}, set()
        self.closed = False

    def list_topics(self, topic, timeout):
        parts = self.broker.topics.get(topic)
        meta = type("T", (), {"error": None if parts is not None else "UNKNOWN_TOPIC",
                              "partitions": {i: None for i in range(len(parts or []))}})()
        return type("M", (), {"topics": {topic: meta}})()

    def get_watermark_offsets(self, tp, timeout, cached):
        high = len(self.broker.log(tp.topic, tp.partition))
        self.broker.queried.add((tp.topic, tp.partition))
        return 0, high

    def assign(self, tps):
        self.assigned = [(tp.topic, tp.partition) for tp in tps]
        for key in self.assigned:
            self.pos[key] = 0

    def pause(self, tps):
        self.paused |= {(tp.topic, tp.partition) for tp in tps}

    def resume(self, tps):
        self.paused -= {(tp.topic, tp.partition) for tp in tps}

    def poll(self, timeout):
        for _ in range(len(self.assigned)):
            key = self.assigned.pop(0)
            self.assigned.append(key)
            if key in self.paused:
                continue
            log = self.broker.log(*key)
            while self.pos[key] < len(log) and log[self.pos[key]] is MARKER:
                self.pos[key] += 1
            if self.pos[key] < len(log):
                offset = self.pos[key]
                self.pos[key] += 1
                self.eof_sent.discard(key)
                return FakeMsg(key[0], key[1], offset, log[offset])
            if key not in self.eof_sent:
                self.eof_sent.add(key)
                return FakeMsg(key[0], key[1], self.pos[key],
                               error=FakeError(confluent_kafka.KafkaError._PARTITION_EOF))
        return None

    def close(self):
        self.closed = True


@pytest.fixture
def broker(monkeypatch):
    holder = {}

    def install(topics, late=None):
        holder["b"] = Broker(topics, late)
        monkeypatch.setattr(confluent_kafka, "Consumer", lambda config: FakeConsumer(holder["b"], config))
        return holder["b"]
    return install


def tok(i, **kw):
    return encode("TokenRecord", td.token_record(i, **kw))


def feat(i, **kw):
    return encode("FeatureRecord", td.feature_record(i, **kw))


def transactional(values, per_txn=2):
    """Values grouped into transactions, each followed by its commit marker."""
    out = []
    for start in range(0, len(values), per_txn):
        out += values[start:start + per_txn] + [MARKER]
    return out


def test_tokens_only_bounded_with_commit_markers(broker):
    ids = td.ids(9)
    b = broker({"tokens": [transactional([tok(i) for i in ids[p::3]]) for p in range(3)] + [[]]})
    ds = KafkaTokenDataset("fake:9092", "tokens", consumer_config={"security.protocol": "SSL",
                                                                 "isolation.level": "read_uncommitted"})
    got = [s["id"] for s in ds]
    assert sorted(got) == ids
    cfg = b.configs[0]
    assert cfg["isolation.level"] == "read_committed" and cfg["security.protocol"] == "SSL"
    assert cfg["enable.partition.eof"] is True and cfg["enable.auto.commit"] is False
    pickle.dumps(ds)  # DataLoader workers get a copy


def test_paired_with_disorder_late_records_and_small_buffer(broker):
    ids = td.ids(12)
    tokens, features = [[], []], [[], []]
    for n, i in enumerate(ids):
        tokens[n % 2].append(tok(i))
        features[n % 2].append(feat(i, dtype="bfloat16"))
    # Swap neighbours in the features so pairing needs the buffer.
    for f in features:
        for k in range(0, len(f) - 1, 2):
            f[k], f[k + 1] = f[k + 1], f[k]
    late = {("tokens", 0): [tok("late-0")], ("features", 0): [feat("late-0")]}
    broker({"tokens": [transactional(t) for t in tokens], "features": [transactional(f, 3) for f in features]}, late)
    samples = list(KafkaTokenDataset("fake:9092", "tokens", "features", max_pending=2))
    assert sorted(s["id"] for s in samples) == ids  # late-0 arrived after the end offsets: not read
    for s in samples:
        assert s["features"].shape == (6, 4) and s["features"].dtype.is_floating_point
        assert s["token_ids"].tolist() == td.token_grid(s["id"]).reshape(-1).tolist()


def test_features_lagging_behind_tokens_end(broker):
    # The last token's features are committed but sit after other records in the features partition.
    broker({"tokens": [transactional([tok("a"), tok("b")])],
            "features": [transactional([feat("x-orphan"), feat("a"), feat("b")])]})
    assert sorted(s["id"] for s in KafkaTokenDataset("f", "tokens", "features")) == ["a", "b"]


def test_missing_features_raise(broker):
    broker({"tokens": [transactional([tok("a"), tok("b")])], "features": [transactional([feat("a")])]})
    with pytest.raises(RuntimeError, match=r"have no FeatureRecord.*'b'"):
        list(KafkaTokenDataset("f", "tokens", "features"))


def test_diverging_topics_raise_instead_of_buffering_forever(broker):
    ids = td.ids(8)
    broker({"tokens": [[tok(i) for i in ids]], "features": [[feat(i) for i in reversed(ids)]]})
    with pytest.raises(RuntimeError, match="wait for a mate"):
        list(KafkaTokenDataset("f", "tokens", "features", max_pending=2))


def test_partition_counts_must_match(broker):
    broker({"tokens": [[], []], "features": [[]]})
    with pytest.raises(RuntimeError, match="has 2 partitions but features topic 'features' has 1"):
        list(KafkaTokenDataset("f", "tokens", "features"))


def test_unknown_topic(broker):
    broker({"tokens": [[]]})
    with pytest.raises(RuntimeError, match="'nope' not found"):
        list(KafkaTokenDataset("f", "nope"))


def test_codebook_guard(broker):
    broker({"tokens": [[tok("a"), tok("b", codebook=td.OTHER_CODEBOOK)]]})
    with pytest.raises(MixedCodebooksError) as e:
        list(KafkaTokenDataset("f", "tokens"))
    assert td.CODEBOOK in str(e.value) and td.OTHER_CODEBOOK in str(e.value)
    assert len(list(KafkaTokenDataset("f", "tokens", allow_mixed_codebooks=True))) == 2


def test_wrong_record_type_on_tokens_topic(broker):
    broker({"tokens": [[feat("a")]]})
    with pytest.raises(ValueError, match="expected a TokenRecord, got a FeatureRecord"):
        list(KafkaTokenDataset("f", "tokens"))


def test_every_record_once_across_2_ranks_x_2_workers(broker):
    ids = td.ids(20)
    broker({"tokens": [transactional([tok(i) for i in ids[p::5]]) for p in range(5)],
            "features": [transactional([feat(i) for i in ids[p::5]]) for p in range(5)]})
    seen = collections.Counter()
    for rank in range(2):
        ds = KafkaTokenDataset("f", "tokens", "features", rank=rank, world_size=2)
        for s in DataLoader(ds, batch_size=None, num_workers=2):
            assert s["features"] is not None
            seen[s["id"]] += 1
    assert sorted(seen) == ids and set(seen.values()) == {1}
