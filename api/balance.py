"""Connections spread evenly over `matching serve`'s worker processes.

gunicorn's workers share one listening socket, and each worker's event loop (uvloop, as
asyncio's) accepts every connection waiting when it wakes. Clients that keep their
connections open (HTTP keep-alive: a load generator, a reverse proxy's pool) therefore tend
to land on whichever worker woke first, and stay there: `benchmarks/live.py` measured one
worker doing 77-100 % of the server's work while the other idled, so that requests queued
behind each other on one core with the second one free, and p99 latencies doubled.

`BalancedWorker` accepts on its own terms instead: one connection per wake-up, and only while
it holds no more open connections than the least loaded of its live siblings (counts in
shared memory, `Slots`, one slot per worker, created in the master before the workers are
forked). A worker that may not accept leaves the connection to a sibling and looks again
after `RETRY` seconds; if a connection has waited `PATIENCE` seconds (every sibling busy,
or gone), it takes it anyway, so nothing waits on a sibling that cannot answer.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing.sharedctypes
import os
import socket
import sys
from typing import Any

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

log = logging.getLogger(__name__)

#: Seconds before a worker that left a waiting connection to a sibling looks again.
RETRY = 0.001
#: Seconds a connection may wait for the least loaded worker before any worker takes it.
PATIENCE = 0.02


class Slots:
    """Open connections per worker in memory shared by the master and its workers: slot i
    holds one worker's pid (0: free) and its count of open connections. Each count is written
    by its own worker only (the master resets a slot when its worker exits)."""

    def __init__(self, n: int) -> None:
        self.pids: Any = multiprocessing.sharedctypes.RawArray(ctypes.c_long, n)
        self.counts: Any = multiprocessing.sharedctypes.RawArray(ctypes.c_long, n)

    def claim(self) -> int:
        """A free slot for a worker about to be forked (in the master)."""
        for i in range(len(self.pids)):
            if self.pids[i] == 0 or not _alive(self.pids[i]):
                self.pids[i], self.counts[i] = -1, 0  # reserved until the worker writes its pid
                return i
        raise RuntimeError("no free connection-balancing slot")

    def release(self, pid: int) -> None:
        """The worker `pid` has exited (in the master)."""
        for i in range(len(self.pids)):
            if self.pids[i] == pid:
                self.pids[i], self.counts[i] = 0, 0

    def may_accept(self, me: int) -> bool:
        """True when worker `me` holds no more open connections than any live sibling."""
        mine = self.counts[me]
        return all(self.counts[i] >= mine for i in range(len(self.pids)) if i != me and self.pids[i] != 0)


def _alive(pid: int) -> bool:
    if pid < 0:  # reserved: its worker is being forked
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Listener:
    """Accepts on one listening socket for this worker, one connection per wake-up and only
    when `Slots.may_accept` (or the connection has waited `PATIENCE`). uvicorn's `Server`
    closes it with its own servers on shutdown (`close`)."""

    def __init__(self, sock: socket.socket, protocol_factory: Any, slots: Slots, me: int) -> None:
        self.sock, self.factory, self.slots, self.me = sock, protocol_factory, slots, me
        self.loop = asyncio.get_running_loop()
        self.fd = sock.fileno()
        self.waiting_since: float | None = None
        self.closed = False
        self.tasks: set[asyncio.Task[Any]] = set()
        sock.setblocking(False)
        self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        if self.closed:
            return
        now = self.loop.time()
        if self.waiting_since is None:
            self.waiting_since = now
        if now - self.waiting_since < PATIENCE and not self.slots.may_accept(self.me):
            self._pause(RETRY)  # a less loaded sibling should take it
            return
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):  # a sibling took it
            self.waiting_since = None
            return
        except OSError as exc:  # e.g. out of file descriptors: back off, keep serving the open ones
            log.error("accept failed: %s", exc)
            self._pause(0.1)
            return
        self.waiting_since = None
        conn.setblocking(False)
        task = self.loop.create_task(self._serve(conn))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.factory, conn)
        except OSError as exc:  # the client went away before it was set up
            log.debug("connection dropped: %s", exc)
            conn.close()

    def _pause(self, seconds: float) -> None:
        self.loop.remove_reader(self.fd)
        self.loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        if not self.closed:
            self.loop.add_reader(self.fd, self._readable)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.fd)


def _counted(protocol_class: type, slots: Slots, me: int) -> type:
    """uvicorn's HTTP protocol, counting this worker's open connections in its slot."""

    class Counted(protocol_class):
        def connection_made(self, transport: Any) -> None:
            slots.counts[me] += 1
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            slots.counts[me] -= 1
            super().connection_lost(exc)

    return Counted


class _BalancedServer(Server):
    def __init__(self, config: Any, listeners: list[socket.socket], slots: Slots, me: int) -> None:
        super().__init__(config=config)
        self.listeners, self.slots, self.me = listeners, slots, me

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the lifespan and uvicorn's state; no listener of its own
        if not self.started:
            return
        config, protocol = self.config, _counted(self.config.http_protocol_class, self.slots, self.me)

        def factory() -> asyncio.Protocol:
            return protocol(config=config, server_state=self.server_state, app_state=self.lifespan.state)

        self.servers = [_Listener(sock, factory, self.slots, self.me) for sock in self.listeners]  # type: ignore[misc]


class BalancedWorker(UvicornWorker):
    """uvicorn's gunicorn worker, accepting through `_Listener` (see the module docstring).
    The master gives each worker its slot (`api.serve`: `slots` on the app's gunicorn config
    and `balance_slot` on the worker, set before the fork)."""

    async def _serve(self) -> None:
        slots: Slots | None = getattr(self, "balance_slots", None)
        me: int | None = getattr(self, "balance_slot", None)
        if slots is None or me is None or self.cfg.is_ssl:
            await super()._serve()
            return
        slots.pids[me] = os.getpid()
        self.config.app = self.wsgi
        server = _BalancedServer(self.config, list(self.sockets), slots, me)
        self._install_sigquit_handler()
        await server.serve(sockets=[])
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
