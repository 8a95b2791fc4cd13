"""The measures kept in a run folder (measures.json): merged by name, stored only with the weights they were
taken of, dropped once training goes on, and a damaged file is a one-line error that the next measure
replaces."""

import json
import shutil

import numpy as np
import pytest

from latentwalk.errors import RunError
from latentwalk.measure import classifier, model_measures, ppl, samplers, stored
from latentwalk.run import checkpoint
from latentwalk.run.model_source import open_folder
from latentwalk.training.fit import fit


@pytest.fixture
def run(tmp_path, small_run):
    return shutil.copytree(small_run, tmp_path / "run")


def test_measures_merge_by_name(run):
    assert stored.read(run) is None
    sha = checkpoint.weights_sha256(run)
    stored.store(run, sha, [{"sampler": "prior", "n": 10, "frechet_distance": 5.0}], {"lerp": (2.0, 100)})
    stored.store(run, sha, [{"sampler": "gmm", "n": 20, "frechet_distance": 3.0},
                       {"sampler": "prior", "n": 20, "frechet_distance": 4.0}], {"slerp": (4.0, 200)})
    got = stored.read(run)
    assert {s: (r["n"], r["frechet_distance"]) for s, r in got["samples"].items()} == {"prior": (20, 4.0),
                                                                                      "gmm": (20, 3.0)}
    assert got["paths"] == {"lerp": {"ppl": 2.0, "paths": 100, "epsilon": ppl.EPSILON},
                            "slerp": {"ppl": 4.0, "paths": 200, "epsilon": ppl.EPSILON}}
    assert got["network"] == classifier.INFO
    assert json.loads((run / stored.FILE).read_text()) == got


def test_measures_of_earlier_weights_are_not_shown(run):
    stored.store(run, checkpoint.weights_sha256(run), [{"sampler": "prior", "n": 10}], {"lerp": (2.0, 100)})
    fit(run, resume=True, epochs=4, log=lambda s: None)                  # one more epoch: new weights
    assert stored.read(run) is None
    stored.store(run, checkpoint.weights_sha256(run), [{"sampler": "gmm", "n": 10}])
    assert set(stored.read(run)["samples"]) == {"gmm"} and stored.read(run)["paths"] == {}


@pytest.mark.parametrize("text", ["{", "[]", '{"weights_sha256": "x"}', '{"weights_sha256": "x", "samples": [], '
                                  '"paths": {}}', "\udcff"])
def test_a_damaged_file_is_one_line_and_replaced_by_the_next_measure(run, text):
    (run / stored.FILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(RunError, match=r"measures\.json: damaged .*latentwalk measure") as e:
        stored.read(run)
    assert "\n" not in str(e.value)
    stored.store(run, checkpoint.weights_sha256(run),
                 [{"sampler": "prior", "n": 10, "frechet_distance": np.float64(1.5).item()}])
    assert stored.read(run)["samples"]["prior"]["frechet_distance"] == 1.5


def test_numbers_of_weights_replaced_while_measuring_are_not_stored(run):
    """The weights change (training goes on) between loading the model and storing its numbers: nothing is
    stored under the new weights' hash, neither the measures nor the mixture, and one line says so."""
    source = open_folder(run)                                   # the explorer's model, loaded at its start
    loaded = source.model.weights_sha256
    assert loaded == checkpoint.weights_sha256(run)
    fit(run, resume=True, epochs=4, log=lambda s: None)         # another process trains one more epoch
    lines = []
    rows = model_measures.measure(source, ["prior", "gmm"], n=200, paths=100, geodesic_paths=10, log=lines.append)
    assert [r["sampler"] for r in rows] == ["real", "prior", "gmm"]        # the numbers are shown
    assert not (run / stored.FILE).exists() and not (run / samplers.GMM_FILE).exists()
    assert lines[-1] == (f"{run}: its weights changed while it was measured (training went on): the numbers above "
                         f"are of the weights loaded before and are not stored")
    assert "not stored: the run's weights changed since they were loaded" in lines[-2]
    # measured again from the new weights: fitted again (no stale mixture) and stored under their hash
    rows = model_measures.measure(run, ["gmm"], n=200, paths=100, geodesic_paths=10, log=lines.append)
    assert samplers.load_mixture(run).model_sha256 == checkpoint.weights_sha256(run) != loaded
    assert stored.read(run)["weights_sha256"] == checkpoint.weights_sha256(run)
