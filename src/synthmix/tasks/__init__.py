"""Tasks: the Task protocol, the registry and its one entry point ``get_task``."""

from synthmix.tasks.base import Example, GenerationSpec, ParseFailure, Task, TaskInfo
from synthmix.tasks.registry import get_task, register_task, task_names

__all__ = ["Example", "GenerationSpec", "ParseFailure", "Task", "TaskInfo", "get_task", "register_task", "task_names"]
