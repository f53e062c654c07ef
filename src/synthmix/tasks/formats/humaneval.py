"""HumanEval's format ``{task_id, prompt, canonical_solution, test, entry_point}``, shared by ``code`` and ``mini-code``.

The prompt is the signature and docstring as is; scoring runs ``check(candidate)`` in the sandbox
(via ``metrics.code``), so pass@1 and ``verify`` are the same for real and mini problems.
"""

from __future__ import annotations

from synthmix.tasks.base import Example, Task


class HumanEvalFormat(Task):
    """Prompt, sandboxed scoring, verification and answer span of HumanEval-shaped problems."""

    # seconds one program may run in the sandbox; each task sets its own
    timeout_s: float

    def prompt(self, ex: Example) -> str:
        """The HumanEval prompt itself."""
        return ex["prompt"]

    def score(self, prediction: str, ex: Example) -> float:
        """pass@1 of one completion: 1.0 when ``check`` passes in the sandbox."""
        return float(self.correct(prediction, ex))

    def correct(self, prediction: str, ex: Example) -> bool:
        """Whether the completion passes every test, run in the sandbox."""
        from synthmix.metrics.code import run_humaneval_problem

        return run_humaneval_problem(ex["prompt"], prediction, ex["test"], ex["entry_point"], timeout_s=self.timeout_s).passed

    def verify(self, ex: Example) -> bool:
        """Whether the example's own solution passes its own tests in the sandbox."""
        return self.correct(ex["canonical_solution"], ex)

    def reference(self, ex: Example) -> str:
        """The canonical solution."""
        return ex["canonical_solution"]

    def answer_span(self, prediction: str) -> tuple[int, int] | None:
        """The whole completion (its confidence is near 0; ECE is marked unreliable for code)."""
        text = prediction.rstrip()
        return (0, len(text)) if text.strip() else None
