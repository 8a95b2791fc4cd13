"""`latentwalk serve`: the live explorer, a web page on this machine over the runs given at start-up.

HTTP in front of backend.Backend (FastAPI on uvicorn). Every request body is checked twice: its form
by pydantic (strict types, finite floats, bounded lengths, no unknown keys), its meaning by the backend
(the right dimension for the model, bounded values and sizes). Every refusal is a 4xx JSON
{"error": "one line"}. The page, its script and its style sheet are the only files served, read from
inside the package at start-up: no URL maps to a path on disk. The work runs on the event loop, one
request at a time: torch already uses every core for each, and a second team of threads would only contend.

    GET  /                  the page            POST /api/decode       {"model", "z": [[...]], "scores"}
    GET  /api/models        what the page draws POST /api/interpolate  {"model", "a", "b", "steps", "methods"}
                                                POST /api/endpoints    {"model", "seed"}
                                                POST /api/sphere-walk  {"model", "steps", "loops"}
                                                POST /api/measure      {"model"}
                                                POST /api/vector       {"model", "vector"}
"""

import json
import signal
import socket
from importlib import resources
from typing import Annotated

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from ..errors import ConfigError, LatentwalkError
from .backend import Backend, MAX_BATCH, MAX_DIM, MAX_LOOPS, MAX_STEPS, UnknownModel

MAX_BODY = 8 << 20        # bytes of JSON a request may send (1024 points of a 500-D model fit)
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


class Guard:
    """ASGI middleware, before anything reads a request: the Host must be one this server answers to (a web
    page elsewhere cannot reach it through DNS rebinding), and a body needs a Content-Length within `limit`
    and no Transfer-Encoding (whose framing would overrule the length), or it is refused unread."""

    def __init__(self, app, hosts: set[str] | None, limit: int = MAX_BODY):
        self.app, self.hosts, self.limit = app, hosts, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            host = _host(headers)
            refusal = None
            if self.hosts is not None and host not in self.hosts:
                refusal = 421, f"this server answers to {', '.join(sorted(self.hosts))}, not {host!r}"
            elif scope["method"] in ("POST", "PUT", "PATCH"):
                length = headers.get(b"content-length", b"")
                if b"transfer-encoding" in headers or not length.isdigit():
                    refusal = 411, "send the JSON body with a Content-Length (and no Transfer-Encoding)"
                elif int(length) > self.limit:
                    refusal = 413, f"request body over {self.limit} bytes: send fewer points"
            if refusal:
                return await _error(*refusal)(scope, receive, send)
        await self.app(scope, receive, send)


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


def make_app(backend: Backend, hosts: set[str] | None = None):
    """The ASGI app: the page and the JSON API over one backend, answering to `hosts` (None: any)."""
    files = resources.files(__package__) / "static"
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
        return backend.interpolate(req.model, req.a, req.b, req.steps, req.methods)

    @app.post("/api/endpoints")
    async def endpoints(req: Endpoints):
        return backend.endpoints(req.model, req.seed)

    @app.post("/api/sphere-walk")
    async def sphere_walk(req: SphereWalk):
        return backend.sphere_walk(req.model, req.steps, req.loops)

    @app.post("/api/measure")
    async def measure(req: Measure):
        return backend.measure(req.model)

    @app.post("/api/vector")
    async def vector(req: Vector):
        return backend.vector(req.model, req.vector)

    return Guard(app, hosts)


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


def serve(sources, host: str = "127.0.0.1", port: int = 8765, digit_net=None, log=print) -> None:
    """Load the models (opened sources, or run folders), listen, print the URL and serve until Ctrl-C or SIGTERM
    (both stop it cleanly)."""
    sock = listen(host, port)
    try:
        backend = Backend(sources, digit_net, log=log)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        loopback = host in ("127.0.0.1", "localhost", "::1")
        hosts = {"127.0.0.1", "localhost", "[::1]"} if loopback else None
        if not loopback:
            log(f"warning: listening on {host}: anyone who can reach this machine can use the explorer")
        app = make_app(backend, hosts)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                               timeout_graceful_shutdown=2))
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)   # uvicorn hands SIGTERM on after its shutdown
        try:
            log(f"latentwalk explorer: http://{shown}:{bound_port}/  (Ctrl-C stops it)")
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        sock.close()
    log("stopped")
