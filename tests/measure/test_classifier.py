"""The digit classifier shipped with the package: the judge of decoded images and the feature network."""

import hashlib
import re
import subprocess
import sys

import pytest
import safetensors.torch
import torch

from latentwalk.data import datasets
from latentwalk.errors import ConfigError
from latentwalk.measure import classifier, scores

from conftest import ROOT


def test_the_shipped_network_is_the_recorded_one(digit_net):
    assert hashlib.sha256(classifier.FILE.read_bytes()).hexdigest() == classifier.SHA256
    images, labels = datasets.load("mnist", "test")
    assert classifier.accuracy(digit_net, images, labels) == pytest.approx(classifier.TEST_ACCURACY, abs=1e-4)
    assert classifier.TEST_ACCURACY >= 0.985
    verdict = classifier.judge(digit_net, images[:100].float() / 255)
    assert (verdict["digit"] == labels[:100]).float().mean() > 0.95
    assert verdict["confidence"].min() > 0.1 and (verdict["entropy"] >= 0).all()
    assert classifier.INFO == {"network": "mnist_digitnet.safetensors", "sha256": classifier.SHA256,
                               "features": 128, "test_accuracy": classifier.TEST_ACCURACY}


def test_features_are_what_the_last_layer_reads(digit_net):
    images = datasets.load("mnist", "test")[0][:50]
    f = classifier.features(digit_net, images)
    assert f.shape == (50, 128) and f.dtype == torch.float32 and (f >= 0).all()
    logits = digit_net(images.float() / 255)
    torch.testing.assert_close(digit_net.fc2(f), logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(classifier.features(digit_net, images.float() / 255), f)    # uint8 or float in [0, 1]


def test_a_damaged_network_is_refused(tmp_path, monkeypatch):
    damaged = tmp_path / classifier.FILE.name
    data = bytearray(classifier.FILE.read_bytes())
    data[len(data) // 2] ^= 1                                          # one bit flipped in the weights
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(classifier, "FILE", damaged)
    with pytest.raises(ConfigError, match="is damaged .its SHA-256 is not the one recorded.; reinstall") as e:
        classifier.load()
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_the_training_script_reruns(tmp_path):
    out = tmp_path / "net.safetensors"
    p = subprocess.run([sys.executable, "tools/train_feature_net.py", "--epochs", "1", "--limit", "3000",
                        "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    sha = re.search(r'SHA256 = "([0-9a-f]{64})"', p.stdout).group(1)
    assert sha == hashlib.sha256(out.read_bytes()).hexdigest()
    assert float(re.search(r"TEST_ACCURACY = ([0-9.]+)", p.stdout).group(1)) > 0.85      # 3,000 images, 1 epoch
    classifier.DigitNet().load_state_dict(safetensors.torch.load_file(out))


def test_scorers_put_the_classifier_first_then_sharpness(digit_net):
    images = datasets.load("mnist", "test")[0][:20].float().numpy() / 255
    names = [list(s(images)) for s in scores.scorers(digit_net)]
    assert names == [["digit", "confidence", "entropy"], ["sharpness"]]
    assert [list(s(images)) for s in scores.scorers(None)] == [["sharpness"]]
    blurred = (images + images[:, :, ::-1] + images[:, :, :, ::-1]) / 3                 # softer strokes
    assert (scores.sharpness(blurred)["sharpness"] < scores.sharpness(images)["sharpness"]).all()
