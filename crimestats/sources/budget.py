"""Reading an upload in a child process, under a memory and a time budget.

A crafted file can make a reader ask for more memory than the machine has (python-calamine
then aborts the whole process: there is no exception to catch) or keep it busy for minutes,
past gunicorn's worker timeout. The checks in ``files`` and ``extent`` refuse the files we
know how to describe; this is what holds for the rest. The reading runs in a process forked
for it:

- its address space is capped (``RLIMIT_AS``) at what it starts with plus
  ``Limits.memory_bytes``: a reader that asks for more gets a failed allocation, a
  ``MemoryError`` or an abort, and only the child ends;
- its processor time is capped (``RLIMIT_CPU``), and the parent stops waiting and kills it
  when the wall-clock budget is spent, so a page answers before gunicorn's timeout (the
  CPU limit also ends a child whose parent was killed first); no core dumps;
- it sends back bytes (the caller's JSON: data, never code) or a refusal's message, and
  leaves with ``os._exit``, running no clean-up that could touch what it shares with the
  parent. It must not use the database: its connections are the parent's (any query
  raises).

Why fork rather than start a new interpreter: the child starts with Django set up, the
readers imported and the upload open, so it costs milliseconds and the upload is not
copied. gunicorn's sync workers, the management commands and the tests are single-threaded
at the fork. The limits are Linux's; elsewhere only the wall clock holds.
"""

import contextlib
import faulthandler
import logging
import math
import os
import resource
import select
import signal
import time
import traceback
from collections.abc import Callable

from django.db import connections

from .files import Refused, megabytes

logger = logging.getLogger(__name__)
READ_SIZE = 1024 * 1024
# What ends a child that asked for too much memory: an abort (Rust's allocation failure),
# or the kernel's out-of-memory killer.
OUT_OF_MEMORY = {signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS}


class ReaderFailed(RuntimeError):
    """The reader raised something other than a refusal: a bug, with the child's traceback."""


def run(task: Callable[[], bytes], *, name: str, seconds: float, memory_bytes: int) -> bytes:
    """``task()`` run in a child process within the budget; Refused if it ran out of memory
    or time (or refused the file itself)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its outcome is what the parent checks
        os.close(read_end)
        _child(task, write_end, seconds, memory_bytes)
    os.close(write_end)
    answer = bytearray()
    finished = False
    try:
        deadline = time.monotonic() + seconds
        poller = select.poll()
        poller.register(read_end, select.POLLIN | select.POLLHUP)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                break  # out of time
            block = os.read(read_end, READ_SIZE)
            if not block:
                finished = True
                break
            answer += block
    finally:
        # Out of time, or the parent itself interrupted (gunicorn's timeout, Ctrl-C): the
        # child goes too. Otherwise the pipe closed and the child has only to exit.
        os.close(read_end)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    timed_out = not finished
    return _outcome(name, bytes(answer), status, timed_out, seconds, memory_bytes)


def _outcome(name, answer, status, timed_out, seconds, memory_bytes) -> bytes:
    too_slow = Refused(
        f"Reading {name} took longer than the {seconds:g} s allowed, so it was "
        "stopped and nothing was imported. Check it is the file you meant; load a file this "
        "large with the management command (see the README)."
    )
    too_big = Refused(
        f"Reading {name} needed more than the {megabytes(memory_bytes)} of memory allowed, so "
        "it was stopped and nothing was imported. A spreadsheet with cells or rows far "
        "beyond its table does this: copy the table into a new spreadsheet and upload that."
    )
    if timed_out or os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
        # For whoever runs the service: a reader stopped. The name is the uploader's, so
        # repr() keeps it on one line.
        logger.warning(
            "Reading %r stopped: %s",
            name,
            "out of time" if timed_out else f"wait status {status}",
        )
    if timed_out:
        raise too_slow
    if os.WIFSIGNALED(status):
        if os.WTERMSIG(status) == signal.SIGXCPU:
            raise too_slow
        if os.WTERMSIG(status) in OUT_OF_MEMORY:
            raise too_big
        raise Refused(f"{name} could not be read (the reader stopped on it).")
    kind, body = answer[:1], answer[1:]
    if os.WEXITSTATUS(status) != 0 or not kind:
        raise too_big  # the child could not even report: out of memory
    if kind == b"R":
        raise Refused(body.decode())
    if kind == b"M":
        raise too_big
    if kind == b"E":
        raise ReaderFailed(f"Reading {name} failed:\n{body.decode(errors='replace')}")
    return body


def _child(task, write_end: int, seconds: float, memory_bytes: int):  # pragma: no cover
    status = 70
    try:
        # An abort here is expected of a file too large to read, and the parent logs it: no
        # Python traceback dump (pytest turns faulthandler on).
        faulthandler.disable()
        # The parent's handlers (gunicorn's, Django's) are not the child's business.
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, signal.SIG_DFL)
        _limit(seconds, memory_bytes)
        for connection in connections.all(initialized_only=True):
            connection.execute_wrappers.append(_no_database)
        try:
            answer = b"O" + task()
        except Refused as refusal:
            answer = b"R" + str(refusal).encode()
        except MemoryError:
            answer = b"M"
        except Exception:
            answer = b"E" + traceback.format_exc().encode()
        view = memoryview(answer)
        while view:
            view = view[os.write(write_end, view) :]
        status = 0
    finally:
        os._exit(status)


def _limit(seconds: float, memory_bytes: int) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = math.ceil(seconds) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    with contextlib.suppress(ValueError, OSError):
        ceiling = _address_space() + memory_bytes
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            ceiling = min(ceiling, hard)
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))


def _address_space() -> int:
    """The process's virtual memory now (Linux), which the child starts with."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


def _no_database(*args, **kwargs):
    raise RuntimeError("The import's reading process must not use the database.")
