"""Fault injection for tests: a TCP proxy that can reset or blackhole a link, and ``wait_until``.

Put :class:`TcpProxy` between a process and RabbitMQ (or PostgreSQL) and break the
link without touching the shared server:

- :meth:`TcpProxy.reset`: every open connection is reset (RST), new ones go through;
- :meth:`TcpProxy.reset_clients`: every open connection is reset on the client's side
  only; the server's side stays open and hears nothing more (the server learns of it at
  its own timeout, as after a partition that only the client noticed); new ones go through;
- :meth:`TcpProxy.cut`: every open connection is reset and new ones are refused,
  until :meth:`TcpProxy.restore` (a broker restart);
- :meth:`TcpProxy.blackhole`: every open connection is frozen, *forever*: the proxy
  goes on accepting its bytes and never answers nor closes it (what a load balancer
  does in a partition: a half-open link). New connections go through
  (``new="pass"``, the far side recovered) or are frozen too (``new="freeze"``) until
  :meth:`restore`; frozen ones stay frozen either way.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05, message: str = "") -> Any:
    """Poll ``predicate`` until truthy and return its value; fail the test (never hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")


class _Link:
    """One proxied connection: two sockets and whether bytes still flow between them."""

    def __init__(self, client: socket.socket, upstream: socket.socket, frozen: bool):
        self.client = client
        self.upstream = upstream
        self.frozen = frozen

    def reset(self, *, client_only: bool = False) -> None:
        for sock in (self.client,) if client_only else (self.client, self.upstream):
            with contextlib.suppress(OSError):
                # Linger 0: close sends RST, as a crashed peer or a restarted broker does.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                # A pump thread blocked in recv() holds the socket open past close(): the
                # peer would never hear of it (a PostgreSQL session would outlive the test).
                # shutdown() wakes that recv(), so the last reference goes and the RST leaves.
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``target`` (RabbitMQ by default); see the module docstring."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5672)):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepting = True
        self.freeze_new = False
        self.closed = False
        self.links: list[_Link] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, broker_url: str) -> str:
        """Return ``broker_url`` (user, password, vhost kept) pointed at this proxy."""
        parts = urlsplit(broker_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    # -- faults ------------------------------------------------------------

    def reset(self) -> None:
        """Reset every open connection; new ones go through."""
        with self.lock:
            links, self.links = self.links, [link for link in self.links if link.frozen]
        for link in links:
            if not link.frozen:
                link.reset()

    def reset_clients(self) -> None:
        """Reset every open connection on the client's side; the server's side stays open, silent."""
        with self.lock:
            links = [link for link in self.links if not link.frozen]
            for link in links:
                # Frozen: the server's bytes are dropped, and its socket is left open (close() resets it).
                link.frozen = True
        for link in links:
            link.reset(client_only=True)

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until :meth:`restore`."""
        self.accepting = False
        with self.lock:
            links, self.links = self.links, []
        for link in links:
            link.reset()

    def blackhole(self, *, new: str = "pass") -> None:
        """Freeze every open connection for good; new ones ``"pass"`` or ``"freeze"`` until :meth:`restore`."""
        if new not in ("pass", "freeze"):
            raise ValueError(new)
        with self.lock:
            self.freeze_new = new == "freeze"
            for link in self.links:
                link.frozen = True

    def restore(self) -> None:
        """Let new connections through again (frozen ones stay frozen)."""
        self.accepting = True
        self.freeze_new = False

    def live_connections(self) -> int:
        with self.lock:
            return sum(1 for link in self.links if not link.frozen)

    def frozen_connections(self) -> int:
        with self.lock:
            return sum(1 for link in self.links if link.frozen)

    def close(self) -> None:
        self.closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self.listener.close()

    # -- forwarding ----------------------------------------------------------

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                _Link(client, client, frozen=False).reset()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, upstream, frozen=self.freeze_new)
            with self.lock:
                self.links.append(link)
            threading.Thread(target=self._pump, args=(link, client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, upstream, client), daemon=True).start()

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                if not link.frozen:
                    sink.sendall(chunk)
                # frozen: the bytes are taken and dropped, nothing ever answers
        except OSError:
            pass
        if not link.frozen:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.close()
