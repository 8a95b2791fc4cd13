"""Data converted once and read from disk: same pixels and same training as in memory, all-or-nothing writes."""

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from conftest import run_cli, train_small
from latentwalk.data import datasets, mapped
from latentwalk.errors import DataError
from latentwalk.models import ModelConfig
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mnist_train):
    """300 real MNIST digits as PNG files, one subfolder per label."""
    images, labels = mnist_train
    root = tmp_path_factory.mktemp("pngs") / "digits"
    for k in range(300):
        sub = root / str(int(labels[k]))
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[k, 0].numpy()).save(sub / f"{k:05d}.png")
    return root


def test_converted_folder_holds_the_same_pixels(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(mapped, "CHUNK", 64)                     # several chunks
    out = mapped.convert(folder, tmp_path / "conv", greyscale=False, size=(64, 64))
    for split in ("train", "test"):
        disk, disk_labels = datasets.load(out, split)
        memory, memory_labels = datasets.load(folder, split, greyscale=False, size=(64, 64))
        assert isinstance(disk, mapped.MappedImages) and disk.shape == memory.shape
        assert torch.equal(disk[torch.arange(len(disk))], memory)
        assert torch.equal(disk_labels, memory_labels)
        assert datasets.fingerprint(disk) == datasets.fingerprint(memory)
    assert disk.shape[1:] == (3, 64, 64) and len(datasets.load(out, "train")[0]) == 270
    assert sorted(p.name for p in out.iterdir()) == ["mapped.json", "test_images.npy", "test_labels.npy",
                                                     "train_images.npy", "train_labels.npy"]
    assert not list(tmp_path.glob(".conv.tmp-*"))


def test_training_from_disk_equals_training_in_memory(small_npz, tmp_path):
    conv = mapped.convert(small_npz, tmp_path / "conv")
    a = train_small(tmp_path / "memory", small_npz, epochs=2)
    b = train_small(tmp_path / "disk", conv, epochs=2)
    wa, wb = load_file(a / "weights.safetensors"), load_file(b / "weights.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.slow
def test_conv_vae_trains_on_64x64_images_read_from_disk(folder, tmp_path, capsys):
    code, out, err = run_cli(capsys, "convert", folder, tmp_path / "rgb64", "--rgb", "--size", "64")
    assert code == 0, err
    assert out.startswith(f"wrote {tmp_path / 'rgb64'}: 270 train + 30 test images of 3x64x64")
    run = fit(tmp_path / "run", ModelConfig(arch="conv", latent_dim=8, hidden=(64,)),
              DataConfig(str(tmp_path / "rgb64")), TrainConfig(epochs=2, batch_size=32, device="cpu"),
              log=lambda s: None)
    rows = [__import__("json").loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[1]["train_neg_elbo"] < rows[0]["train_neg_elbo"] and all(np.isfinite(r["test_neg_elbo"])
                                                                           for r in rows)
    assert '"image_shape": [\n      3,\n      64,\n      64\n    ]' in (run / "config.json").read_text()


def test_pages_are_released_while_reading(tmp_path):
    n = 20_000                                                   # 20,000 x 3 x 32 x 32 = 61 MB
    chunks = [(np.full((1000, 3, 32, 32), k % 251, np.uint8), None) for k in range(n // 1000)]
    out = mapped.write(tmp_path / "big", {"train": (n, chunks), "test": (1000, chunks[:1])}, "synthetic")
    images, _ = mapped.load(out, "train")

    def resident_file_kb():
        line = next(x for x in open("/proc/self/status") if x.startswith("RssFile:"))
        return int(line.split()[1])

    before, peak = resident_file_kb(), 0
    for idx in torch.randperm(n).split(128):
        batch = images[idx]
        peak = max(peak, resident_file_kb() - before)
    assert batch.shape == (len(idx), 3, 32, 32) and torch.equal(batch[:, 0, 0, 0], (idx // 1000 % 251).to(torch.uint8))
    assert peak < 20_000                          # KB: one batch's pages (128 rows x up to 64 KB), not the 61 MB read


def test_refusals_leave_nothing(folder, tmp_path, small_npz):
    (tmp_path / "taken").mkdir()
    with pytest.raises(DataError, match="already exists"):
        mapped.convert(small_npz, tmp_path / "taken")
    bad = tmp_path / "bad"
    bad.mkdir()
    for k in range(3):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(bad / f"{k}.png")
    (bad / "3.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="3.png: not a readable image"):
        mapped.convert(bad, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "taken"]      # no output, no temporary folder
    with pytest.raises(DataError, match="convert takes an image folder or an .npz"):
        mapped.convert(tmp_path / "nothing.txt", tmp_path / "out")


def test_damaged_converted_files_are_one_line_errors(small_npz, tmp_path):
    out = mapped.convert(small_npz, tmp_path / "conv")
    data = out / "train_images.npy"
    data.write_bytes(data.read_bytes()[:-100])
    with pytest.raises(DataError, match="train_images.npy: not a converted image file") as e1:
        datasets.load(out, "train")
    (out / "mapped.json").write_text("{")
    with pytest.raises(DataError, match="mapped.json: unreadable") as e2:
        datasets.load(out, "test")
    fresh = mapped.convert(small_npz, tmp_path / "conv2")
    with pytest.raises(DataError, match="convert the source again") as e3:
        datasets.load(fresh, "train", greyscale=False)
    assert all("\n" not in str(e.value) for e in (e1, e2, e3))
