import gzip
import hashlib
import http.server
import shutil
import struct
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from latentwalk.data import datasets
from latentwalk.errors import DataError

from conftest import ROOT

MNIST = ROOT / "src" / "latentwalk" / "data" / "mnist"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ------------------------------------------------------------------ IDX reader

def test_idx_reads_plain_and_gz(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(a))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.idx"), a)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.idx.gz"), a)
    f = np.array([1.5, -2.25], dtype=np.float32)
    (tmp_path / "f.idx").write_bytes(idx_bytes(f, 0x0D))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "f.idx"), f)


def test_idx_magic_number_of_mnist_files():
    raw = datasets.read_bytes(MNIST / "t10k-labels-idx1-ubyte.gz")
    assert int.from_bytes(raw[:4], "big") == 2049
    raw = datasets.read_bytes(MNIST / "t10k-images-idx3-ubyte.gz")
    assert int.from_bytes(raw[:4], "big") == 2051


@pytest.mark.parametrize("cut", [2, 80, 89])      # of 91 bytes: in the data, inside the header, in the magic
def test_idx_truncated_file_is_a_one_line_error(tmp_path, cut):
    a = np.zeros((3, 5, 5), np.uint8)
    path = tmp_path / "t.idx"
    path.write_bytes(idx_bytes(a)[:-cut])
    with pytest.raises(DataError) as e:
        datasets.read_idx(path)
    assert str(path) in str(e.value) and "truncated" in str(e.value) and "\n" not in str(e.value)


def test_idx_longer_than_header(tmp_path):
    path = tmp_path / "t.idx"
    path.write_bytes(idx_bytes(np.zeros((2, 2), np.uint8)) + b"\0")
    with pytest.raises(DataError, match="longer than its header"):
        datasets.read_idx(path)


@pytest.mark.parametrize("magic", [b"\x00\x00\x08\x00", b"\x01\x00\x08\x03", b"\x00\x00\x07\x03", b"PK\x03\x04"])
def test_idx_wrong_magic(tmp_path, magic):
    path = tmp_path / "w.idx"
    path.write_bytes(magic + b"\0" * 40)
    with pytest.raises(DataError, match="not an IDX file"):
        datasets.read_idx(path)


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((10, 4, 4), np.uint8)))
    path = tmp_path / "c.idx.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        datasets.read_idx(path)


# ------------------------------------------------------------------ bundled MNIST

def test_mnist_facts():
    x, y = datasets.load("mnist", "train")
    assert x.shape == (60000, 1, 28, 28) and x.dtype == torch.uint8 and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == TRAIN_COUNTS
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    x, y = datasets.load("mnist", "test")
    assert x.shape == (10000, 1, 28, 28)
    assert torch.bincount(y).tolist() == TEST_COUNTS
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_bundle_checksums_match_its_readme():
    readme = (MNIST / "README.md").read_text()
    for name, checksum in datasets.NAMED["mnist"].checksums.items():
        assert checksum.hexdigest in readme
        assert hashlib.sha256(gzip.decompress((MNIST / name).read_bytes())).hexdigest() == checksum.hexdigest


def test_changed_dataset_file_is_reported(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(MNIST, folder)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="checksum mismatch"):
        datasets.load("mnist", "test", directory=tmp_path)


def test_unknown_name_and_split():
    with pytest.raises(DataError, match="unknown data set 'cifar'"):
        datasets.load("cifar")
    with pytest.raises(DataError, match="unknown split"):
        datasets.load("mnist", "valid")


# ------------------------------------------------------------------ downloads (local HTTP server)

@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_download_verifies_and_loads(server, tmp_path):
    root, url = server
    for f in MNIST.glob("*.gz"):
        shutil.copy(f, root / f.name)
    cache = tmp_path / "cache"
    folder = datasets.download("mnist", cache, mirrors=[url])
    assert sorted(p.name for p in folder.iterdir()) == sorted(datasets.NAMED["mnist"].checksums)
    x, y = datasets.load("mnist", "test", directory=cache)
    assert len(x) == 10000 and y[:3].tolist() == [7, 2, 1]


def test_download_falls_back_to_next_mirror(server, tmp_path):
    root, url = server
    for f in MNIST.glob("*.gz"):
        shutil.copy(f, root / f.name)
    folder = datasets.download("mnist", tmp_path / "cache", mirrors=["http://127.0.0.1:9/", url])
    assert len(list(folder.glob("*.gz"))) == 4


def test_corrupt_download_leaves_nothing(server, tmp_path):
    root, url = server
    for f in MNIST.glob("*.gz"):
        shutil.copy(f, root / f.name)
    data = (root / "train-labels-idx1-ubyte.gz").read_bytes()
    (root / "train-labels-idx1-ubyte.gz").write_bytes(data[:-50])
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="could not download mnist file train-labels"):
        datasets.download("mnist", cache, mirrors=[url])
    # the good file before it stays; the bad one and its temporary file are gone
    assert [p.name for p in (cache / "mnist").iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_fashion_mnist_rejects_files_that_are_not_fashion(server, tmp_path):
    root, url = server
    for f in MNIST.glob("*.gz"):
        shutil.copy(f, root / f.name)
    with pytest.raises(DataError, match="md5 checksum mismatch"):
        datasets.download("fashion-mnist", tmp_path / "cache", mirrors=[url])


def test_offline_error_says_where_to_put_files(tmp_path):
    with pytest.raises(DataError) as e:
        datasets.download("fashion-mnist", tmp_path / "cache", mirrors=["http://127.0.0.1:9/"])
    msg = str(e.value)
    assert "offline, copy the four files" in msg and str(tmp_path / "cache" / "fashion-mnist") in msg


# ------------------------------------------------------------------ npz and image folders

def test_npz_holds_out_a_fixed_tenth(small_npz):
    x_train, y_train = datasets.load(small_npz, "train")
    x_test, y_test = datasets.load(small_npz, "test")
    assert len(x_train) == 1800 and len(x_test) == 200 and x_train.shape[1:] == (1, 28, 28)
    assert torch.equal(datasets.load(small_npz, "test")[0], x_test)
    rows = {bytes(r) for r in x_train.reshape(1800, -1).numpy()}
    assert not any(bytes(r) in rows for r in x_test.reshape(200, -1).numpy()[:50])


def test_npz_with_splits_and_float_channels_last(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "s.npz"
    np.savez(path, x_train=rng.random((6, 8, 8, 3), dtype=np.float32), x_test=rng.random((2, 8, 8, 3), dtype=np.float32))
    x, y = datasets.load(path, "test")
    assert x.shape == (2, 3, 8, 8) and x.dtype == torch.uint8 and y is None
    g, _ = datasets.load(path, "train", greyscale=True, size=(4, 4))
    assert g.shape == (6, 1, 4, 4)


@pytest.mark.parametrize("arrays, message", [
    ({"images": np.zeros((4, 8, 8), np.uint8)}, "needs an array 'x'"),
    ({"x": np.zeros((4, 8), np.uint8)}, "images must have shape"),
    ({"x": np.full((4, 8, 8), 2.0)}, "within \\[0, 1\\]"),
    ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.zeros(3, np.int64)}, "labels 'y'"),
])
def test_npz_bad_content(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        datasets.load(path)


def test_npz_not_a_zip(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        datasets.load(path)


def test_image_folder_with_labels_greyscale_and_resize(tmp_path, mnist_train):
    images, labels = mnist_train
    for i in range(20):
        folder = tmp_path / "digits" / f"class{labels[i].item()}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i, 0].numpy()).convert("RGB").save(folder / f"{i}.png")
    x, y = datasets.load(tmp_path / "digits", "train", greyscale=True)
    assert x.shape == (18, 1, 28, 28) and y is not None and len(y) == 18
    x, _ = datasets.load(tmp_path / "digits", "test", size=(14, 14))
    assert x.shape == (2, 3, 14, 14)
    (tmp_path / "digits" / "class5" / "broken.png").write_bytes(b"\x89PNG nope")
    with pytest.raises(DataError, match="not a readable image"):
        datasets.load(tmp_path / "digits")


def test_to_float_and_dynamic_binarization(mnist_train):
    x = mnist_train[0][:64]
    f = datasets.to_float(x)
    assert f.dtype == torch.float32 and 0 <= f.min() and f.max() <= 1
    g = torch.Generator().manual_seed(0)
    b1, b2 = datasets.to_float(x, True, g), datasets.to_float(x, True, g)
    assert set(b1.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(b1, b2)                    # a fresh draw each time
    assert abs(b1.mean().item() - f.mean().item()) < 0.01
