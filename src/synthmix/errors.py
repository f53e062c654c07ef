"""The one small error tree: every error a user can cause is a SynthmixError (exit code 2 at the CLI)."""


class SynthmixError(Exception):
    """Base of every error synthmix raises on purpose; the CLI turns it into a message and ``exit_code`` (2)."""

    exit_code = 2


class ConfigError(SynthmixError, ValueError):
    """A study file is malformed: the message names the file, the field path and the value."""


class DataError(SynthmixError, ValueError):
    """Input data is malformed or unreachable: the message names the file, row or column and what to do."""


class PlanError(SynthmixError):
    """A study cannot be turned into a consistent DAG of steps."""


class StepError(SynthmixError):
    """A step failed while running; the message says which step and why."""


class StoreError(SynthmixError):
    """The artifact store or the study lock is in a state the operation cannot proceed from."""


class DiskFullError(StoreError):
    """The disk filled up; the run stops (exit 1), keeps what finished and resumes when run again."""

    exit_code = 1


class SandboxError(SynthmixError):
    """The sandbox cannot give the isolation asked for; the message says what is missing."""
