"""``publish studio``: the editors' calendar, board and previews in a browser, on loopback.

A Starlette app served by uvicorn on 127.0.0.1 (a free port unless ``--port``). The page
(``studio_static/``) reads the calendar as the static page's compact data (``scheduler/page.py``)
from ``/api/calendar``, and follows the files through ``/api/events`` (server-sent events): a
watcher (watchfiles) reloads the desk when the content, the templates or publish.yml change on
disk, and the page asks again. Changes go through ``scheduler/studio_desk.py``, one request each:

    GET  /api/calendar        the data (built once per change, answered from memory)
    GET  /api/events          server-sent events: ``changed`` with the paths, after each reload and check
    GET  /preview?path=P      the item's posts side by side, as ``publish render --format html``
    POST /api/move            {path, channel, key, revision, date, time, commit}
    POST /api/status          {path, revision, status, commit}
    POST /api/approve         {path, revision, commit}

Every answer to a change is JSON: ``ok``, ``message`` (what was done or why nothing was), and the
item's new ``revision``. Requests from another origin, or for another host name than the loopback's,
are refused (a page elsewhere cannot post to the studio); only items the project loaded are ever written.
"""
from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Callable

from .shown import Shown
from .studio_desk import Answer, Desk

STATIC = Path(__file__).resolve().parent / "studio_static"
#: Seconds between comments on the event stream (keeps proxies and the browser from timing it out).
HEARTBEAT = 15.0
MEDIA = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}


class Events:
    """The open event streams; ``publish`` hands every one of them the same message."""

    def __init__(self):
        self.queues: set[asyncio.Queue] = set()

    def publish(self, kind: str, data: dict) -> None:
        message = f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        for q in list(self.queues):
            q.put_nowait(message)

    async def stream(self, request):
        q: asyncio.Queue = asyncio.Queue()
        self.queues.add(q)
        try:
            yield "retry: 1000\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(q.get(), HEARTBEAT)
                    if message is None:  # the server stops
                        return
                    yield message
                except asyncio.TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": still here\n\n"
        finally:
            self.queues.discard(q)


def watched(desk: Desk) -> list[Path]:
    """What the studio follows on disk: the content, the templates and publish.yml."""
    root = desk.root
    paths = [root / desk.project.settings.content_dir, root / "templates", root / "publish.yml"]
    return [p for p in paths if p.exists()]


def app_for(desk: Desk, ready: Callable[[], None] | None = None):
    """The Starlette application over ``desk``; ``ready()`` is called once it serves."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    events = Events()

    def answer(a: Answer) -> Response:
        return Response(a.body(), status_code=a.status, media_type="application/json")

    async def page(request):
        return Response((STATIC / "index.html").read_bytes(), media_type=MEDIA[".html"],
                        headers={"Cache-Control": "no-store"})

    async def static(request):
        name = request.path_params["name"]
        target = STATIC / name
        if "/" in name or target.suffix not in MEDIA or not target.is_file():
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response(target.read_bytes(), media_type=MEDIA[target.suffix], headers={"Cache-Control": "no-store"})

    async def calendar(request):
        return Response(desk.body, media_type="application/json", headers={"Cache-Control": "no-store"})

    async def stream(request):
        return StreamingResponse(events.stream(request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def preview(request):
        a = await run_in_threadpool(desk.preview_html, request.query_params.get("path"))
        if not a.ok:
            return answer(a)
        return HTMLResponse(a.message, headers={"Cache-Control": "no-store"})

    def change(work: Callable[[dict], Answer]):
        async def endpoint(request):
            origin = request.headers.get("origin")
            if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
                return answer(Answer(403, "changes come from the studio's own page only"))
            try:
                body = await request.json()
            except ValueError:
                return answer(Answer(400, "the request is not JSON"))
            if not isinstance(body, dict):
                return answer(Answer(400, "the request is not a JSON object"))
            return answer(await run_in_threadpool(work, body))
        return endpoint

    move = change(lambda b: desk.move(b.get("path"), b.get("channel"), b.get("revision"), b.get("date"),
                                      b.get("time"), commit=bool(b.get("commit")), key=b.get("key")))
    status = change(lambda b: desk.set_status(b.get("path"), b.get("revision"), b.get("status"),
                                              commit=bool(b.get("commit"))))
    approve = change(lambda b: desk.approve(b.get("path"), b.get("revision"), commit=bool(b.get("commit"))))

    async def watch(stop: asyncio.Event) -> None:
        from watchfiles import awatch

        paths = watched(desk)
        if not paths:
            return
        async for changes in awatch(*paths, stop_event=stop, debounce=200, step=50):
            rels = sorted({_rel(desk.root, p) for _, p in changes})
            if all(_own(desk, rel) for rel in rels):
                continue  # the desk's own write, reloaded already
            await run_in_threadpool(desk.reload, False, rels)
            await run_in_threadpool(desk.check)

    @asynccontextmanager
    async def lifespan(app):
        loop = asyncio.get_running_loop()

        def changed(paths: list[str]) -> None:  # from the desk's threads: the event goes out on the loop
            message = {"paths": paths, "gen": desk.generation, "error": desk.error, "checking": desk.checking}
            loop.call_soon_threadsafe(events.publish, "changed", message)

        desk.on_change = changed
        stop = asyncio.Event()
        task = asyncio.create_task(watch(stop))
        if ready is not None:
            ready()
        try:
            yield
        finally:
            stop.set()
            for q in list(events.queues):
                q.put_nowait(None)  # ends each stream, so the server stops at once
            task.cancel()

    async def health(request):
        return JSONResponse({"gen": desk.generation, "error": desk.error, "checking": desk.checking})

    routes = [Route("/", page), Route("/static/{name}", static), Route("/api/calendar", calendar),
              Route("/api/events", stream), Route("/api/health", health), Route("/preview", preview),
              Route("/api/move", move, methods=["POST"]), Route("/api/status", status, methods=["POST"]),
              Route("/api/approve", approve, methods=["POST"])]
    # Only the loopback names: a page elsewhere whose name is made to point at 127.0.0.1 (DNS rebinding)
    # would otherwise be the studio's own origin to the browser.
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def _rel(root: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return path


def _own(desk: Desk, rel: str) -> bool:
    mark = desk.own.get(rel)
    try:
        st = (desk.root / rel).stat()
    except OSError:
        return False
    return mark == (st.st_mtime_ns, st.st_size)


def studio(root: Path, *, port: int | None = None, no_browser: bool = False, now: str | None = None,
           say: Callable[[str], None] | None = None) -> Shown:
    """``studio``: serve the studio on loopback until stopped (Ctrl-C); print its address first."""
    import uvicorn

    from newsroom.gcpause import one_shot
    from newsroom.times import now_option

    one_shot(False)  # the project is loaded again and again: nothing may be frozen (newsroom/gcpause.py)
    desk = Desk(root, now_option(now) if now else None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port or 0))
        sock.listen(128)  # listening before the address is printed: whoever reads it may connect at once
    except OSError as exc:
        from newsroom.problems import UsageError

        sock.close()
        raise UsageError(f"--port {port}: {exc.strerror}; choose another port, or leave --port out for a free one") \
            from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"

    def ready() -> None:  # the address once the app serves (the socket listens already: nobody is turned away)
        (say or _say)(f"studio at {url} ({len(desk.project.items)} items; Ctrl-C stops it)")
        if not no_browser:
            import webbrowser

            webbrowser.open(url)

    config = uvicorn.Config(app_for(desk, ready), log_level="warning", timeout_graceful_shutdown=1, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return Shown()


def _say(line: str) -> None:
    print(line, flush=True)
