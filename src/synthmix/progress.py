"""What a run reports while it works: the observer interface the driver calls, and the rich progress display.

The driver calls ``planned`` once with the number of steps left to run, then ``step`` for every start,
finish, failure and skip. ``RichProgress`` shows steps done/total, the steps running now, elapsed time
and an ETA (mean wall time of finished steps × steps left ÷ parallel jobs), and prints one line per
finished step so a log file tells the same story as the terminal.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RunObserver(Protocol):
    """Receives the driver's events."""

    def planned(self, to_run: int) -> None:
        """How many steps this run has to execute."""

    def step(self, event: str, step: Any, outcome: Any | None) -> None:
        """A step ``started``, is ``done``, ``failed`` or was ``skipped``."""


class SilentObserver:
    """Reports nothing (library use)."""

    def planned(self, to_run: int) -> None:
        """Ignore."""

    def step(self, event: str, step: Any, outcome: Any | None) -> None:
        """Ignore."""


class RichProgress:
    """A progress bar with the running steps and an ETA, plus one printed line per finished step."""

    COLOURS = {"done": "green", "failed": "red", "skipped": "yellow"}

    def __init__(self, console: Console, jobs: int) -> None:
        self.console = console
        self.jobs = max(1, jobs)
        self.running: dict[str, float] = {}
        self.walls: list[float] = []
        self.left = 0
        self.finished = 0
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"), console=console,
                                 transient=True)
        self.task = self.progress.add_task("planning", total=None, eta="—")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def planned(self, to_run: int) -> None:
        """Add a run's steps to the bar's total (``synthmix tune`` runs one study per setting under one bar)."""
        self.left += to_run
        self.progress.update(self.task, total=self.finished + self.left, description="starting")

    def step(self, event: str, step: Any, outcome: Any | None) -> None:
        """Update the bar and print a line when a step ends."""
        if event == "started":
            self.running[step.label] = time.monotonic()
        else:
            self.running.pop(step.label, None)
            self.left -= 1
            self.finished += 1
            if outcome is not None and outcome.ok:
                self.walls.append(outcome.wall_s)
            wall = f" {outcome.wall_s:.1f}s" if outcome is not None else ""
            self.progress.console.print(f"[{self.COLOURS[event]}]{event}[/]{wall} {step.label}", highlight=False)
            self.progress.advance(self.task)
        current = next(iter(self.running), "waiting")
        more = f" (+{len(self.running) - 1})" if len(self.running) > 1 else ""
        self.progress.update(self.task, description=f"{current}{more}", eta=self._eta())

    def _eta(self) -> str:
        if not self.walls:
            return "—"
        seconds = sum(self.walls) / len(self.walls) * self.left / self.jobs
        return time.strftime("%H:%M:%S", time.gmtime(seconds))
