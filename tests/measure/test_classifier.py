"""The digit classifier that judges decoded images: accurate, cached, and trained again when its file is damaged."""

import shutil

from latentwalk.data import datasets
from latentwalk.measure import classifier, scores


def test_classifier_accuracy(judge):
    images, labels = datasets.load("mnist", "test")
    assert classifier.accuracy(judge, images, labels) >= 0.985
    verdict = classifier.judge(judge, images[:100].float() / 255)
    assert (verdict["digit"] == labels[:100]).float().mean() > 0.95
    assert verdict["confidence"].min() > 0.1 and (verdict["entropy"] >= 0).all()


def test_classifier_is_cached(judge, cache):
    messages = []
    again = classifier.load(cache, log=messages.append)                  # from the cache: same weights, no training
    assert messages == []
    assert all((a == b).all() for a, b in zip(judge.state_dict().values(), again.state_dict().values()))


def test_classifier_is_rebuilt_when_damaged(judge, cache, tmp_path):
    damaged = tmp_path / classifier.FILE
    shutil.copy(cache / classifier.FILE, damaged)
    with open(damaged, "r+b") as f:                                     # cut the file in half
        f.truncate(damaged.stat().st_size // 2)
    messages = []
    net = classifier.load(tmp_path, log=messages.append)
    assert "is unreadable: training the digit classifier again" in messages[0]
    images, labels = datasets.load("mnist", "test")
    assert classifier.accuracy(net, images, labels) >= 0.985
    assert damaged.stat().st_size == (cache / classifier.FILE).stat().st_size    # whole again
    trained = len(messages)
    reloaded = classifier.load(tmp_path, log=messages.append)            # and read back without training
    assert len(messages) == trained and all((a == b).all() for a, b in zip(net.state_dict().values(),
                                                                        reloaded.state_dict().values()))


def test_scorers_put_the_classifier_first_then_sharpness(judge):
    images = datasets.load("mnist", "test")[0][:20].float().numpy() / 255
    names = [list(s(images)) for s in scores.scorers(judge)]
    assert names == [["digit", "confidence", "entropy"], ["sharpness"]]
    assert [list(s(images)) for s in scores.scorers(None)] == [["sharpness"]]
    blurred = (images + images[:, :, ::-1] + images[:, :, :, ::-1]) / 3                 # softer strokes
    assert (scores.sharpness(blurred)["sharpness"] < scores.sharpness(images)["sharpness"]).all()
