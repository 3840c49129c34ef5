"""Start the service: build the index on first run, load model and index once, serve page and API on one port."""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from ..errors import IndexMissingError, ListenError

log = logging.getLogger("reportsearch")
PUBLIC_RATE_LIMIT = 120  # searches per minute per client when bound to a non-loopback address
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def effective_rate_limit(host: str, rate_limit: int | None) -> int:
    """None means the default: 120 per minute on a public address, off on loopback. 0 means off."""
    if rate_limit is None:
        return 0 if is_loopback(host) else PUBLIC_RATE_LIMIT
    return max(0, rate_limit)


def build_service(engine, *, rate_limit: int = 0, trust_proxy: bool = False, log_db: str | Path | None = None,
                  log_days: int = 90, staff_token: str | None = None, max_waiting: int | None = None,
                  wait_timeout: float | None = None, search_slots: int | None = None):
    """The holder the page and API read from: engine, search slots, rate limiter, query log and metrics."""
    from .querylog import QueryLog
    from .ratelimit import RateLimiter
    from .service import Service
    from .slots import MAX_WAITING, SEARCH_SLOTS, WAIT_TIMEOUT, SearchSlots
    from .telemetry import Telemetry

    telemetry = Telemetry()
    querylog = QueryLog(log_db, days=log_days, on_drop=telemetry.log_dropped) if log_db else None
    slots = SearchSlots(slots=search_slots or SEARCH_SLOTS,
                        max_waiting=MAX_WAITING if max_waiting is None else max_waiting,
                        timeout=wait_timeout or WAIT_TIMEOUT)
    return Service(engine, slots=slots, limiter=RateLimiter(rate_limit) if rate_limit else None,
                   querylog=querylog, telemetry=telemetry, trust_proxy=trust_proxy, staff_token=staff_token)


def create_app(service):
    """One ASGI app: the JSON API under /api, /metrics, the staff view, and the Gradio page at /."""
    import gradio as gr

    from .api import admit_search, create_api, search_from_query, search_refused
    from .fastpath import SearchFastPath
    from .middleware import EdgeMiddleware
    from .ui import CSS, create_ui

    app = create_api(service)
    # no Gradio footer: its "Use via API" describes Gradio's endpoints, not this API (README, JSON API)
    app = gr.mount_gradio_app(app, create_ui(service), path="/", css=CSS, footer_links=[])
    # GET /api/search skips FastAPI's routing and parameter solving (fastpath.py); inside EdgeMiddleware
    app.add_middleware(SearchFastPath, handle=partial(search_from_query, service, admitted=True),
                       slots=service.slots, admit=partial(admit_search, service), refuse=partial(search_refused, service))
    app.add_middleware(EdgeMiddleware, telemetry=service.telemetry)
    return app


BACKLOG = 2048  # uvicorn's default
IN_USE = " (another server is running there? choose another --port)"


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """The server's sockets, bound as uvicorn (through asyncio's `create_server`) binds them: one per address
    `host` resolves to, SO_REUSEADDR, IPv6 sockets IPv6-only; port 0 takes a free port, the same for all. They
    are bound before the model and index load, so that a port in use stops the start at once with one line."""
    def refuse(reason: str, hint: str = ""):
        return ListenError(f"cannot listen on {_netloc(host, port)}: {reason}{hint}")

    if not 0 <= port <= 65535:
        raise refuse("the port must be 0-65535")
    try:
        infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP,
                                   socket.AI_PASSIVE)
    except (OSError, UnicodeError) as e:
        raise refuse(_reason(e), " (see --host)") from None
    socks: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only for sockets that name it
            # (with proto 0 replies waited on delayed ACKs: 12% fewer requests a second under 8 clients)
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(socks) > 1:  # one free port for every address
                address = (address[0], socks[0].getsockname()[1], *address[2:])
            sock.bind(address)
    except OSError as e:
        for sock in socks:
            sock.close()
        hint = {errno.EADDRINUSE: IN_USE,
                errno.EACCES: " (ports below 1024 need administrator rights)" if 0 < port < 1024 else "",
                errno.EADDRNOTAVAIL: " (that address is not one of this machine's: see --host)",
                }.get(e.errno, " (see --host and --port)")
        raise refuse(_reason(e), hint) from None
    return socks


def listen(socks: list[socket.socket], host: str) -> None:
    """Start listening (uvicorn then accepts on them). Two servers whose sockets are bound but not listening
    yet can share a port; the second to listen gets the same one line as a port in use."""
    try:
        for sock in socks:
            sock.listen(BACKLOG)
    except OSError as e:
        port = socks[0].getsockname()[1]
        raise ListenError(f"cannot listen on {_netloc(host, port)}: {_reason(e)}{IN_USE}") from None


def _reason(e: BaseException) -> str:
    return (getattr(e, "strerror", None) or str(e)).lower()


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host or '*'}:{port}"


def load_or_build(index_dir: str | Path, model: str | None = None, rebuild: bool = False):
    from ..engine import SearchEngine
    from ..ingest import build_index

    if rebuild:
        log.info("rebuilding the index in %s", index_dir)
        build_index(index_dir=index_dir, model=model)
    try:
        return SearchEngine.load(index_dir, model=model)
    except IndexMissingError:
        log.info("no index in %s yet: building it from data/ (first run)", index_dir)
        build_index(index_dir=index_dir, model=model)
        return SearchEngine.load(index_dir, model=model)


def run_server(index_dir: str | Path, host: str = "127.0.0.1", port: int = 7860, model: str | None = None,
               rebuild: bool = False, rate_limit: int | None = None, trust_proxy: bool = False,
               log_db: str | Path | None = None, log_days: int = 90, max_waiting: int | None = None,
               wait_timeout: float | None = None, search_slots: int | None = None) -> None:
    from .slots import counted
    from .staff import staff_token

    limit = effective_rate_limit(host, rate_limit)
    if not is_loopback(host) and not limit:
        log.warning("warning: serving on %s without a rate limit; any client can send searches as fast as it "
                    "likes (drop --rate-limit 0 for the default of %d per minute)", host, PUBLIC_RATE_LIMIT)
    socks = bind_sockets(host, port)
    try:
        engine = load_or_build(index_dir, model=model, rebuild=rebuild)
        getattr(engine.embedder, "ready", lambda: None)()  # a model that cannot run stops the start
        listen(socks, host)  # before the query log's writer starts: a refusal here leaves nothing running
        port = socks[0].getsockname()[1]
        service = build_service(engine, rate_limit=limit, trust_proxy=trust_proxy, log_db=log_db,
                                log_days=log_days, staff_token=staff_token(os.environ), max_waiting=max_waiting,
                                wait_timeout=wait_timeout, search_slots=search_slots)
        app = create_app(service)
        watcher = watch_index(service, index_dir)
        log.info("serving %s (index version %d) on http://%s/ (API: /api/search, /api/compare, "
                 "/api/health; /metrics)", counted(engine.store.count, "passage"), engine.version, _netloc(host, port))
        log.info("rate limit: %s; query log: %s; staff view: %s",
                 f"{counted(limit, 'search')} per minute per client" if limit else "off",
                 f"{log_db} (kept {counted(log_days, 'day')})" if log_db else "off",
                 "on at /staff" if service.staff_token else "off (set REPORTSEARCH_STAFF_TOKEN to enable)")

        def stop() -> None:
            watcher.stop()
            if service.querylog is not None:
                service.querylog.close()  # writes the rows still queued

        # proxy_headers=False: X-Forwarded-For is read by our own code, and only with --trust-proxy
        serve(app, stop, sockets=socks, host=host, port=port, log_level="warning", proxy_headers=False)
    finally:
        for sock in socks:
            sock.close()


def serve(app, stop, sockets=None, **config) -> None:
    """uvicorn's server, then `stop()`, then, after a stop signal, that signal again with its default action, so
    the process ends as the signal says (SIGTERM: status -15, 143 in a shell; SIGINT: -2, 130) and systemd or
    docker see a clean stop. uvicorn raises the signal again on its way out, and SIGTERM's default action then
    ended the process before a `finally` after uvicorn.run could close the query log: its last rows were lost."""
    import uvicorn

    server = _server_class()(uvicorn.Config(app, **config))
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:  # Ctrl-C just before or after uvicorn listens for signals: a stop, as in uvicorn.run
        server.stop_signal = server.stop_signal or signal.SIGINT
    finally:
        stop()
    if server.stop_signal is not None:
        _end_by(server.stop_signal)
    if not server.started:  # uvicorn.run's status for a server that never started
        sys.exit(uvicorn.config.STARTUP_FAILURE)


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """Keeps the first stop signal for `serve` instead of raising it again on the way out."""

        stop_signal: int | None = None

        @contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handlers = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in handlers.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig, frame) -> None:
            self.stop_signal = self.stop_signal or sig
            super().handle_exit(sig, frame)  # a second SIGINT forces the exit, as in uvicorn

    return Server


def _end_by(sig: int) -> None:
    """End the process by `sig` with its default action: no traceback for SIGINT, no teardown (see cli.exit_now)."""
    try:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the signal still ends the process
        pass
    signal.signal(sig, signal.SIG_DFL)
    signal.raise_signal(sig)


def watch_index(service, index_dir: str | Path, poll: float | None = None):
    """Swap a newly written index version into the running service, between requests: each request reads
    `service.engine` once, so searches in flight finish on the version they started with. A version that
    does not verify or load is logged and the current one kept."""
    from ..engine import SearchEngine
    from .watcher import POLL_SECONDS, IndexWatcher

    def load(folder: Path):
        current = service.engine  # same model and runtime: reuse the loaded embedder (a different model fails here)
        engine = SearchEngine.load(folder, config=current.config, embedder=current.embedder)
        if engine.embedder is not current.embedder:  # another runtime (an index re-embedded as fp32, say):
            getattr(engine.embedder, "ready", lambda: None)()  # it must run before it serves, as at start
        return engine

    def swap(engine) -> None:
        service.engine = engine

    return IndexWatcher(index_dir, current=lambda: service.engine, load=load, on_swap=swap,
                        poll=poll or POLL_SECONDS).start()
