"""TensorBoard: the event files of a run, read back with TensorBoard's own reader, hold what metrics.jsonl holds;
a run interrupted after its events but before its checkpoint resumes without a repeated step."""

import numpy as np
import pytest

from conftest import Interrupted, train_small
from latentwalk.data import datasets
from latentwalk.run import checkpoint
from latentwalk.training import board
from latentwalk.training.fit import fit

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def test_events_equal_the_metrics_and_resume_continues_them(tmp_path, small_npz, monkeypatch):
    run = tmp_path / "run"
    save = checkpoint.save_state

    def killed_at_epoch_3(run_dir, cfg, model, optimizer, epoch, metrics):
        if epoch == 3:
            raise Interrupted("killed after epoch 3's events, before its checkpoint")
        return save(run_dir, cfg, model, optimizer, epoch, metrics)

    monkeypatch.setattr(checkpoint, "save_state", killed_at_epoch_3)
    with pytest.raises(Interrupted):
        train_small(run, small_npz, epochs=3, tensorboard=True)
    monkeypatch.setattr(checkpoint, "save_state", save)
    fit(run, resume=True, epochs=4, log=lambda s: None)        # no --tensorboard: the run has its logs, it goes on

    rows = checkpoint.read_metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    events = event_accumulator.EventAccumulator(str(run / board.FOLDER), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    for tag, key in {**board.SCALARS, "schedule/kl_weight": "kl_scale"}.items():
        got = events.Scalars(tag)
        assert [e.step for e in got] == [1, 2, 3, 4], tag                   # epoch 3 once: the first one purged
        np.testing.assert_allclose([e.value for e in got], [r[key] for r in rows], rtol=1e-6, err_msg=tag)
    for tag in ("prior samples", "reconstructions (top: test images)"):
        assert [e.step for e in events.Images(tag)] == [1, 4]                 # the first epoch and the last
        first = events.Images(tag)[0]
        assert first.width > 28 * 4 and first.height > 28 and first.encoded_image_string[:4] == b"\x89PNG"
    projector = (run / board.FOLDER / "projector_config.pbtxt").read_text()
    assert projector.count("embeddings {") == 1 and "00004" in projector
    labels = (run / board.FOLDER / "00004" / "test codes" / "metadata.tsv").read_text().split()
    assert labels == [str(v) for v in datasets.load(str(small_npz), "test")[1].tolist()]     # 200 held-out digits
    codes = np.loadtxt(run / board.FOLDER / "00004" / "test codes" / "tensors.tsv")
    assert codes.shape == (200, 2) and np.isfinite(codes).all()
