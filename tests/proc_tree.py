"""Process trees from /proc for the tests that check nothing outlives a killed driver or sandbox caller."""

from __future__ import annotations

from pathlib import Path


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 4, the parent pid, is index 1)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def process_tree(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below ``root``; the start time tells a pid reused later apart."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry.name)
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        starts[int(entry.name)] = fields[19]
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add((child, starts[child]))
            todo.append(child)
    return found


def is_alive(pid: int, start: str) -> bool:
    """Whether the process ``pid`` that started at ``start`` still exists."""
    try:
        return _stat_fields(pid)[19] == start
    except OSError:
        return False
