"""The epoch-slider store: a real tiny run records probes every epoch; a reader gets them back."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.probes.confusion import SplitPredictions
from cnnstudio.core.probes.recorder import ProbeStore, choose_probe_images
from cnnstudio.core.training.engine import run
from cnnstudio.core.training.events import ProbeReady


@pytest.mark.slow
def test_every_classification_run_records_probes_and_reader_reopens_it(tmp_path):
    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 16}
    config.training.epochs, config.training.batch_size = 2, 64
    dataset = load_dataset(config.dataset)
    images, labels = choose_probe_images(dataset, count=8)     # what the engine records
    assert labels.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    events = []
    run_dir = tmp_path / "run"
    result = run(config, run_dir=run_dir, sink=events.append)
    assert result.status == "finished"

    store = ProbeStore(run_dir)               # as if reopened after a restart
    assert store.epochs() == [1, 2]
    meta = store.meta()
    assert meta["map_layers"] == {"c1": [16, 16, 6], "s2": [8, 8, 6], "c3": [4, 4, 16],
                                  "s4": [2, 2, 16]}
    stored_images, stored_labels = store.images()
    np.testing.assert_array_equal(stored_images, images)
    first, last = store.load(1), store.load(2)
    assert first.filters["c1"].shape == (5, 5, 1, 6) and first.maps["c3"].shape == (8, 4, 4, 16)
    assert first.probs.shape == (8, 10)
    assert not np.allclose(first.filters["c1"], last.filters["c1"])   # training moved them
    np.testing.assert_allclose(first.probs.sum(axis=1), 1, atol=1e-2)
    ready = [e for e in events if isinstance(e, ProbeReady) and e.name == "epoch"]
    assert [e.epoch for e in ready] == [1, 2] and ready[1].payload.maps.keys() == last.maps.keys()
    # Compact: a few kilobytes per epoch for LeNet on 16×16 digits.
    assert (run_dir / "probes" / "epoch-0002.npz").stat().st_size < 40_000

    preds = SplitPredictions.for_run(run_dir)
    assert preds.probs.shape == (len(dataset.test), 10)
    again = SplitPredictions.for_run(run_dir)          # from the cache this time
    np.testing.assert_array_equal(again.probs, preds.probs)
    assert (run_dir / "probes" / "test-predictions.npz").is_file()
