"""Real local mail servers for the e-mail tests, and the worker run the way production runs it.

- ``deliver_queued_mail()``: one pass of the mail worker (csp.outbox), then Django's test
  outbox. Requests only queue mail; nothing reaches ``mailoutbox`` until the worker runs.
- ``closed_port()``: a port on 127.0.0.1 with nothing listening (the mail server is down).
- ``HangingServer``: accepts connections and never says a word (a stuck mail server).
- ``SmtpSink``: a small but real SMTP server (RFC 5321's greeting, EHLO/HELO, MAIL, RCPT,
  DATA, RSET, NOOP, QUIT) that keeps every message it is given.
"""

import socket
import socketserver
import threading
from email import message_from_bytes

from django.core import mail

from csp.outbox import deliver_queued


def deliver_queued_mail() -> list:
    deliver_queued()
    return mail.outbox


def closed_port() -> int:
    """A port that refuses connections: bound for a moment, then released, never listened on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HangingServer:
    """Accepts every connection and never answers, until closed."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)  # the kernel completes the handshake; nobody reads
        self.port = self.socket.getsockname()[1]

    def close(self):
        self.socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, line: str):
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        self.reply("220 sink.test ESMTP ready")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink.test")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append(
                    (sender, recipients, message_from_bytes(b"".join(data)))
                )
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    """A real SMTP server on 127.0.0.1; ``messages`` holds (sender, recipients, message)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0):
        super().__init__(("127.0.0.1", port), _SmtpHandler)
        self.port = self.server_address[1]
        self.messages = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
