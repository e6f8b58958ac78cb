"""Helper processes of a refresh (its forked shard workers, its pruning process)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """A helper process asks Linux to kill it when the refresh that started it dies (even by
    SIGKILL): a shard worker would otherwise wait forever on a queue that nobody feeds,
    holding its memory."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the call
            os._exit(1)
