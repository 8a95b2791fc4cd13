"""`latentwalk demo --quick` end to end, and its report checked in a real headless Chromium.

The demo runs four times, all on one folder, each run starting where the one before stopped: Ctrl-C once
vae500's first epoch is saved; resumed, then killed (kill -9) once vae2's first epoch is saved; resumed to the
end (the report the tests read); run again, when it only re-renders."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from latentwalk.report import parallel_training
from latentwalk.run import checkpoint

from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, alive, children, run_cli, wait_for

MODELS = ("ae2", "vae2", "vae10", "vae500")


def demo(out: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "latentwalk", "demo", "--quick", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, **kw)


def start_demo(out: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "latentwalk", "demo", "--quick", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, **kw)


def workers(pid: int) -> list[int]:
    """The demo's training workers (multiprocessing's spawned processes)."""
    found = []
    for child in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


def group(pgid: int) -> list[int]:
    """The live processes of process group `pgid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == pgid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def saved_epochs(out: Path) -> dict[str, int]:
    return {name: checkpoint.last_epoch(out / name) if (out / name / "train_state.safetensors").exists() else 0
            for name in MODELS}


@pytest.fixture(scope="module")
def ctrl_c(tmp_path_factory):
    """Demo 1: Ctrl-C (to the demo and its workers) once vae500's first epoch is saved."""
    out = tmp_path_factory.mktemp("demo") / "quick"
    proc = start_demo(out, start_new_session=True,       # as at a terminal: a job run in the background (CI)
                      preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # inherits it ignored
    wait_for(lambda: (out / "vae500" / "train_state.safetensors").exists() or proc.poll() is not None, 900)
    os.killpg(proc.pid, signal.SIGINT)                  # what Ctrl-C sends: the demo and its workers
    _, err = proc.communicate(timeout=120)
    saved = {p.parent.name: p.read_bytes() for p in out.glob("*/train_state.safetensors")}
    wait_for(lambda: not group(proc.pid), 30)           # every process the demo started has ended
    after = {p.parent.name: p.read_bytes() for p in out.glob("*/train_state.safetensors")}
    return out, proc.returncode, err, group(proc.pid), saved, after


@pytest.fixture(scope="module")
def killed(ctrl_c):
    """Demo 2, on the same folder: resumed, then kill -9 of the demo alone once vae2's first epoch is saved."""
    out = ctrl_c[0]
    proc = start_demo(out)
    # the last model's first epoch saved: weights are its checkpoint's last file (metrics.jsonl is its first)
    wait_for(lambda: (out / "vae2" / "weights.safetensors").exists() or proc.poll() is not None, 900)
    pool_workers = workers(proc.pid)
    proc.send_signal(signal.SIGKILL)                    # the demo alone: its training workers must die with it
    proc.wait()
    wait_for(lambda: not any(alive(w) for w in pool_workers), 30)
    left = [w for w in pool_workers if alive(w)]
    files = {f: (out / f).exists() for f in ("vae2/weights.safetensors", "report.html")}
    stdout, _ = proc.communicate(timeout=60)            # what it and its workers printed before the kill
    return out, pool_workers, left, saved_epochs(out), files, stdout


@pytest.fixture(scope="module")
def resumed(killed):
    """Demo 3, on the same folder: resumed to the end. Its output, and the folder with the report."""
    out = killed[0]
    p = demo(out)
    assert p.returncode == 0, p.stderr[-2000:]
    return out, p.stdout


@pytest.fixture(scope="module")
def report(resumed):
    out, stdout = resumed
    assert f"report: {(out / 'report.html').resolve()}" in stdout
    # the time of each stage, then the total
    lines = stdout.splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("stage "))) + 1:-2]
    seconds = {x.rsplit(maxsplit=1)[0]: float(x.rsplit(maxsplit=1)[1]) for x in table}
    assert list(seconds)[0] == "training"
    assert {"rendering the spiral", "walking geodesics", "evaluating (IWAE)", "total"} <= set(seconds)
    assert seconds.pop("total") == pytest.approx(sum(seconds.values()), abs=0.1 * len(seconds))
    return out


@pytest.mark.slow
def test_ctrl_c_stops_every_model_and_the_demo_resumes(ctrl_c, killed):
    _, returncode, err, left, saved, after = ctrl_c
    assert returncode == 130 and err.splitlines()[-1] == "latentwalk: interrupted", err[-2000:]
    assert "Traceback" not in err
    assert left == [] and after == saved                # nothing trains on behind the prompt
    next_run = killed[5]                                # the demo run after the Ctrl-C resumes
    assert "vae500: resuming at epoch 2 of 2" in next_run or "vae500: reusing the trained model" in next_run


@pytest.mark.slow
def test_killed_demo_leaves_whole_epochs_and_no_worker(killed):
    _, pool_workers, left, done, files, _ = killed
    assert files["vae2/weights.safetensors"], "the demo never finished the last model's first epoch"
    assert pool_workers and left == []                  # the workers died with the demo: none trains on
    assert done["vae2"] == 1, done
    assert not files["report.html"]


@pytest.mark.slow
def test_interrupted_demo_resumes(killed, resumed):
    done = killed[3]
    out, stdout = resumed
    for name, epochs in done.items():
        # fit's notice on a CPU without bfloat16 is no epoch line (two workers can print it at once, on one line)
        lines = [x.split(": ", 1)[1] for x in stdout.splitlines() if x.startswith(f"{name}: ")
                 and "has no native bfloat16: training in float32" not in x]
        if epochs == 2:
            assert lines == ["reusing the trained model (2 epochs)"], (name, lines)
        else:                                           # no saved epoch is trained again
            assert lines[0] == (f"resuming at epoch {epochs + 1} of 2" if epochs else f"training a VAE with z = "
                                f"{name[3:]} for 2 epochs" if name != "ae2" else "training an AE with z = 2 for 2 epochs")
            assert [x.split()[1] for x in lines[1:]] == [f"{e}/2" for e in range(epochs + 1, 3)], (name, lines)
    assert (out / "report.html").stat().st_size > 1_000_000
    left, n = sum(epochs < 2 for epochs in done.values()), parallel_training.cores()    # only those not done start
    assert f"training {left} model{'s' if left > 1 else ''}, {min(left, n)} at a time on {n} core" in stdout


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_second_run_only_rerenders(report, capsys):
    before = {p: p.stat().st_mtime_ns for p in report.glob("*/weights.safetensors")}
    page = (report / "report.html").stat().st_mtime_ns
    paths_only = {p: p.stat().st_mtime_ns for p in (report / "vae10" / "measures.json",
                                                    report / "vae500" / "measures.json")}
    code, stdout, err = run_cli(capsys, "demo", "--quick", "--out", report)     # in this process: no worker starts
    assert code == 0, err[-2000:]
    assert (report / "report.html").stat().st_mtime_ns > page and "report: " in stdout     # drawn again
    assert stdout.count("reusing the trained model") == 4 and "epoch 1/" not in stdout
    assert "training 0 models" not in stdout and " at a time on " not in stdout
    assert {p: p.stat().st_mtime_ns for p in paths_only} == paths_only   # their path lengths read back, not walked
    assert {p: p.stat().st_mtime_ns for p in report.glob("*/weights.safetensors")} == before


def test_a_run_with_other_settings_stops_the_demo_in_one_line(tmp_path, small_npz, capsys):
    from conftest import train_small

    out = tmp_path / "demo"
    train_small(out / "ae2", small_npz, epochs=1)             # a 784-64-32-2 VAE where the demo wants its AE
    code, _, err = run_cli(capsys, "demo", "--quick", "--out", out)
    assert code == 2
    assert err.splitlines()[-1] == f"latentwalk: error: {out / 'ae2'} holds a run with other settings; " \
                                   f"remove it or choose another --out"
    assert "Traceback" not in err and not (out / "report.html").exists()
    assert checkpoint.last_epoch(out / "ae2") == 1                       # left as it was
    assert sorted(x.name for x in out.iterdir()) == ["ae2"]              # said before any model trained
