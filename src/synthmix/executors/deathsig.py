"""Makes the local executor's forkserver die with the driver: importing this module in the forkserver asks for it.

The forkserver imports its preload modules at start; this one, listed first, sets ``PR_SET_PDEATHSIG``
(SIGKILL) when its parent is the driver named in ``SYNTHMIX_DRIVER_PID``, so a ``kill -9`` of the driver
kills the forkserver, which in turn kills every step process (they ask for the same against it). Imported
anywhere else (the variable unset or naming another parent) it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal

DRIVER_PID = "SYNTHMIX_DRIVER_PID"
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits; exit now if the parent is already gone."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


if os.environ.get(DRIVER_PID) == str(os.getppid()):
    die_with_parent()
