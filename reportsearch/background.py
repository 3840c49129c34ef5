"""Start a slow load (a model, a tokenizer) in a thread and collect its result, or its error, later."""

from __future__ import annotations

import threading
from concurrent.futures import Future


def in_background(fn, *args, name: str, daemon: bool = False, **kwargs) -> Future:
    """Run `fn(*args, **kwargs)` in a thread; its result, or its exception, goes to whoever waits on the Future.

    Not a daemon by default: a process that fails meanwhile waits for the load to end before it exits, since
    interpreter shutdown killing onnxruntime while it builds a session aborts the process ("terminate called
    without an active exception"). `daemon=True` suits a load the CLI may abandon: `cli.exit_now` ends the
    process without that shutdown."""
    fut: Future = Future()

    def run():
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as e:  # handed to whoever asks for the result
            fut.set_exception(e)

    threading.Thread(target=run, name=name, daemon=daemon).start()
    return fut
