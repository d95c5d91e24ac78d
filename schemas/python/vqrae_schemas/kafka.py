"""``KafkaTokenDataset``: the job's tokens topic (and optionally its features topic) as a torch IterableDataset.

Design choices and why:

* ``isolation.level=read_committed``: the job writes with Kafka transactions,
  and records of aborted transactions (a failed checkpoint) are replayed later;
  reading uncommitted would yield them twice.
* Partitions are assigned manually, not through a consumer group: a group would
  rebalance partitions among DataLoader workers at random and commit offsets
  nobody asked for. Partitions are split deterministically across distributed
  ranks and DataLoader workers (``_common.split``), so each record is read by
  exactly one reader.
* Token and feature records of an image are keyed by its id and committed in
  one transaction, so with equal partition counts both land in the same
  partition number: partition p of both topics is read by the same reader and
  paired by id with a bounded buffer. Different partition counts break that,
  and are refused.
* Bounded by default: the end offsets (the last stable offset, under
  read_committed) are taken when iteration starts and a partition is done at
  its partition-EOF event at or past that offset. Transaction commit markers
  occupy offsets, so the last record of a partition is usually not at end - 1:
  the EOF event, not the record offset, says when a partition is finished.
  ``follow=True`` keeps polling forever instead.
"""

from __future__ import annotations

import logging
from typing import Dict, Iterator, List, Mapping, Optional

import torch.utils.data

from ._common import CodebookGuard, reader_slot, resolve_rank, split
from .conversions import sample_from_records
from .single_object import decode

log = logging.getLogger(__name__)


def partitions_for_reader(num_partitions: int, index: int, count: int) -> List[int]:
    """Partition numbers reader ``index`` of ``count`` reads (pure: testable without a broker)."""
    return split(list(range(num_partitions)), index, count)


class KafkaTokenDataset(torch.utils.data.IterableDataset):
    """Samples (see ``conversions.SAMPLE_KEYS``) from the job's Kafka output topics.

    Args:
        bootstrap_servers: Kafka bootstrap servers.
        tokens_topic: the TokenRecord topic.
        features_topic: the FeatureRecord topic to pair by id, or None for tokens only
            (``features`` is then None in every sample).
        consumer_config: extra librdkafka settings (security, SASL, fetch sizes...);
            ``isolation.level`` and ``enable.partition.eof`` are always set by this class.
        follow: keep polling for new records instead of stopping at the end offsets
            taken when iteration starts.
        rank, world_size: this process's share; default torch.distributed's when
            initialized, else 0 and 1.
        allow_mixed_codebooks: yield records of different ``codebook_sha256`` instead
            of raising ``MixedCodebooksError``.
        max_pending: per partition, how many unpaired token (or feature) records to
            buffer before pausing that topic's partition until its mates arrive.
        poll_timeout_s, metadata_timeout_s: librdkafka call timeouts.
    """

    def __init__(self, bootstrap_servers: str, tokens_topic: str, features_topic: Optional[str] = None, *,
                 consumer_config: Optional[Mapping[str, object]] = None, follow: bool = False,
                 rank: Optional[int] = None, world_size: Optional[int] = None,
                 allow_mixed_codebooks: bool = False, max_pending: int = 10_000,
                 poll_timeout_s: float = 1.0, metadata_timeout_s: float = 30.0):
        super().__init__()
        self.bootstrap_servers = bootstrap_servers
        self.tokens_topic = tokens_topic
        self.features_topic = features_topic
        self.consumer_config = dict(consumer_config or {})
        self.follow = follow
        self.rank, self.world_size = resolve_rank(rank, world_size)
        self.allow_mixed_codebooks = allow_mixed_codebooks
        self.max_pending = max(1, int(max_pending))
        self.poll_timeout_s = poll_timeout_s
        self.metadata_timeout_s = metadata_timeout_s

    def _config(self) -> dict:
        config = {
            "bootstrap.servers": self.bootstrap_servers,
            # Only to satisfy clients that insist on one: partitions are assigned, never subscribed,
            # and no offset is ever committed.
            "group.id": "vqrae-schemas-reader",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
        }
        config.update(self.consumer_config)
        config["isolation.level"] = "read_committed"
        config["enable.partition.eof"] = True
        return config

    def _partition_count(self, consumer, topic: str) -> int:
        metadata = consumer.list_topics(topic, timeout=self.metadata_timeout_s)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise RuntimeError(f"topic {topic!r} not found or not readable: {None if found is None else found.error}")
        return len(found.partitions)

    def __iter__(self) -> Iterator[dict]:
        from confluent_kafka import Consumer

        index, count = reader_slot(self.rank, self.world_size)
        consumer = Consumer(self._config())
        try:
            partitions = self._partition_count(consumer, self.tokens_topic)
            if self.features_topic is not None:
                feature_partitions = self._partition_count(consumer, self.features_topic)
                if feature_partitions != partitions:
                    raise RuntimeError(
                        f"tokens topic {self.tokens_topic!r} has {partitions} partitions but features topic "
                        f"{self.features_topic!r} has {feature_partitions}: an image's token and feature records "
                        f"land in the same partition number only when the counts are equal, so they cannot be "
                        f"paired per partition; read the tokens alone (features_topic=None) or recreate the topics")
            mine = partitions_for_reader(partitions, index, count)
            if not mine:
                log.info("reader %d of %d has no partition of %d", index, count, partitions)
                return
            yield from _PartitionReader(self, consumer, mine).run()
        finally:
            consumer.close()


class _PartitionReader:
    """The read loop of one reader over its partitions (state kept per partition number)."""

    def __init__(self, dataset: KafkaTokenDataset, consumer, partitions: List[int]):
        self.ds = dataset
        self.consumer = consumer
        self.partitions = partitions
        self.guard = CodebookGuard(dataset.allow_mixed_codebooks)
        self.paired = dataset.features_topic is not None
        self.pending_tokens: Dict[int, Dict[str, dict]] = {p: {} for p in partitions}
        self.pending_features: Dict[int, Dict[str, dict]] = {p: {} for p in partitions}
        self.paused = set()  # (topic, partition)
        self.end: Dict[int, int] = {}  # tokens end offset per partition (bounded mode)
        self.tokens_done = {p: False for p in partitions}
        self.finished = set()  # partitions with nothing more to yield
        self.features_eof: Dict[int, Optional[int]] = {p: None for p in partitions}

    def _tp(self, topic: str, partition: int, offset: Optional[int] = None):
        from confluent_kafka import TopicPartition
        return TopicPartition(topic, partition) if offset is None else TopicPartition(topic, partition, offset)

    def run(self) -> Iterator[dict]:
        from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException

        ds = self.ds
        assign = []
        for p in self.partitions:
            if not ds.follow:
                low, high = self.consumer.get_watermark_offsets(
                    self._tp(ds.tokens_topic, p), timeout=ds.metadata_timeout_s, cached=False)
                self.end[p] = high
                if high <= low:
                    self.finished.add(p)
                    continue
            assign.append(self._tp(ds.tokens_topic, p, OFFSET_BEGINNING))
            if self.paired:
                assign.append(self._tp(ds.features_topic, p, OFFSET_BEGINNING))
        if not assign:
            return
        self.consumer.assign(assign)

        while ds.follow or len(self.finished) < len(self.partitions):
            msg = self.consumer.poll(ds.poll_timeout_s)
            if msg is None:
                self._check_stalled()
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    self._on_eof(msg.topic(), msg.partition(), msg.offset())
                    continue
                if err.fatal() or not err.retriable():
                    raise KafkaException(err)
                log.warning("transient Kafka error: %s", err)
                continue
            p, offset = msg.partition(), msg.offset()
            if p in self.finished:
                continue
            if msg.topic() == ds.tokens_topic:
                if not ds.follow and offset >= self.end[p]:
                    self._tokens_complete(p)
                    continue
                _, token = decode(msg.value(), expected="TokenRecord")
                if not ds.follow and offset >= self.end[p] - 1:
                    self.tokens_done[p] = True
                if not self.paired:
                    yield self._sample(token, None)
                else:
                    feature = self.pending_features[p].pop(token["id"], None)
                    if feature is not None:
                        yield self._sample(token, feature)
                    else:
                        self.pending_tokens[p][token["id"]] = token
                    self._flow(p)
                if self.tokens_done[p]:
                    self._tokens_complete(p)
            else:
                self.features_eof[p] = None
                _, feature = decode(msg.value(), expected="FeatureRecord")
                token = self.pending_tokens[p].pop(feature["id"], None)
                if token is not None:
                    yield self._sample(token, feature)
                else:
                    self.pending_features[p][feature["id"]] = feature
                self._flow(p)
                if self.tokens_done[p]:
                    self._tokens_complete(p)

    def _sample(self, token: dict, feature: Optional[dict]) -> dict:
        sample = sample_from_records(token, feature)
        self.guard.check(sample)
        return sample

    def _on_eof(self, topic: str, p: int, offset: int) -> None:
        if self.ds.follow or p in self.finished:
            return
        if topic == self.ds.tokens_topic:
            if offset >= self.end[p]:
                self._tokens_complete(p)
        else:
            self.features_eof[p] = offset
            if self.tokens_done[p]:
                self._check_missing_features(p)

    def _tokens_complete(self, p: int) -> None:
        """Tokens of p are read up to the end offset; p is finished once no token waits for features."""
        self.tokens_done[p] = True
        self._pause(self.ds.tokens_topic, p)
        if not self.pending_tokens[p]:
            self._finish(p)

    def _finish(self, p: int) -> None:
        self.finished.add(p)
        if self.paired:
            # Features past the tokens' end belong to tokens this run does not read.
            self.pending_features[p].clear()
            self._pause(self.ds.features_topic, p)

    def _check_missing_features(self, p: int) -> None:
        """Tokens are done, some still wait, and features hit EOF: are their features really absent?"""
        if not self.pending_tokens[p]:
            self._finish(p)
            return
        eof = self.features_eof[p]
        if eof is None:
            return
        # The waiting tokens were committed, so their features (same transaction) are below the
        # features' current last stable offset; EOF at or past it means they do not exist.
        _, high = self.consumer.get_watermark_offsets(
            self._tp(self.ds.features_topic, p), timeout=self.ds.metadata_timeout_s, cached=False)
        if eof >= high:
            missing = sorted(self.pending_tokens[p])
            raise RuntimeError(
                f"partition {p}: {len(missing)} TokenRecord(s) have no FeatureRecord in {self.ds.features_topic!r} "
                f"(read to its end, offset {eof}), e.g. {missing[:5]}; read the tokens alone (features_topic=None) "
                f"if the job ran with features off")

    def _check_stalled(self) -> None:
        if self.ds.follow or not self.paired:
            return
        for p in self.partitions:
            if p not in self.finished and self.tokens_done[p]:
                self._check_missing_features(p)

    def _flow(self, p: int) -> None:
        """Bound the pairing buffers: pause the side that is ahead, resume it once its mates catch up."""
        ds = self.ds
        for topic, pending in ((ds.tokens_topic, self.pending_tokens[p]), (ds.features_topic, self.pending_features[p])):
            if len(pending) >= ds.max_pending:
                self._pause(topic, p)
            elif (topic, p) in self.paused and len(pending) <= ds.max_pending // 2 and not (
                    topic == ds.tokens_topic and self.tokens_done[p]):
                self.consumer.resume([self._tp(topic, p)])
                self.paused.discard((topic, p))
        if (ds.tokens_topic, p) in self.paused and (ds.features_topic, p) in self.paused and p not in self.finished \
                and len(self.pending_tokens[p]) >= ds.max_pending and len(self.pending_features[p]) >= ds.max_pending:
            raise RuntimeError(
                f"partition {p}: {len(self.pending_tokens[p])} token and {len(self.pending_features[p])} feature "
                f"records wait for a mate with the same id (max_pending={ds.max_pending}): the topics do not hold "
                f"the same ids in the same order (different retention? different producers?)")

    def _pause(self, topic: str, p: int) -> None:
        if (topic, p) not in self.paused:
            self.consumer.pause([self._tp(topic, p)])
            self.paused.add((topic, p))
