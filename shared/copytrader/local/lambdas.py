"""Run the real Lambda handlers behind moto's Lambda API.

moto without Docker never runs function code (it echoes the payload). Local mode swaps the invoke
method of moto's docker-less Lambda backend for a dispatcher that imports each function's entry point by
module name, `functions.<workflow>_<step>.handler` (the very file CDK deploys; `Workflow.handler_module`), and
calls its `lambda_handler` with a Lambda-like context. A handler that raises answers the way Lambda does: the
`x-amz-function-error: Unhandled` header and an `{errorType, errorMessage}` body, so the state machine's
Retry/Catch see the real error names.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from copytrader.workflows import Workflow

Handler = Callable[[dict[str, Any], Any], Any]


def repo_root() -> Path:
    """The repository root (the folder holding functions/), found from this file or the working directory."""
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "functions" / "__init__.py").exists() and (candidate / "shared").is_dir():
                return candidate
    raise FileNotFoundError("cannot find the repository's functions/ package; run from the repository")


def load_handler(workflow: Workflow, step: str) -> Handler:
    """`lambda_handler` of `functions/<workflow>_<step>/handler.py`, imported by module name."""
    root = str(repo_root())
    if root not in sys.path:
        sys.path.append(root)  # after site-packages: nothing installed is shadowed
    module = importlib.import_module(workflow.handler_module(step))
    handler: Handler = module.lambda_handler
    return handler


class LazyHandler:
    """A handler loaded on its first call, so local mode starts without importing what only it needs.

    Calls are serialized: Lambda runs concurrent invocations in separate processes, whereas here they share
    one process, and module-level state (Powertools' metric set, cached clients) must not be shared by two
    invocations at once. The scoring workflow's Map therefore runs its children one at a time locally.
    """

    def __init__(self, workflow: Workflow, step: str) -> None:
        self.workflow, self.step = workflow, step
        self._handler: Handler | None = None
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            if self._handler is None:
                self._handler = load_handler(self.workflow, self.step)
            return self._handler(event, context)


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class ThreadStdout(io.TextIOBase):
    """A stdout that hands a thread's writes to that thread's capture buffer when it has one.

    Handlers print what Lambda would send to CloudWatch Logs: Powertools' JSON log lines and its EMF
    metric documents. Local mode captures them per invocation (handlers run on moto's server threads)
    while the rest of the process keeps writing to the real stdout.
    """

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self._local = threading.local()

    def start(self) -> None:
        self._local.buffer = io.StringIO()

    def stop(self) -> str:
        buffer: io.StringIO | None = getattr(self._local, "buffer", None)
        self._local.buffer = None
        return buffer.getvalue() if buffer is not None else ""

    def write(self, text: str) -> int:
        buffer: io.StringIO | None = getattr(self._local, "buffer", None)
        return (buffer or self.real).write(text)

    def flush(self) -> None:
        self.real.flush()


def emf_metrics(line: str) -> dict[str, float]:
    """Metric name -> sum of its values in one CloudWatch Embedded Metric Format document (else empty)."""
    try:
        document = json.loads(line)
    except ValueError:
        return {}
    if not isinstance(document, dict) or "_aws" not in document:
        return {}
    names = [m["Name"] for group in document["_aws"].get("CloudWatchMetrics", []) for m in group.get("Metrics", [])]
    totals: dict[str, float] = {}
    for name in names:
        value = document.get(name, 0)
        totals[name] = float(sum(value)) if isinstance(value, list) else float(value)
    return totals


class HandlerDispatch:
    """Maps moto Lambda invocations (by function name) to the real handlers.

    Keeps, for the process: calls per function, the sum of every EMF metric the handlers emitted (what
    the CloudWatch dashboard would count) and the handlers' log lines.
    """

    def __init__(self, handlers: dict[str, Handler], echo_logs: bool = False) -> None:
        self.handlers = handlers
        self.calls: Counter[str] = Counter()
        self.metrics: Counter[str] = Counter()
        self.logs: list[str] = []
        self.echo_logs = echo_logs
        self.stdout = ThreadStdout(sys.stdout)
        self._lock = threading.Lock()

    def invoke(self, function_name: str, body: bytes | str, response_headers: dict[str, str]) -> bytes:
        name = function_name.split(":")[-1]
        handler = self.handlers.get(name)
        if handler is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "ResourceNotFound", "errorMessage": f"no handler {name}"}).encode()
        with self._lock:
            self.calls[name] += 1
        self.stdout.start()
        try:
            event = json.loads(body or "null")
            result = handler(event, LambdaContext(function_name=name, invoked_function_arn=function_name))
            return json.dumps(result).encode()
        except Exception as exc:  # reported to the state machine exactly as Lambda would
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc)[:1000],
                    "stackTrace": traceback.format_exc().splitlines()[-5:],
                }
            ).encode()
        finally:
            self._collect(self.stdout.stop())

    def _collect(self, output: str) -> None:
        with self._lock:
            for line in output.splitlines():
                metrics = emf_metrics(line)
                if metrics:
                    self.metrics.update(metrics)
                elif line.strip():
                    self.logs.append(line)
                    if self.echo_logs:
                        self.stdout.real.write(line + "\n")


def patch_moto(dispatch: HandlerDispatch) -> Callable[[], None]:
    """Route moto's docker-less Lambda invocations to `dispatch` and capture the handlers' stdout.

    Returns a function that undoes both.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke
    real_stdout = sys.stdout

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        return dispatch.invoke(function_name, body, response_headers)

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    dispatch.stdout.real = real_stdout
    sys.stdout = dispatch.stdout

    def undo() -> None:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]
        sys.stdout = real_stdout

    return undo
