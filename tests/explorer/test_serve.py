"""The live explorer: a real uvicorn server on 127.0.0.1 over small trained runs, its API, and its page in Chromium."""

import base64
import json
import os
import signal
import socket
import threading
import time

import httpx
import numpy as np
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CHROMIUM, CHROMIUM_ARGS, one_line_error, split_url, start_serve, stop, train_small
from latentwalk.data import datasets
from latentwalk.measure import attributes, classifier, ppl, stored
from latentwalk.run import checkpoint
from latentwalk.walk import core, paths
from latentwalk.explorer.server import listen, make_app
from latentwalk.explorer.backend import Backend, MAX_BATCH, MAX_STEPS, QUICK_GEODESICS, QUICK_PATHS



@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_npz, small_run):
    root = tmp_path_factory.mktemp("serve")
    ae = train_small(root / "ae2", small_npz, epochs=2, kind="ae")
    vae = train_small(root / "vae2", small_npz, epochs=2)
    return {"ae2": ae, "vae2": vae, "vae": small_run}      # small_run: a VAE with z = 4


@pytest.fixture(scope="module")
def url(runs, digit_net):
    """A real server on a free port of 127.0.0.1, in a thread, for the module."""
    sock = listen("127.0.0.1", 0)
    app = make_app(Backend(list(runs.values()), digit_net, log=lambda s: None), {"127.0.0.1", "localhost"})
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def client(url):
    with httpx.Client(base_url=url, timeout=30) as c:
        yield c


def pixels(payload) -> np.ndarray:
    n, h, w, c = payload["shape"]
    return np.frombuffer(base64.b64decode(payload["pixels"]), np.uint8).reshape(n, h, w, c)


# ---------------------------------------------------------------- the API answers

def test_models_describes_every_run(client, runs):
    info = client.get("/api/models").json()
    assert [m["name"] for m in info["models"]] == ["ae2", "vae2", "vae"]
    assert info["classifier"] is True
    ae, vae2, vae4 = info["models"]
    assert (ae["kind"], ae["latent_dim"], ae["weights"]["name"]) == ("ae", 2, "variance")
    assert vae4["latent_dim"] == 4 and len(vae4["plane"]) == 2 and vae4["weights"]["name"] == "KL"
    # the plane of a 4-D model: its two dimensions of largest KL
    assert set(vae4["plane"]) == set(vae4["weights"]["dims"][:2])
    assert len(vae2["scatter"]["x"]) == len(vae2["scatter"]["labels"]) == 200     # the held-out tenth of 2,000
    g = vae2["thumbnails"]
    assert pixels(g).shape == (30, 28, 28, 1) and len(g["codes"]) == 30 and len(g["codes"][0]) == 2
    assert g["labels"] == sorted(g["labels"]) and set(g["labels"]) == set(range(10))


def test_decode_returns_the_models_pixels(client, runs, digit_net):
    z = [[0.0, 0.0], [1.5, -0.5], [-2.0, 2.0]]
    r = client.post("/api/decode", json={"model": "vae2", "z": z, "scores": True})
    assert r.status_code == 200
    body = r.json()
    got = pixels(body["images"])
    want = checkpoint.load(runs["vae2"]).decode(np.array(z)).numpy()
    assert got.shape == (3, 28, 28, 1)
    assert np.abs(got[..., 0].astype(int) - np.round(want[:, 0] * 255)).max() <= 1
    assert body["norm"] == pytest.approx(np.linalg.norm(z, axis=1), abs=1e-4)
    verdict = classifier.judge(digit_net, want)
    assert body["digit"] == verdict["digit"].tolist()
    assert body["confidence"] == pytest.approx(verdict["confidence"].numpy(), abs=1e-4)
    assert "digit" not in client.post("/api/decode", json={"model": "vae2", "z": z}).json()


def test_interpolate_rows_and_norms(client):
    a, b = [2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]            # orthogonal, both on the sqrt(4) shell
    body = client.post("/api/interpolate", json={"model": "vae", "a": a, "b": b, "steps": 21}).json()
    assert sorted(body["rows"]) == ["geodesic", "lerp", "nlerp", "slerp"] and len(body["t"]) == 21
    rows = body["rows"]
    assert pixels(rows["slerp"]["images"]).shape == (21, 28, 28, 1)
    assert rows["slerp"]["norm"] == pytest.approx([2.0] * 21, abs=1e-4)
    assert rows["nlerp"]["norm"] == pytest.approx([2.0] * 21, abs=1e-4)
    assert rows["lerp"]["norm"][10] == pytest.approx(np.sqrt(2), abs=1e-4)    # sqrt(d/2) at the midpoint
    assert rows["lerp"]["norm"] == pytest.approx(np.linalg.norm(paths.lerp(a, b, 21), axis=1), abs=1e-4)
    assert all(0 <= c <= 1 for c in rows["lerp"]["confidence"])


def test_interpolate_gives_each_paths_roughness(client, runs, digit_net):
    a, b = [2.0, 0.0, 0.0, 0.0], [0.0, -1.0, 1.5, 0.0]
    rows = client.post("/api/interpolate", json={"model": "vae", "a": a, "b": b, "steps": 41}).json()["rows"]
    model = checkpoint.load(runs["vae"])
    for method, row in rows.items():
        curve = core.curves(model, [method], np.array([[a, b]]))[method]
        want = ppl.local(model, digit_net, curve, np.linspace(0, 1, 41)[None])[0]
        assert row["roughness"] == pytest.approx(want, rel=1e-3, abs=2e-4)
        assert row["ppl"] == pytest.approx(ppl.trimmed_mean(want), rel=1e-3, abs=1e-4) and row["ppl"] > 0


def test_attribute_vectors_come_from_the_training_codes(client, runs):
    body = client.post("/api/vector", json={"model": "vae", "vector": "3to8"}).json()
    model = checkpoint.load(runs["vae"])
    data = checkpoint.load_config(runs["vae"]).data
    images, labels = datasets.load(data.name, "train")
    want = attributes.vector(model, "3to8", images, labels)
    assert body["vector"] == pytest.approx(want, abs=1e-5) and body["images"] == len(images) == 1800
    assert body["norm"] == pytest.approx(np.linalg.norm(want), abs=1e-3)
    assert client.post("/api/vector", json={"model": "vae", "vector": "3to8"}).json() == body     # kept


def test_a_model_is_measured_on_request_and_its_card_shows_it(client, runs):
    card = {m["name"]: m for m in client.get("/api/models").json()["models"]}["ae2"]
    assert card["measures"] == {"record": None, "error": None}
    got = client.post("/api/measure", json={"model": "ae2"}).json()
    samples = got["record"]["samples"]
    assert list(samples) == ["real", "prior", "gmm", "posterior"]
    assert all(r["n"] == 200 for r in samples.values())              # the small data set's 200 test images
    assert samples["real"]["frechet_distance"] < samples["prior"]["frechet_distance"]
    assert {m: v["paths"] for m, v in got["record"]["paths"].items()} == \
        {**dict.fromkeys(core.CLOSED_FORM, QUICK_PATHS), "geodesic": QUICK_GEODESICS}
    assert got["record"] == stored.read(runs["ae2"])                 # stored in the run folder, as `measure` does
    card = {m["name"]: m for m in client.get("/api/models").json()["models"]}["ae2"]
    assert card["measures"] == got


def test_prior_endpoints_come_from_the_walk_core(client, runs):
    model = checkpoint.load(runs["vae"])
    first = core.endpoints(model, "prior", 5, 0)[0]           # the first of the pairs a figure or report walks
    body = client.post("/api/endpoints", json={"model": "vae", "seed": 0}).json()
    assert body["a"] == pytest.approx(first[0], abs=1e-6) and body["b"] == pytest.approx(first[1], abs=1e-6)
    assert np.linalg.norm(body["a"]) == pytest.approx(2.0, abs=1e-5)          # on the sqrt(4) shell
    other = client.post("/api/endpoints", json={"model": "vae", "seed": 1}).json()
    assert other["a"] == pytest.approx(core.prior_pairs(4, 1, 1)[0, 0], abs=1e-6) and other["a"] != body["a"]


def test_sphere_walk_stays_on_the_shell(client):
    body = client.post("/api/sphere-walk", json={"model": "vae", "steps": 50, "loops": 3}).json()
    assert body["sqrt_d"] == 2.0 and len(body["coords"]) == 50 and len(body["coords"][0]) == 4
    assert body["norm"] == pytest.approx([2.0] * 50, abs=1e-4)
    assert pixels(body["images"]).shape == (50, 28, 28, 1)


# ---------------------------------------------------------------- bad requests: 4xx JSON, one line, never 5xx

BAD = [
    ("/api/decode", {"model": "vae2", "z": [[0.0, 1.0, 2.0]]}, 400),               # wrong dimension
    ("/api/decode", {"model": "vae", "z": [[0.0, 1.0]]}, 400),
    ("/api/decode", {"model": "vae2", "z": [[0.0, 1e6]]}, 400),                     # beyond the bound on |z|
    ("/api/decode", {"model": "vae2", "z": [[0.0], [1.0, 2.0]]}, 400),              # ragged
    ("/api/decode", {"model": "vae2", "z": []}, 422),
    ("/api/decode", {"model": "vae2", "z": [[]]}, 422),
    ("/api/decode", {"model": "vae2", "z": [[0.0, 0.0]] * (MAX_BATCH + 1)}, 422),   # batch bound
    ("/api/decode", {"model": "vae2", "z": [["1", 2]]}, 422),                       # strings are not numbers
    ("/api/decode", {"model": "vae2", "z": [[True, 2]]}, 422),
    ("/api/decode", {"model": "vae2", "z": [[None, 2]]}, 422),
    ("/api/decode", {"model": "vae2", "z": [0.0, 1.0]}, 422),
    ("/api/decode", {"model": "vae2", "z": [[0, 1]], "scores": "yes"}, 422),
    ("/api/decode", {"model": "vae2", "z": [[0, 1]], "path": "/etc/passwd"}, 422),  # unknown keys
    ("/api/decode", {"z": [[0, 1]]}, 422),                                          # no model
    ("/api/decode", {"model": "vae3", "z": [[0, 1]]}, 404),                         # not given at start-up
    ("/api/decode", {"model": "../vae2", "z": [[0, 1]]}, 404),
    ("/api/decode", {"model": "/etc/passwd", "z": [[0, 1]]}, 404),
    ("/api/decode", {"model": 3, "z": [[0, 1]]}, 422),
    ("/api/decode", [1, 2], 422),
    ("/api/decode", "vae2", 422),
    ("/api/interpolate", {"model": "vae", "a": [0, 0, 0, 1], "b": [1, 0, 0]}, 400),
    ("/api/interpolate", {"model": "vae", "a": [0, 0, 0, 1], "b": [1, 0, 0, 0], "steps": 1}, 422),
    ("/api/interpolate", {"model": "vae", "a": [0, 0, 0, 1], "b": [1, 0, 0, 0], "steps": MAX_STEPS + 1}, 422),
    ("/api/interpolate", {"model": "vae", "a": [0, 0, 0, 1], "b": [1, 0, 0, 0], "steps": 2.5}, 422),
    ("/api/interpolate", {"model": "vae", "a": [0, 0, 0, 1], "b": [1, 0, 0, 0], "methods": ["cubic"]}, 400),
    ("/api/interpolate", {"model": "vae", "a": [0, 0, 0, 1], "b": [1, 0, 0, 0], "methods": []}, 422),
    ("/api/endpoints", {"model": "vae", "seed": -1}, 422),
    ("/api/endpoints", {"model": "vae", "seed": "1"}, 422),
    ("/api/endpoints", {"model": "vae", "seed": 2 ** 32}, 422),
    ("/api/endpoints", {"model": "vae3"}, 404),
    ("/api/sphere-walk", {"model": "vae", "loops": 0}, 422),
    ("/api/sphere-walk", {"model": "vae", "steps": 10 ** 9}, 422),
    ("/api/sphere-walk", {"model": "vae", "steps": 10 ** 400}, 422),
    ("/api/measure", {"model": "vae3"}, 404),
    ("/api/vector", {"model": "vae", "vector": "width"}, 400),
    ("/api/vector", {"model": "vae", "vector": "3to3"}, 400),
    ("/api/vector", {"model": "vae", "vector": "x" * 33}, 422),
    ("/api/vector", {"model": "vae", "vector": 38}, 422),
    ("/api/vector", {"model": "vae9", "vector": "slant"}, 404),
    ("/api/measure", {"model": "vae", "n": 10}, 422),
    ("/api/measure", {}, 422),
]


@pytest.mark.parametrize("route, body, status", BAD)
def test_bad_request_is_refused_in_one_line(client, route, body, status):
    r = client.post(route, json=body)
    assert r.status_code == status, r.text
    assert "\n" not in r.json()["error"] and r.json()["error"]


@pytest.mark.parametrize("text", ['{"model": "vae2", "z": [[0, NaN]]}', '{"model": "vae2", "z": [[0, Infinity]]}',
                                  '{"model": "vae2", "z": [[0, -Infinity]]}', '{"model": "vae2", "z": [[0, 1e400]]}',
                                  '{"model": "vae2", "z": [[0, 1]]', "", "not json", "\udcff\udcfe", "[" * 10000])
def test_non_finite_or_broken_json_is_refused(client, text):
    body = text.encode("utf-8", "surrogateescape")
    assert text != "\udcff\udcfe" or body == b"\xff\xfe"                 # bytes that are not UTF-8 at all
    r = client.post("/api/decode", content=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]


def test_oversized_body_is_refused_unread(client):
    r = client.post("/api/decode", content=b" " * (9 << 20), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["error"]


def raw(url: str, request: bytes) -> tuple[bytes, bytes]:
    """Send bytes as they are (no client-side normalising of the path) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as s:
        s.sendall(request)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("length", [b"", b"Content-Length: 5\r\n"])
def test_chunked_bodies_are_refused_unread(url, length):
    # with both headers, HTTP parsers frame the body by Transfer-Encoding: the length would not bound it
    head, body = raw(url, b"POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Connection: close\r\n" + length + b"Transfer-Encoding: chunked\r\n\r\n"
                          b"5\r\n{\"a\":\r\n0\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 411") and "Transfer-Encoding" in json.loads(body)["error"]


def test_foreign_host_names_are_refused(url):
    # a page on another site that rebinds its DNS name to 127.0.0.1 still sends its own name as Host
    head, body = raw(url, b"GET /api/models HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 421") and "evil.example" in json.loads(body)["error"]


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/index.html",
                                  "/index.html", "/explorer.js/../../serve.py", "/api/models/../../../etc/passwd",
                                  "/api/models/vae2", "/static/explorer.js", "/docs", "//etc/passwd",
                                  "/openapi.json", "/explorer.js/", "/api/models/"])
def test_no_path_reaches_a_file(url, path):
    head, body = raw(url, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert head.startswith(b"HTTP/1.1 404"), head
    assert json.loads(body)["error"]


def test_wrong_method_is_json(client):
    r = client.get("/api/decode")
    assert r.status_code == 405 and r.json()["error"]


# Any JSON at all, and bodies shaped like the real ones with any values in them.
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
                    max_leaves=30)
NUMBER = st.integers(-10 ** 30, 10 ** 30) | st.floats() | st.just(0)
FIELDS = {"model": st.sampled_from(["vae2", "vae", "ae2", "", "VAE2", "../ae2"]) | JSON,
          "z": st.lists(st.lists(NUMBER, max_size=6), max_size=6) | JSON,
          "a": st.lists(NUMBER, max_size=6) | JSON, "b": st.lists(NUMBER, max_size=6) | JSON,
          "steps": st.integers(-5, 2000) | JSON, "loops": st.integers(-5, 200) | JSON,
          "methods": st.lists(st.sampled_from(["lerp", "slerp", "nlerp", "geodesic", "x"]), max_size=5) | JSON,
          "scores": st.booleans() | JSON, "seed": st.integers(-5, 2 ** 33) | JSON,
          "vector": st.sampled_from(["3to8", "slant", "thickness", "9to0", "5to5", "x"]) | JSON}
SHAPED = st.fixed_dictionaries({}, optional={k: v for k, v in FIELDS.items()})


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(route=st.sampled_from(["/api/decode", "/api/interpolate", "/api/endpoints", "/api/sphere-walk", "/api/vector"]),
       body=SHAPED | JSON)
def test_fuzzed_bodies_never_give_5xx(client, route, body):
    r = client.post(route, content=json.dumps(body, allow_nan=True), headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 400, 404, 422), (r.status_code, body, r.text[:300])
    assert r.headers["content-type"] == "application/json"
    if r.status_code != 200:
        assert r.json()["error"]


# ---------------------------------------------------------------- the command

@pytest.mark.slow
def test_command_starts_on_a_free_port_and_stops_on_ctrl_c(runs):
    proc, url = start_serve(str(runs["vae2"]), "--port", "0", "--no-classifier")
    address, token = split_url(url)
    try:
        assert address.startswith("http://127.0.0.1:") and address.endswith("/") and len(token) >= 32
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "latentwalk explorer" in page.text
        assert httpx.get(address + "api/models", params={"token": token}, timeout=10).json()["classifier"] is False
    finally:
        out = stop(proc, signal.SIGINT)
    assert proc.returncode == 0, out
    assert out.strip().endswith("stopped")
    port = int(address.rstrip("/").rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


@pytest.mark.slow
def test_sigterm_and_a_half_sent_request_still_stop_it(runs):
    proc, url = start_serve(str(runs["vae2"]), "--port", "0", "--no-classifier")
    address, token = split_url(url)
    port = int(address.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as stuck:       # a client that stalls mid-body
        stuck.sendall(f"POST /api/decode?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      f"application/json\r\nContent-Length: 50\r\n\r\n{{".encode())
        time.sleep(0.3)
        t0 = time.time()
        out = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0 and out.strip().endswith("stopped"), out
    assert time.time() - t0 < 10


def test_runs_are_named_apart(runs, tmp_path):
    import shutil

    for parent in ("a", "b"):
        shutil.copytree(runs["vae2"], tmp_path / parent / "x" / "m")
    backend = Backend([tmp_path / "a" / "x" / "m", tmp_path / "b" / "x" / "m", runs["ae2"]], log=lambda s: None)
    assert list(backend.entries) == ["a/x/m", "b/x/m", "ae2"]


def test_command_refuses_a_port_in_use_and_missing_runs(runs, tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = one_line_error(capsys, "serve", runs["vae2"], "--port", port, "--no-classifier")
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "no such run folder" in one_line_error(capsys, "serve", tmp_path / "nothing", "--no-classifier")


# ---------------------------------------------------------------- the page in Chromium

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "install Debian's chromium (.ci/run does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === '1'")
    idle(page)
    yield page
    page.close()


def idle(page):
    page.wait_for_timeout(50)
    page.wait_for_function("document.body.dataset.busy === '0'", timeout=30_000)


def canvases(page, selector) -> list[str]:
    return page.eval_on_selector_all(selector, "cs => cs.map(c => c.toDataURL())")


@pytest.mark.slow
def test_page_loads_without_errors(page):
    assert page.title() == "latentwalk explorer"
    # an AE and a VAE: both shown side by side, the 4-D VAE offered but not shown
    assert page.eval_on_selector_all("#plane-panels .panel", "ps => ps.map(p => p.dataset.model)") == ["ae2", "vae2"]
    assert page.eval_on_selector_all("#models input", "is => is.map(i => i.checked)") == [True, True, False]
    for tab in ["interp", "dims", "sphere", "arith", "plane"]:
        page.click(f"#tabs button[data-tab={tab}]")
        idle(page)
    assert page.inner_text("#status") == ""
    assert page.errors == []


@pytest.mark.slow
def test_dragging_decodes_live(page):
    box = page.locator("#plane-panels canvas.plane").first.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    idle(page)
    before = canvases(page, "#plane-panels canvas.decoded")
    captions = page.eval_on_selector_all("#plane-panels .caption", "cs => cs.map(c => c.textContent)")
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x0 + k * box["width"] * 0.04, y0 + k * box["height"] * 0.04)
    page.mouse.up()
    idle(page)
    after = canvases(page, "#plane-panels canvas.decoded")
    assert len(before) == len(after) == 2 and all(a != b for a, b in zip(before, after))
    assert page.eval_on_selector_all("#plane-panels .caption", "cs => cs.map(c => c.textContent)") != captions
    assert page.inner_text("#path-info") == "click the plane to add path points"     # a drag is not a click
    assert page.errors == []


@pytest.mark.slow
def test_clicked_path_plays(page):
    box = page.locator("#plane-panels canvas.plane").nth(1).bounding_box()
    for fx, fy in [(0.2, 0.2), (0.8, 0.3), (0.5, 0.8)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    assert page.inner_text("#path-info") == "3 path point(s)"
    page.click("#play-path")
    page.wait_for_function("document.querySelector('#path-info').textContent.startsWith('playing: frame 45')")
    page.wait_for_function("document.querySelector('#path-info').textContent === '3 path point(s)'")
    assert "path frame 90 / 90" in page.inner_text("#plane-panels .panel >> nth=0")
    assert page.errors == []


@pytest.mark.slow
def test_grid_layer_draws_decoded_digits(page):
    before = canvases(page, "#plane-panels canvas.plane")
    page.check("#grid-layer")
    idle(page)
    after = canvases(page, "#plane-panels canvas.plane")
    assert len(before) == len(after) == 2 and all(a != b for a, b in zip(before, after))
    assert page.errors == []


@pytest.mark.slow
def test_t_slider_updates_every_row(page):
    page.click("#tabs button[data-tab=interp]")
    idle(page)
    before = canvases(page, "#interp-panels canvas.current")
    assert len(before) == 8                                     # 2 models x lerp, slerp, nlerp, geodesic
    page.locator("#t").fill("10")
    after = canvases(page, "#interp-panels canvas.current")
    assert len(after) == 8 and all(a != b for a, b in zip(before, after))
    captions = page.eval_on_selector_all("#interp-panels .row .caption", "cs => cs.map(c => c.textContent)")
    assert len(captions) == 8 and all(c.startswith("t = 0.10 · |z| = ") and "digit" in c for c in captions)
    # new endpoints: two test images picked from the thumbnails
    page.click("#thumbnails canvas >> nth=20")
    page.click("#thumbnails canvas >> nth=5")
    idle(page)
    assert "A = test image 21, B = test image 6" in page.inner_text("#endpoints-info")
    assert canvases(page, "#interp-panels canvas.current") != after
    page.click("#prior-pair")
    idle(page)
    assert "prior samples on the √d shell (seed 0)" in page.inner_text("#endpoints-info")
    a = page.evaluate("state.prior.vae2[0]")                    # asked of the server, not drawn in the page
    assert a == pytest.approx(core.prior_pairs(2, 1, 0)[0, 0], abs=1e-6)
    page.click("#prior-pair")
    idle(page)
    assert "(seed 1)" in page.inner_text("#endpoints-info")
    assert page.errors == []


@pytest.mark.slow
def test_cards_show_measures_and_paths_their_length(page):
    card = "#plane-panels .panel[data-model=vae2] .card-measures"
    assert "not measured yet" in page.inner_text(card)
    page.click(f"{card} button.measure")
    idle(page)
    assert page.eval_on_selector_all(f"{card} tr[data-sampler]", "rs => rs.map(r => r.dataset.sampler)") == \
        ["real", "prior", "gmm", "posterior"]
    stored = page.evaluate("state.byName.vae2.measures.record.samples.prior.frechet_distance")
    assert page.inner_text(f"{card} tr[data-sampler=prior] td:nth-child(3)") == f"{stored:.1f}"
    assert "path length (PPL, 300 prior paths): lerp" in page.inner_text(card)
    assert "geodesic" in page.inner_text(card) and f"({QUICK_GEODESICS} paths)" in page.inner_text(card)
    page.click("#tabs button[data-tab=interp]")
    idle(page)
    lengths = page.eval_on_selector_all("#interp-panels .panel[data-model=vae2] .row .length",
                                        "ls => ls.map(l => l.textContent)")
    assert len(lengths) == 4 and all(t.startswith("path length ") and "(model: " in t for t in lengths)
    drawn = page.evaluate("""() => {
        const p = document.querySelector('#interp-panels .panel[data-model=vae2]');
        const px = p.rough.getContext('2d').getImageData(0, 0, p.rough.width, p.rough.height).data;
        let coloured = 0;                     // pixels of the methods' coloured lines (axes and labels are grey)
        for (let i = 0; i < px.length; i += 4) {
          if (Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 80) coloured++;
        }
        return [p.result.rows.lerp.roughness.length, coloured];
    }""")
    assert drawn[0] == 101 and drawn[1] > 200
    assert page.errors == []


@pytest.mark.slow
def test_arithmetic_moves_a_digit_along_a_vector(page):
    page.click("#tabs button[data-tab=arith]")
    idle(page)
    assert page.locator("#arith-panels .panel").count() == 2
    assert "3to8: |vector| = " in page.inner_text("#arith-panels .panel >> nth=1")
    page.click("#arith-thumbnails canvas >> nth=9")                 # a 3
    idle(page)
    before = canvases(page, "#arith-panels canvas.decoded")
    page.locator("#scale").fill("-2")
    idle(page)
    after = canvases(page, "#arith-panels canvas.decoded")
    assert all(a != b for a, b in zip(before, after))
    assert all(c.startswith("scale -2.0 · |z| = ") for c in
               page.eval_on_selector_all("#arith-panels .caption", "cs => cs.map(c => c.textContent)"))
    strips = canvases(page, "#arith-panels canvas.strip")
    page.select_option("#vector-kind", "thickness")
    idle(page)
    assert page.is_disabled("#vector-from") and canvases(page, "#arith-panels canvas.strip") != strips
    assert "thickness: |vector| = " in page.inner_text("#arith-panels .panel >> nth=0")
    # the page decodes code + scale * vector, with the server's vector
    z = page.evaluate("(() => { const p = arithPanels()[1]; return moved(p, -2); })()")
    code = page.evaluate("state.byName.vae2.thumbnails.codes[9]")
    vector = page.evaluate("arithPanels()[1].vector")
    assert z == pytest.approx(np.array(code) - 2 * np.array(vector), abs=1e-9)
    assert page.errors == []


@pytest.mark.slow
def test_dimension_sliders_and_sphere_walk(page):
    page.click("#models input[value=vae]")                      # show the 4-D VAE too
    page.click("#tabs button[data-tab=dims]")
    idle(page)
    panel = "#dims-panels .panel[data-model=vae]"
    assert page.locator(f"{panel} input[type=range]").count() == 4
    before = canvases(page, f"{panel} canvas.decoded")
    page.locator(f"{panel} input[type=range]").first.fill("2.5")
    idle(page)
    assert canvases(page, f"{panel} canvas.decoded") != before
    page.click("#tabs button[data-tab=sphere]")
    idle(page)
    assert page.locator("#sphere-panels .panel").count() == 3
    first = canvases(page, "#sphere-panels canvas.decoded")
    page.click("#sphere-play")
    page.wait_for_function("Number(document.querySelector('#sphere-frame').value) > 20")
    page.click("#sphere-play")
    last = canvases(page, "#sphere-panels canvas.decoded")
    assert len(first) == len(last) == 3 and all(a != b for a, b in zip(first, last))
    assert "|z| = 2.00" in page.inner_text("#sphere-panels .panel[data-model=vae] .caption")
    assert page.errors == []


# ---------------------------------------------------------------- safe to leave running and to share

@pytest.fixture(scope="module")
def shared(runs):
    """The command serving on every address of this machine: a token is required, printed in the URL."""
    proc, url = start_serve(str(runs["vae2"]), "--port", "0", "--no-classifier", "--host", "0.0.0.0")
    base, token = split_url(url)
    yield f"http://127.0.0.1:{base.rstrip('/').rsplit(':', 1)[1]}/", token
    stop(proc, signal.SIGINT)


@pytest.mark.slow
def test_a_shared_server_needs_its_token(shared):
    base, token = shared
    refused = httpx.get(base + "api/models", timeout=10)
    assert refused.status_code == 403 and "needs its token" in refused.json()["error"]
    assert httpx.get(base + "api/models", params={"token": token[:-1] + "x"}, timeout=10).status_code == 403
    assert httpx.post(base + "api/decode", json={"model": "vae2", "z": [[0, 0]]}, timeout=10).status_code == 403
    page = httpx.get(base, params={"token": token}, timeout=10)                  # the printed URL
    assert page.status_code == 200 and "HttpOnly" in page.headers["set-cookie"]
    cookie = {"latentwalk_token": token}
    assert httpx.get(base + "api/models", cookies=cookie, timeout=10).status_code == 200     # the page's requests
    assert httpx.get(base + "api/models", headers={"Authorization": f"token {token}"}, timeout=10).status_code == 200
    assert httpx.get(base + "explorer.css", timeout=10).status_code == 403


@pytest.mark.slow
def test_a_shared_server_refuses_a_foreign_host_even_with_its_token(shared):
    base, token = shared
    foreign = httpx.get(base + "api/models", params={"token": token}, headers={"Host": "rebound.example"}, timeout=10)
    assert foreign.status_code == 421 and "rebound.example" in foreign.json()["error"]
    own = httpx.get(base + "api/models", params={"token": token}, headers={"Host": socket.gethostname()}, timeout=10)
    assert own.status_code == 200


def test_no_token_only_on_loopback(runs, capsys):
    err = one_line_error(capsys, "serve", runs["vae2"], "--host", "0.0.0.0", "--no-token", "--no-classifier")
    assert "without a token would let anyone who reaches this machine use it" in err and "--token" in err
    assert "--token must be 8 to 256" in one_line_error(capsys, "serve", runs["vae2"], "--token", "short",
                                                        "--no-classifier")


def test_a_half_sent_body_is_answered_and_closed(runs):
    """A client that stalls mid-body gets 408 once the body's time is up, and its connection is closed."""
    sock = listen("127.0.0.1", 0)
    app = make_app(Backend([runs["vae2"]], log=lambda s: None), {"127.0.0.1"}, "t0ken-for-tests", body_seconds=1)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with socket.create_connection(sock.getsockname()[:2], timeout=30) as stuck:
            stuck.sendall(b"POST /api/decode?token=t0ken-for-tests HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{")
            answer = b""
            while chunk := stuck.recv(4096):              # until the server closes the connection
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 s" in answer
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_decodes_answer_while_a_measure_runs(client):
    """A measure runs on the heavy requests' thread: the page's decodes keep being answered meanwhile."""
    done = threading.Event()
    result = {}

    def measure():
        result["measure"] = client.post("/api/measure", json={"model": "vae2"}, timeout=300)
        done.set()

    thread = threading.Thread(target=measure)
    thread.start()
    answered = 0
    while not done.is_set():
        r = client.post("/api/decode", json={"model": "vae2", "z": [[0.1, -0.2]], "scores": True})
        assert r.status_code == 200
        answered += not done.is_set()                 # answered while the measure was still running
    thread.join()
    assert result["measure"].status_code == 200, result["measure"].text
    assert answered >= 10, answered


def test_a_newer_pick_replaces_an_interpolation_still_waiting(client, url):
    """Two picks queued behind a measure: the older is answered 204 (nothing to show) without being solved."""
    answers = {}

    def post(key, path, body):
        with httpx.Client(base_url=url, timeout=300) as own:
            answers[key] = own.post(path, json=body)

    busy = threading.Thread(target=post, args=("measure", "/api/measure", {"model": "vae2"}))
    busy.start()
    time.sleep(0.5)                          # the measure (seconds: its geodesics) holds the heavy thread
    picks = [threading.Thread(target=post, args=(k, "/api/interpolate", {"model": "vae2", "a": [0, k], "b": [1, 1],
                                                                         "steps": 11}))
             for k in (0, 1)]
    for t in picks:
        t.start()
        time.sleep(0.3)                      # in this order
    for t in (busy, *picks):
        t.join()
    assert answers["measure"].status_code == 200
    assert answers[0].status_code == 204 and answers[1].status_code == 200
    assert set(answers[1].json()["rows"]) == {"lerp", "slerp", "nlerp", "geodesic"}


@pytest.mark.slow
def test_connections_past_the_cap_are_answered_503(shared):
    """Clients stalled mid-body, more than the server serves at once: it holds fewer than MAX_CONNECTIONS and
    answers the others 503 at once (each one held is answered 408 once its body's time is up). uvicorn counts
    the connections open when it reads a request's headers, so in a burst it may refuse even the first ones:
    eight are opened and read first, then the rest."""
    from latentwalk.explorer.server import MAX_CONNECTIONS

    base, token = shared
    port = int(base.rstrip("/").rsplit(":", 1)[1])
    stalled = []

    def stall(count: int) -> None:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(f"POST /api/decode?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      f"application/json\r\nContent-Length: 50\r\n\r\n{{".encode())
            stalled.append(s)
        time.sleep(1.0)                              # the server reads every one's headers

    try:
        stall(8)
        stall(MAX_CONNECTIONS)
        answers = []
        for s in stalled:
            s.settimeout(0.05)
            try:
                answers.append(s.recv(64))
            except TimeoutError:
                answers.append(None)                 # held: waiting for the rest of its body
        held = answers.count(None)
        assert 0 < held < MAX_CONNECTIONS, held
        assert all(a.startswith(b"HTTP/1.1 503") for a in answers if a is not None), answers
    finally:
        for s in stalled:
            s.close()
