"""A mail server for tests: :class:`SmtpSink` takes every message over SMTP and keeps it in memory.

Only what Django's SMTP backend says without TLS or login (EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT). Python 3.12 dropped ``smtpd`` and aiosmtpd would be one more
dependency for forty lines. Start it on a port nobody listens on yet to play a mail
server that comes back: until :meth:`start`, connections to that port are refused.
"""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes
from email.message import Message


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.sink.received(message_from_bytes(body))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    """An SMTP server on 127.0.0.1:``port`` keeping what it receives in :attr:`messages`."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def received(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def start(self) -> SmtpSink:
        self._server = _Server(("127.0.0.1", self.port), _Session)
        self._server.sink = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
