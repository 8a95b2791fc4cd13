"""`latentwalk serve`: the live explorer, a web page on this machine over the runs given at start-up.

HTTP in front of backend.Backend (FastAPI on uvicorn). Every request body is checked twice: its form
by pydantic (strict types, finite floats, bounded lengths, no unknown keys), its meaning by the backend
(the right dimension for the model, bounded values and sizes). Every refusal is a 4xx JSON
{"error": "one line"}. The page, its script and its style sheet are the only files served, read from
inside the package at start-up: no URL maps to a path on disk.

Light requests (the page, the models, a decode) run on the event loop. Heavy ones (an interpolation with its
geodesic, endpoints, a sphere walk, an attribute vector, a measure) run one at a time on a worker thread of
their own, so a decode still answers while a measure runs; an interpolation, waiting or solving its geodesic,
is given up when a newer one for the same model arrives (the page shows the last pick only): 204. A request body must
arrive within BODY_SECONDS, and at most MAX_CONNECTIONS connections are served at once.

Who may ask: a random token, printed in the URL as Jupyter does (`--token` sets it; `--no-token`, on loopback
only, leaves it out), given once in the query (`?token=`, which sets a cookie for the page's own requests),
or in a cookie or an `Authorization: token ...` header; and the Host header must name this server as it was
started (loopback names, or the address given and this machine's names and addresses), so a page elsewhere
cannot reach it through DNS rebinding.

    GET  /                  the page            POST /api/decode       {"model", "z": [[...]], "scores"}
    GET  /api/models        what the page draws POST /api/interpolate  {"model", "a", "b", "steps", "methods"}
                                                POST /api/endpoints    {"model", "seed"}
                                                POST /api/sphere-walk  {"model", "steps", "loops"}
                                                POST /api/measure      {"model"}
                                                POST /api/vector       {"model", "vector"}
"""

import asyncio
import functools
import json
import secrets
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import Annotated
from urllib.parse import parse_qs

import psutil

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from ..errors import ConfigError, LatentwalkError
from ..walk import geodesic
from .backend import Backend, MAX_BATCH, MAX_DIM, MAX_LOOPS, MAX_STEPS, UnknownModel

MAX_BODY = 8 << 20        # bytes of JSON a request may send (1024 points of a 500-D model fit)
BODY_SECONDS = 10         # a body not whole by then is answered 408 and its connection closed
MAX_CONNECTIONS = 64      # served at once; more are answered 503 by uvicorn
COOKIE = "latentwalk_token"
SCRIPTS = ("common", "card", "plane", "interp", "dims", "sphere", "arith", "main")      # one file per tab, shared parts first
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/explorer.css": ("explorer.css", "text/css; charset=utf-8"),
          **{f"/{name}.js": (f"{name}.js", "text/javascript; charset=utf-8") for name in SCRIPTS}}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _host(headers: dict[bytes, bytes]) -> str:
    """The Host header without its port: "127.0.0.1:8765" -> "127.0.0.1", "[::1]:8765" -> "[::1]"."""
    value = headers.get(b"host", b"").decode("latin-1")
    return value.rsplit(":", 1)[0] if ":" in value and not value.endswith("]") else value


def _tokens(scope, headers: dict[bytes, bytes]) -> tuple[str | None, str | None]:
    """The token a request gives in its query, and the one it gives in a cookie or an Authorization header."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[-1]
    other = None
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("token "):
        other = auth[6:].strip()
    elif b"cookie" in headers:
        try:
            morsel = SimpleCookie(headers[b"cookie"].decode("latin-1")).get(COOKIE)
        except CookieError:
            morsel = None
        other = morsel.value if morsel else None
    return query, other


async def _body(receive, seconds: float) -> list[dict] | None:
    """The messages of a request's body, read whole within `seconds` (None: it did not arrive in time)."""
    messages = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    return messages
    except TimeoutError:
        return None


class Guard:
    """ASGI middleware, before anything reads a request: the Host must be one this server answers to (a web
    page elsewhere cannot reach it through DNS rebinding), the token must be given (when there is one), and
    a body needs a Content-Length within `limit` and no Transfer-Encoding (whose framing would overrule the
    length), and must arrive whole within `seconds`, or it is refused."""

    def __init__(self, app, hosts: set[str] | None, token: str | None = None, limit: int = MAX_BODY,
                 seconds: float = BODY_SECONDS):
        self.app, self.hosts, self.token, self.limit, self.seconds = app, hosts, token, limit, seconds

    def _valid(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            host = _host(headers)
            refusal, query = None, None
            if self.token is not None:
                query, other = _tokens(scope, headers)
                if not (self._valid(query) or self._valid(other)):
                    query = None
                    refusal = 403, "this explorer needs its token: open the URL `latentwalk serve` printed"
            if self.hosts is not None and host not in self.hosts:
                refusal = 421, f"this server answers to {', '.join(sorted(self.hosts))}, not {host!r}"
            elif refusal is None and scope["method"] in ("POST", "PUT", "PATCH"):
                length = headers.get(b"content-length", b"")
                if b"transfer-encoding" in headers or not length.isdigit():
                    refusal = 411, "send the JSON body with a Content-Length (and no Transfer-Encoding)"
                elif int(length) > self.limit:
                    refusal = 413, f"request body over {self.limit} bytes: send fewer points"
            if refusal:
                return await _error(*refusal)(scope, receive, send)
            if scope["method"] in ("POST", "PUT", "PATCH"):
                messages = await _body(receive, self.seconds)
                if messages is None:        # answered, and the connection closed at once (not kept alive)
                    late = JSONResponse({"error": f"the request body did not arrive within {self.seconds} s"},
                                        status_code=408, headers={"Connection": "close"})
                    return await late(scope, receive, send)
                receive = _replay(messages, receive)
            if self._valid(query):            # given in the URL: the page's own requests then carry a cookie
                send = _with_cookie(send, f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict")
        await self.app(scope, receive, send)


def _replay(messages: list[dict], receive):
    """A `receive` that gives the body already read, then waits on the connection as before."""
    queue = list(messages)

    async def replayed():
        return queue.pop(0) if queue else await receive()
    return replayed


def _with_cookie(send, cookie: str):
    async def sending(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)
    return sending


Finite = Annotated[float, Field(allow_inf_nan=False)]
Vector = Annotated[list[Finite], Field(min_length=1, max_length=MAX_DIM)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Steps = Annotated[int, Field(ge=2, le=MAX_STEPS)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Decode(Body):
    model: Name
    z: Annotated[list[Vector], Field(min_length=1, max_length=MAX_BATCH)]
    scores: bool = False


class Interpolate(Body):
    model: Name
    a: Vector
    b: Vector
    steps: Steps = 101
    methods: Annotated[list[Annotated[str, Field(max_length=16)]], Field(min_length=1, max_length=4)] | None = \
        None                  # None: every method the model can walk


class Endpoints(Body):
    model: Name
    seed: Annotated[int, Field(ge=0, lt=2 ** 32)] = 0


class Measure(Body):
    model: Name


class Vector(Body):
    model: Name
    vector: Annotated[str, Field(min_length=1, max_length=32)]


class SphereWalk(Body):
    model: Name
    steps: Steps = 300
    loops: Annotated[int, Field(ge=1, le=MAX_LOOPS)] = 10


def _describe_validation(exc) -> str:
    """Pydantic's first complaint as one line: where in the body, and what is wrong."""
    errors = exc.errors()
    if not errors:
        return "invalid request body"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "the body is not valid JSON"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


class Superseded(Exception):
    """An interpolation that waited while a newer one for the same model arrived."""


def make_app(backend: Backend, hosts: set[str] | None = None, token: str | None = None,
             body_seconds: float = BODY_SECONDS):
    """The ASGI app: the page and the JSON API over one backend, answering to `hosts` (None: any), to requests
    that give `token` (None: to all), whose bodies arrive within `body_seconds`."""
    files = resources.files(__package__) / "static"
    worker = ThreadPoolExecutor(1, thread_name_prefix="latentwalk-heavy")      # the heavy requests, one at a time
    picks: dict[str, int] = {}              # per model, the number of the newest interpolation asked

    async def heavy(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(worker, functools.partial(fn, *args))
    assets = {route: ((files / name).read_bytes(), kind) for route, (name, kind) in ASSETS.items()}

    app = FastAPI(title="latentwalk explorer", docs_url=None, redoc_url=None, openapi_url=None,
                  redirect_slashes=False)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        return _error(422, _describe_validation(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request, exc):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(UnknownModel)
    async def unknown(request, exc):
        return _error(404, str(exc))

    @app.exception_handler(LatentwalkError)
    async def refused(request, exc):
        return _error(400, str(exc))

    @app.exception_handler(Superseded)
    @app.exception_handler(geodesic.Stopped)
    async def superseded(request, exc):
        return Response(status_code=204)           # nothing to show: the newer pick's answer follows

    def asset(route):
        body, kind = assets[route]
        return lambda: Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})

    for route in assets:
        app.get(route, include_in_schema=False)(asset(route))

    @app.get("/api/models")
    async def list_models():
        return Response(json.dumps(backend.describe()), media_type="application/json")

    @app.post("/api/decode")
    async def decode(req: Decode):
        return backend.decode(req.model, req.z, req.scores)

    @app.post("/api/interpolate")
    async def interpolate(req: Interpolate):
        ticket = picks[req.model] = picks.get(req.model, 0) + 1

        def solve():
            replaced = lambda: picks[req.model] != ticket           # noqa: E731
            if replaced():
                raise Superseded("a newer pick replaced this interpolation before it started")
            with geodesic.unless_unwanted(replaced):                # and while its geodesic is solved
                return backend.interpolate(req.model, req.a, req.b, req.steps, req.methods)
        return await heavy(solve)

    @app.post("/api/endpoints")
    async def endpoints(req: Endpoints):
        return await heavy(backend.endpoints, req.model, req.seed)

    @app.post("/api/sphere-walk")
    async def sphere_walk(req: SphereWalk):
        return await heavy(backend.sphere_walk, req.model, req.steps, req.loops)

    @app.post("/api/measure")
    async def measure(req: Measure):
        return await heavy(backend.measure, req.model)

    @app.post("/api/vector")
    async def vector(req: Vector):
        return await heavy(backend.vector, req.model, req.vector)

    return Guard(app, hosts, token, seconds=body_seconds)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port), or a one-line error."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"`port` must be in 0..65535, got {port}")
    try:
        # proto IPPROTO_TCP (from getaddrinfo), or asyncio leaves Nagle on: +40 ms per small answer
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             proto=socket.IPPROTO_TCP)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port} ({e.strerror or e}): pick another `port` or `host`") \
            from None
    return sock


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


def names(host: str) -> set[str]:
    """The Host names a server started on `host` answers to: the loopback names, and for another address the
    address itself, this machine's names and the addresses of its interfaces (0.0.0.0 listens on them all)."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return set(LOOPBACK)
    found = {host, socket.gethostname(), socket.getfqdn(), *LOOPBACK}
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                found.add(f"[{a.address.split('%')[0]}]" if a.family == socket.AF_INET6 else a.address)
    return found


def serve(sources, host: str = "127.0.0.1", port: int = 8765, digit_net=None, token: str | None = "",
          log=print) -> None:
    """Load the models (opened sources, or run folders), listen, print the URL and serve until Ctrl-C or SIGTERM
    (both stop it cleanly). `token`: "" draws a random one (printed in the URL), None serves without one (on
    loopback only)."""
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if token is None and not loopback:
        raise ConfigError(f"serving on {host} without a token would let anyone who reaches this machine use it: "
                          f"let a `token` be drawn (it is printed in the URL), or serve on 127.0.0.1")
    if token is not None and not (token == "" or 8 <= len(token) <= 256 and token.isascii() and token.isprintable()
                                  and " " not in token and ";" not in token):
        raise ConfigError("`token` must be 8 to 256 printable ASCII characters without spaces or ';'")
    token = secrets.token_urlsafe(24) if token == "" else token
    sock = listen(host, port)
    try:
        backend = Backend(sources, digit_net, log=log)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        if not loopback:
            log(f"note: listening on {host}: whoever has the URL below (with its token) can use the explorer")
        app = make_app(backend, names(host), token)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                               timeout_graceful_shutdown=2, limit_concurrency=MAX_CONNECTIONS))
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)   # uvicorn hands SIGTERM on after its shutdown
        try:
            query = f"?token={token}" if token else ""
            log(f"latentwalk explorer: http://{shown}:{bound_port}/{query}  (Ctrl-C stops it)")
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        sock.close()
    log("stopped")
