"""Several processes (torchrun, gloo on the CPU) and the machine options --precision and --compile."""

import json
import os
import re
import socket
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from conftest import ROOT, run_cli, train_small

TRAIN = ["train", "--hidden", "64,32", "--latent-dim", "2", "--epochs", "2", "--device", "cpu"]


def torchrun(*args, processes: int = 2) -> subprocess.CompletedProcess:
    """`latentwalk ARGS` in `processes` processes of one torchrun launcher (0: one plain process), one thread each."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"] \
        if processes else [sys.executable]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*launcher, "-m", "latentwalk", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=600)


def latentwalk(capsys, *args) -> subprocess.CompletedProcess:
    """`latentwalk ARGS` in this process, on one thread (as a torchrun process has): what a subprocess gives."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code, out, err = run_cli(capsys, *args)
    finally:
        torch.set_num_threads(threads)
    return subprocess.CompletedProcess(["latentwalk", *map(str, args)], code, out, err)


def metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path, small_npz, capsys):
    # 1,800 training images in batches of 63: every batch splits 31 / 32, the last (36 images) 18 / 18; the KL
    # warm-up must agree too. In float32: bf16 rounds the products of a 31-row slice differently from a 63-row one
    args = [*TRAIN, "--data", str(small_npz), "--batch-size", "63", "--kl-warmup", "3", "--precision", "float32"]
    one = latentwalk(capsys, *args, "--out", str(tmp_path / "one"))
    two = torchrun(*args, "--out", str(tmp_path / "two"))
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("wrote ") == 1 and two.stdout.count("epoch 2/2") == 1     # rank 0 alone speaks
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == \
        sorted(p.name for p in (tmp_path / "one").iterdir())                          # and writes
    assert len(metrics(tmp_path / "one")) == len(metrics(tmp_path / "two")) == 2
    for a, b in zip(metrics(tmp_path / "one"), metrics(tmp_path / "two")):
        for key in ("train_neg_elbo", "train_recon", "train_kl", "test_neg_elbo"):
            assert b[key] == pytest.approx(a[key], rel=1e-5), key
    w1, w2 = load_file(tmp_path / "one" / "weights.safetensors"), load_file(tmp_path / "two" / "weights.safetensors")
    assert all(torch.allclose(w1[k], w2[k], atol=1e-4) for k in w1)


@pytest.mark.slow
def test_two_nodes_meet_at_the_master_address(tmp_path, small_npz, capsys):
    """Two torchrun launchers, as on two machines (here both on 127.0.0.1), one process each: node 0 hosts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [*TRAIN, "--data", str(small_npz), "--batch-size", "64", "--precision", "float32",
            "--out", str(tmp_path / "two")]
    def launch(node):
        return [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
                "--node-rank", str(node), "--master-addr", "127.0.0.1", "--master-port", str(port),
                "-m", "latentwalk", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    nodes = [subprocess.Popen(launch(k), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env=env) for k in range(2)]
    outputs = [n.communicate(timeout=300) for n in nodes]
    assert [n.returncode for n in nodes] == [0, 0], outputs[0][1][-2000:] + outputs[1][1][-2000:]
    one = latentwalk(capsys, *TRAIN, "--data", str(small_npz), "--batch-size", "64", "--precision", "float32",
                     "--out", str(tmp_path / "one"))
    assert one.returncode == 0
    assert [m["train_neg_elbo"] for m in metrics(tmp_path / "two")] == \
        pytest.approx([m["train_neg_elbo"] for m in metrics(tmp_path / "one")], rel=1e-5)


@pytest.mark.slow
def test_two_processes_resume_from_one_processes_checkpoint(tmp_path, small_npz, capsys):
    run = tmp_path / "run"
    first = latentwalk(capsys, *TRAIN, "--data", str(small_npz), "--batch-size", "64", "--epochs", "1",
                       "--out", str(run))
    assert first.returncode == 0, first.stderr[-2000:]
    more = torchrun("train", "--resume", "--out", str(run), "--epochs", "2")
    assert more.returncode == 0, more.stderr[-3000:]
    assert [m["epoch"] for m in metrics(run)] == [1, 2]


@pytest.mark.slow
def test_a_batch_too_small_for_the_ranks_is_refused(tmp_path, small_npz):
    p = torchrun(*TRAIN, "--data", str(small_npz), "--batch-size", "1799", "--out", str(tmp_path / "r"))
    assert p.returncode != 0
    assert "with 2 processes every batch needs at least 2 images" in p.stderr
    assert not (tmp_path / "r").exists()


def test_bf16_trains_within_a_percent_of_float32(tmp_path, small_npz, capsys):
    """Two epochs of the small model: bf16 keeps 8 bits of mantissa in the products, the loss sums stay float32."""
    runs = {}
    for precision in ("float32", "bf16"):
        p = latentwalk(capsys, *TRAIN, "--data", str(small_npz), "--batch-size", "64", "--precision",
                       precision, "--out", str(tmp_path / precision))
        assert p.returncode == 0, p.stderr[-2000:]
        runs[precision] = metrics(tmp_path / precision)
    assert [r["precision"] for r in runs["bf16"]] == ["bf16", "bf16"]
    assert [r["precision"] for r in runs["float32"]] == ["float32", "float32"]
    a, b = runs["float32"][-1]["test_neg_elbo"], runs["bf16"][-1]["test_neg_elbo"]
    assert b == pytest.approx(a, rel=0.01) and b != a


def test_auto_falls_back_to_float32_and_says_so(tmp_path, small_npz, monkeypatch):
    """A CPU without AVX-512 BF16 or AMX (forced here: torch reports neither) trains in float32."""
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    lines = []
    run = train_small(tmp_path / "r", small_npz, epochs=1, log=lines.append)
    assert lines[0] == "this CPU has no native bfloat16: training in float32"
    assert metrics(run)[0]["precision"] == "float32"
    float32 = train_small(tmp_path / "f", small_npz, epochs=1, precision="float32")
    assert metrics(run)[0]["train_neg_elbo"] == metrics(float32)[0]["train_neg_elbo"]


def test_fp16_without_a_gpu_is_a_one_line_error(tmp_path, small_npz, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    p = latentwalk(capsys, *TRAIN, "--data", str(small_npz), "--precision", "fp16",
                   "--out", str(tmp_path / "r"))
    assert p.returncode == 2 and p.stderr == "latentwalk: error: --precision fp16 needs a CUDA GPU; on this " \
                                             "device use bf16 or float32\n"
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_compile_trains_like_the_eager_model(tmp_path, small_npz):
    from torch._dynamo.utils import counters

    # 1,800 training digits in batches of 72: no last, smaller batch, whose recompile would double the test's time
    eager = train_small(tmp_path / "eager", small_npz, epochs=1, batch_size=72)
    graphs = counters["stats"]["unique_graphs"]
    compiled = train_small(tmp_path / "compiled", small_npz, epochs=1, compile=True, batch_size=72)
    assert counters["stats"]["unique_graphs"] > graphs                  # torch.compile really traced the step
    a, b = metrics(eager)[-1], metrics(compiled)[-1]
    assert b["compile"] is True and a["compile"] is False
    assert b["train_neg_elbo"] == pytest.approx(a["train_neg_elbo"], rel=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("options", [["--precision", "fp16"], ["--precision", "bf16"], ["--compile"]])
def test_gpu_options(tmp_path, small_npz, options):
    p = torchrun(*TRAIN[:-2], "--device", "cuda", "--data", str(small_npz), *options, "--out", str(tmp_path / "r"),
                 processes=0)
    assert p.returncode == 0, p.stderr[-2000:]
    assert all(m["train_neg_elbo"] < 1000 for m in metrics(tmp_path / "r"))


@pytest.mark.slow
def test_an_error_on_rank_0_stops_every_rank_in_one_line(tmp_path, small_npz):
    (tmp_path / "file").write_text("not a folder")
    p = torchrun(*TRAIN, "--data", str(small_npz), "--batch-size", "64",
                 "--out", str(tmp_path / "file" / "run"))
    assert p.returncode != 0
    assert p.stderr.count("latentwalk: error: ") == 1 and "Not a directory" in p.stderr, p.stderr[-3000:]
    # torchrun's launcher reports the failed child with a traceback of its own; none comes from our processes
    assert not re.search(r"latentwalk/[a-z_/]+\.py", p.stderr), p.stderr[-3000:]
