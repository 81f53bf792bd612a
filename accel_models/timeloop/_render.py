"""Jinja2 templates of Timeloop documents rendered within bounds: time, memory and output size.

A template is code. Jinja2's sandbox keeps it from touching files or Python internals and caps one `range`, but
not what a few lines can ask for: nested loops whose product of ranges never ends, `'a' * 10**10` (a 10 GB
string), `10 ** 10 ** 10` (an integer that takes hours to compute). So a template is rendered

- with a sandbox that checks the size of what `*`, `**` and `+` would build before building it (the common cases,
  refused at once with the operation named), and
- in a forked child process with an address-space limit, under a wall-clock deadline, and with its output capped:
  whatever a template does (a filter or method that allocates, a loop that runs for ever), the reader gets one
  error within `RENDER_TIME_LIMIT_S` and the reading process never runs out of memory.

Where `fork` does not exist (Windows), the template renders in-process with the sandbox's checks and the output cap.
"""
from __future__ import annotations

import json
import math
import os
import select
import signal
import time
import warnings

import jinja2
from jinja2.sandbox import SandboxedEnvironment

try:
    import resource
except ImportError:  # no such module on Windows: renders there run in-process (see `render`)
    resource = None

MAX_RENDERED_BYTES = 8 << 20
"""Largest text a Jinja2 template may render to (and largest value it may build)."""
MAX_INTEGER_BITS = 1 << 16
"""Largest integer (in bits, ~20,000 digits) a template's arithmetic may build."""
RENDER_TIME_LIMIT_S = 5.0
"""Wall-clock time a template may take to render (Timeloop's own templates take milliseconds)."""
RENDER_MEMORY_BYTES = 1 << 30
"""Address space a render may add to the reading process (its child), beyond what the process already maps."""


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with the size of the result of `*`, `**` and `+` checked before the operation runs (Jinja2
    calls `call_binop` for the operators listed in `intercepted_binops`, and does not fold them at compile time)."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context, operator: str, left, right):
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


def _size(value) -> int | None:
    """The length of a string or sequence a template may grow, None for anything else."""
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _bits(value) -> int:
    return abs(int(value)).bit_length() if isinstance(value, int) else 0


def _check_binop(operator: str, left, right) -> None:
    """Refuse an operation whose result would exceed MAX_RENDERED_BYTES (a sequence) or MAX_INTEGER_BITS."""
    too_big = None
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            n = _size(seq)
            if n is not None and isinstance(count, int) and n * max(count, 0) > MAX_RENDERED_BYTES:
                too_big = f"a sequence of {n * count:,} items ('*'); at most {MAX_RENDERED_BYTES:,}"
        if isinstance(left, int) and isinstance(right, int) and _bits(left) + _bits(right) > MAX_INTEGER_BITS:
            too_big = f"an integer of about {_bits(left) + _bits(right):,} bits ('*'); at most {MAX_INTEGER_BITS:,}"
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        bits = right * math.log2(abs(left))
        if bits > MAX_INTEGER_BITS:
            too_big = f"an integer of about {bits:,.0f} bits ('**'); at most {MAX_INTEGER_BITS:,}"
    elif operator == "+":
        a, b = _size(left), _size(right)
        if a is not None and b is not None and a + b > MAX_RENDERED_BYTES:
            too_big = f"a sequence of {a + b:,} items ('+'); at most {MAX_RENDERED_BYTES:,}"
    if too_big:
        raise jinja2.exceptions.SecurityError(f"the template computes {too_big}")


def _render_here(text: str, variables: dict | None) -> str:
    """Render in this process: the sandbox's checks and the output cap (a ValueError-free `_Refused` otherwise)."""
    env = _BoundedSandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    out, size = [], 0
    for chunk in env.from_string(text).generate(**(variables or {})):
        size += len(chunk)
        if size > MAX_RENDERED_BYTES:
            raise _Refused(f"the Jinja2 template renders to more than {MAX_RENDERED_BYTES:,} characters")
        out.append(chunk)
    return "".join(out)


class _Refused(Exception):
    """A template refused, with the reason as the message (turned into a ValueError naming the document)."""


def _explain(exc: BaseException) -> str:
    """One line saying why a render failed."""
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, jinja2.TemplateError):
        hint = (" (pass it as a Jinja2 variable: --jinja NAME=VALUE, or +NAME=VALUE after an accelforge: file)"
                if isinstance(exc, jinja2.UndefinedError) else "")
        return f"Jinja2 template: {exc.message or exc}{hint}"
    if isinstance(exc, MemoryError):
        return (f"the Jinja2 template needs more than {RENDER_MEMORY_BYTES >> 20:,} MB of memory to render; accepted: "
                "templates that build documents of a few MB")
    if isinstance(exc, RecursionError):
        return "the Jinja2 template recurses too deeply (macros or includes calling themselves?)"
    return f"Jinja2 template: {type(exc).__name__}: {' '.join(str(exc).split())}"


def _address_space_bytes() -> int | None:
    """This process's mapped address space (Linux's /proc/self/statm), None where it cannot be read."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _child(text: str, variables: dict | None, write_fd: int) -> None:
    """The forked child: limit its memory and CPU, render, send {"text"} or {"error"} as JSON, exit at once."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C (and ends this process)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            if resource is None:
                raise ImportError("resource")
            mapped = _address_space_bytes()
            if mapped is not None:
                limit = mapped + RENDER_MEMORY_BYTES
                resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
            cpu = int(RENDER_TIME_LIMIT_S) + 2
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.getrlimit(resource.RLIMIT_CPU)[1]))
        except (ImportError, ValueError, OSError):
            pass  # limits the system does not take: the parent's deadline still holds
        try:
            message = {"text": _render_here(text, variables)}
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as one line
            message = {"error": _explain(exc)}
        data = json.dumps(message).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:  # noqa: BLE001 - the parent reports a child that sent nothing
        status = 1
    finally:
        os._exit(status)


def _render_in_child(text: str, variables: dict | None) -> str:
    """Render in a forked child (see the module docstring); raises `_Refused` with the reason."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12 warns about fork with threads running
        pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(text, variables, write_fd)
    os.close(write_fd)
    chunks, size, finished = [], 0, False
    deadline = time.monotonic() + RENDER_TIME_LIMIT_S
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                finished = True
                break
            size += len(chunk)
            if size > 8 * MAX_RENDERED_BYTES:  # JSON escapes at most multiply the text by 6
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if not finished:
        raise _Refused(f"the Jinja2 template did not finish rendering within {RENDER_TIME_LIMIT_S:g} s (loops over "
                       f"very large ranges?); accepted: templates that render in under {RENDER_TIME_LIMIT_S:g} s")
    try:
        message = json.loads(b"".join(chunks))
    except ValueError:
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)
        why = ("took more CPU time than allowed" if killed else
               f"stopped without a result (exit status {os.waitstatus_to_exitcode(status)}; out of memory?)")
        raise _Refused(f"the Jinja2 template {why}; accepted: templates that render in under "
                       f"{RENDER_TIME_LIMIT_S:g} s and a few MB") from None
    if "error" in message:
        raise _Refused(message["error"])
    return message["text"]


def render(text: str, variables: dict | None, what: str) -> str:
    """Render `text` as a Jinja2 template with `variables` (timeloopfe's `jinja_parse_data`), if it is one; a
    ValueError naming `what` if the template fails or breaks a bound (see the module docstring).

    The sandboxed environment has no file loader (no include) and undefined names are errors, not empty text.
    """
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text
    try:
        return _render_in_child(text, variables) if hasattr(os, "fork") else _render_here(text, variables)
    except (_Refused, jinja2.TemplateError, MemoryError, RecursionError) as exc:
        raise ValueError(f"{what}: {_explain(exc)}") from None


__all__ = ["render", "MAX_RENDERED_BYTES", "MAX_INTEGER_BITS", "RENDER_TIME_LIMIT_S", "RENDER_MEMORY_BYTES"]
