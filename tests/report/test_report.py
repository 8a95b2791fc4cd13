"""`latentwalk demo --quick` end to end, and its report checked in a real headless Chromium."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from latentwalk.report import parallel_training
from latentwalk.run import checkpoint

from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT


def demo(out: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "latentwalk", "demo", "--quick", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, **kw)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "quick"
    p = demo(out)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"report: {(out / 'report.html').resolve()}" in p.stdout
    # the time of each stage, then the total
    lines = p.stdout.splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("stage "))) + 1:-2]
    seconds = {x.rsplit(maxsplit=1)[0]: float(x.rsplit(maxsplit=1)[1]) for x in table}
    assert list(seconds)[0] == "training"
    cores = parallel_training.cores()
    assert f"training 4 models, {min(4, cores)} at a time on {cores} core" in p.stdout
    assert {"rendering the spiral", "walking geodesics", "evaluating (IWAE)", "total"} <= set(seconds)
    assert seconds.pop("total") == pytest.approx(sum(seconds.values()), abs=0.1 * len(seconds))
    return out


def test_report_in_chromium(report, tmp_path):
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "install Debian's chromium (.ci/run does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((report / "report.html").resolve().as_uri())
        page.wait_for_function("Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 2)",
                               timeout=30_000)
        widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
        videos = page.evaluate("Array.from(document.querySelectorAll('video')).map(v => [v.readyState, v.duration])")
        headings = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        tables = page.evaluate("document.querySelectorAll('table').length")
        trained_in = page.evaluate("Array.from(document.querySelector('table').rows).slice(1)"
                                   ".map(r => [r.cells[0].textContent, r.cells[2].textContent])")
        footer = page.locator("footer").inner_text()
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert len(widths) >= 14 and all(w > 0 for w in widths), widths
    # the spiral: 60 frames at 30 fps; the sphere walk: 120 frames at 30 fps
    assert [v[0] >= 2 for v in videos] == [True, True]
    assert [round(v[1], 1) for v in videos] == [2.0, 4.0]
    assert errors == []
    assert headings == ["Auto-encoders and VAEs", "The 2-D latent plane", "What about higher dimensions?",
                        "lerp against slerp", "Geodesics: the decoder's shortest paths", "Why the VAE, not the AE"]
    assert tables == 6
    # each model's training precision, as its metrics recorded it; the numbers come from float32 decoding
    recorded = {name: checkpoint.read_metrics(report / name)[-1]["precision"] for name, _ in trained_in}
    assert trained_in == [[name, recorded[name]] for name in ("ae2", "vae2", "vae10", "vae500")]
    assert "comes from decoding in float32" in footer
    assert all(f"{name} in {p}" in footer for name, p in recorded.items())
    assert shot.stat().st_size > 100_000


def test_each_model_keeps_its_measures(report):
    from latentwalk.measure import stored

    kept = {run.name: stored.read(run) for run in sorted(report.glob("*/")) if (run / "weights.safetensors").is_file()}
    assert sorted(kept) == ["ae2", "vae10", "vae2", "vae500"]
    for name in ("ae2", "vae2"):                   # the AE-vs-VAE table's rows: real, prior, mixture (1,000 each)
        samples = kept[name]["samples"]
        assert list(samples) == ["real", "prior", "gmm"] and all(r["n"] == 1000 for r in samples.values())
    for name in ("vae2", "vae10", "vae500"):       # the path-length table's
        assert {m: v["paths"] for m, v in kept[name]["paths"].items()} == {"lerp": 300, "slerp": 300, "nlerp": 300,
                                                                           "geodesic": 10}
    assert kept["ae2"]["paths"] == {} and kept["vae10"]["samples"] == {}


def test_second_run_only_rerenders(report):
    before = {p: p.stat().st_mtime_ns for p in report.glob("*/weights.safetensors")}
    page = (report / "report.html").stat().st_mtime_ns
    p = demo(report)
    assert p.returncode == 0, p.stderr[-2000:]
    assert (report / "report.html").stat().st_mtime_ns > page and "report: " in p.stdout     # drawn again
    assert p.stdout.count("reusing the trained model") == 4 and "epoch 1/" not in p.stdout
    assert {p: p.stat().st_mtime_ns for p in report.glob("*/weights.safetensors")} == before


def test_interrupted_demo_resumes(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "latentwalk", "demo", "--quick", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.time() + 900
    # the last model's first epoch saved: weights are its checkpoint's last file (metrics.jsonl is its first)
    while not (out / "vae2" / "weights.safetensors").exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)                    # the demo alone: its training workers must die with it
    proc.wait()
    assert (out / "vae2" / "weights.safetensors").exists(), "the demo never finished the last model's first epoch"
    time.sleep(3)                                       # a worker left alive would finish epoch 2 by now
    done = {name: checkpoint.last_epoch(out / name) if (out / name / "train_state.safetensors").exists() else 0
            for name in ("ae2", "vae2", "vae10", "vae500")}
    assert done["vae2"] == 1, done
    assert not (out / "report.html").exists()
    p = demo(out)
    assert p.returncode == 0, p.stderr[-2000:]
    for name, epochs in done.items():
        lines = [x.split(": ", 1)[1] for x in p.stdout.splitlines() if x.startswith(f"{name}: ")]
        if epochs == 2:
            assert lines == ["reusing the trained model (2 epochs)"], (name, lines)
        else:                                           # no saved epoch is trained again
            assert lines[0] == (f"resuming at epoch {epochs + 1} of 2" if epochs else f"training a VAE with z = "
                                f"{name[3:]} for 2 epochs" if name != "ae2" else "training an AE with z = 2 for 2 epochs")
            assert [x.split()[1] for x in lines[1:]] == [f"{e}/2" for e in range(epochs + 1, 3)], (name, lines)
    assert (out / "report.html").stat().st_size > 1_000_000


def test_a_run_with_other_settings_stops_the_demo_in_one_line(tmp_path, small_npz):
    from conftest import train_small

    out = tmp_path / "demo"
    train_small(out / "ae2", small_npz, epochs=1)             # a 784-64-32-2 VAE where the demo wants its AE
    p = demo(out)
    assert p.returncode == 2
    assert p.stderr.splitlines()[-1] == f"latentwalk: error: {out / 'ae2'} holds a run with other settings; " \
                                        f"remove it or choose another --out"
    assert "Traceback" not in p.stderr and not (out / "report.html").exists()
    assert checkpoint.last_epoch(out / "ae2") == 1                       # left as it was
    assert sorted(x.name for x in out.iterdir()) == ["ae2"]              # said before any model trained


def test_ctrl_c_stops_every_model_and_the_demo_resumes(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "latentwalk", "demo", "--quick", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True,       # as at a terminal: a job run in the background (CI)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # inherits it ignored
    deadline = time.time() + 900
    while not (out / "vae500" / "train_state.safetensors").exists() and time.time() < deadline:   # epoch 1 saved
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)                  # what Ctrl-C sends: the demo and its workers
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.splitlines()[-1] == "latentwalk: interrupted", err[-2000:]
    assert "Traceback" not in err
    saved = {p.parent.name: p.read_bytes() for p in out.glob("*/train_state.safetensors")}
    time.sleep(3)                                       # nothing trains on behind the prompt
    assert {p.parent.name: p.read_bytes() for p in out.glob("*/train_state.safetensors")} == saved
    p = demo(out)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "vae500: resuming at epoch 2 of 2" in p.stdout or "vae500: reusing the trained model" in p.stdout
