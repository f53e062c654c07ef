"""What the five mini tasks share: hash-partitioned splits, sizes and option handling.

Every candidate item is routed to a *region* by the normalised hash of its group key (its prompt,
or its passage for reading), so the eval, tuning, train and pretraining-corpus regions are disjoint
by construction, whatever sizes are asked for and whatever the world seed. A split is the first
``n`` distinct items of its region in the task's seeded candidate stream, so it is byte-identical
for the same options.
"""

from __future__ import annotations

import copy
import random
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any

from synthmix.errors import ConfigError, DataError
from synthmix.tasks.base import Example, Task

# region -> [low, high) of the hash bucket in 0..99
REGIONS: dict[str, tuple[int, int]] = {
    "eval": (0, 30),
    "tuning": (30, 40),
    "train": (40, 70),
    "pretrain": (70, 100),
}


# consecutive candidates without a new item after which a region counts as exhausted
MAX_MISSES = 100_000


def region_of(group_key: str) -> str:
    """The region of an item from its (already normalised-hash) group key."""
    bucket = int(group_key[:8], 16) % 100
    for region, (low, high) in REGIONS.items():
        if low <= bucket < high:
            return region
    raise AssertionError(f"bucket {bucket} outside every region")


class MiniTask(Task):
    """A procedural task: seeded candidate stream, hash regions, and the real dataset's record schema.

    Splits: ``train``; the tuning split (``validation`` where the real eval split is ``test``,
    otherwise ``dev``) for choosing learning rate and epochs; and ``eval_split`` (sized by
    ``n_test``), named like the real benchmark's.
    """

    family: str
    tuning_split: str

    def __init__(self, seed: int = 0, n_train: int = 1000, n_validation: int = 200, n_test: int = 500) -> None:
        for label, value in (("n_train", n_train), ("n_validation", n_validation), ("n_test", n_test)):
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"task {self.name!r}: {label} must be a non-negative integer (got {value!r})")
        if not isinstance(seed, int):
            raise ConfigError(f"task {self.name!r}: seed must be an integer (got {seed!r})")
        self.seed = seed
        self.sizes = {"train": n_train, self.tuning_split: n_validation, self.eval_split: n_test}
        self.split_region = {"train": "train", self.tuning_split: "tuning", self.eval_split: "eval"}
        self._cache: dict[str, list[Example]] = {}

    @property
    def splits(self) -> tuple[str, ...]:
        """The split names ``load`` accepts."""
        return tuple(self.sizes)

    def knobs(self) -> dict[str, Any]:
        """The task-specific difficulty options (recorded in ``options``)."""
        return {}

    def options(self) -> dict[str, Any]:
        """Seed, split sizes and difficulty knobs, for artifact ids and reports."""
        sizes = {"n_train": self.sizes["train"], "n_validation": self.sizes[self.tuning_split], "n_test": self.sizes[self.eval_split]}
        return {"seed": self.seed, **sizes, **self.knobs()}

    def rng(self) -> random.Random:
        """The seeded generator of the candidate stream (string seeds hash deterministically)."""
        return random.Random(f"{self.name}:{self.version}:{self.seed}:{sorted(self.knobs().items())}")

    @abstractmethod
    def candidates(self) -> Iterator[Example]:
        """The seeded stream of candidate items (may repeat; may be finite)."""

    def group_key(self, ex: Example) -> str:
        """The key that decides an item's region; items sharing it always share a split."""
        return self.contamination_key(ex)

    def region_items(self, region: str, n: int, exact: bool = True) -> list[Example]:
        """The first ``n`` distinct items of ``region`` in the candidate stream (fewer only when not ``exact``)."""
        items: list[Example] = []
        seen: set[str] = set()
        misses = 0
        if n == 0:
            return items
        for ex in self.candidates():
            key = self.contamination_key(ex)
            if key in seen or region_of(self.group_key(ex)) != region:
                misses += 1
                if misses > MAX_MISSES:
                    break
                continue
            misses = 0
            seen.add(key)
            items.append(ex)
            if len(items) == n:
                return items
        if not exact:
            return items
        raise DataError(
            f"task {self.name!r}: only {len(items)} distinct items in region {region!r} (asked for {n}); "
            "lower the split size or enlarge the world (see the task's difficulty options)"
        )

    def load(self, split: str) -> list[Example]:
        """The examples of ``split`` in a fixed order; identical for identical options."""
        if split not in self.sizes:
            raise ConfigError(f"task {self.name!r} has no split {split!r}; splits: {', '.join(self.sizes)}")
        if split not in self._cache:
            self._cache[split] = self.region_items(self.split_region[split], self.sizes[split])
        return copy.deepcopy(self._cache[split])

    def pretraining_variant(self, ex: Example, rng: random.Random) -> Example:
        """The form a pretraining-region item takes in one corpus occurrence: itself, unless the task varies it."""
        return ex

    def pretraining_items(self, n: int) -> list[Example]:
        """Up to ``n`` items of the pretraining region (all of it for a small world): corpus material never in any split."""
        return self.region_items("pretrain", n, exact=False)
