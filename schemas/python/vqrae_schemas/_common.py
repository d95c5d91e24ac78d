"""What every dataset shares: splitting work across ranks and workers, and the codebook guard."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, TypeVar

import torch.utils.data

T = TypeVar("T")


def resolve_rank(rank: Optional[int], world_size: Optional[int]) -> Tuple[int, int]:
    """Explicit rank/world_size, else torch.distributed's when initialized, else (0, 1).

    Resolved when the dataset is built (in the training process), since
    DataLoader workers started with spawn do not inherit the process group.
    """
    if rank is None or world_size is None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            rank = dist.get_rank() if rank is None else rank
            world_size = dist.get_world_size() if world_size is None else world_size
        else:
            rank = 0 if rank is None else rank
            world_size = 1 if world_size is None else world_size
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
    return rank, world_size


def reader_slot(rank: int, world_size: int, worker_id: Optional[int] = None,
                num_workers: Optional[int] = None) -> Tuple[int, int]:
    """(index, count) of this reader among all ``world_size * num_workers`` readers.

    Worker id and count default to ``torch.utils.data.get_worker_info()`` (0 of 1
    outside a DataLoader worker). Readers are numbered rank-major.
    """
    if worker_id is None or num_workers is None:
        info = torch.utils.data.get_worker_info()
        worker_id, num_workers = (0, 1) if info is None else (info.id, info.num_workers)
    return rank * num_workers + worker_id, world_size * num_workers


def split(items: Sequence[T], index: int, count: int) -> List[T]:
    """The items reader ``index`` of ``count`` owns: every count-th, starting at index.

    Deterministic for a given order of ``items`` (callers sort them), and a
    partition of them: every item goes to exactly one reader. Readers beyond
    ``len(items)`` get nothing, so more readers than shards or partitions leaves
    some idle.
    """
    if not 0 <= index < count:
        raise ValueError(f"reader {index} is not in [0, {count})")
    return list(items[index::count])


class MixedCodebooksError(ValueError):
    """Records tokenized with different codebooks met in one dataset."""


class CodebookGuard:
    """Refuses samples whose codebook differs from the first one seen.

    Token ids of different codebooks are different vocabularies: mixing them
    silently corrupts training. Each reader (worker) checks its own stream, so
    two workers could each see a single, different codebook; the per-run
    ``_SUCCESS.json`` of file outputs names one codebook for the whole run.
    """

    def __init__(self, allow_mixed: bool, expected: Optional[str] = None):
        self.allow_mixed = allow_mixed
        self.first = expected
        self.first_id: Optional[str] = None if expected is None else "(the run's _SUCCESS.json)"

    def check(self, sample: dict) -> None:
        codebook = sample.get("codebook_sha256")
        if self.allow_mixed or codebook is None:
            return
        if self.first is None:
            self.first, self.first_id = codebook, sample.get("id")
        elif codebook != self.first:
            raise MixedCodebooksError(
                f"record {sample.get('id')!r} has codebook_sha256 {codebook} but {self.first_id!r} had "
                f"{self.first}: token ids of different codebooks are not comparable "
                f"(pass allow_mixed_codebooks=True to read them anyway)")
