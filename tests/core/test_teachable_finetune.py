"""Fine-tuning an imported Teachable Machine run: the from-run architecture starts from the
run's weights, puts the output columns in the folder dataset's class order, and trains."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import ModelError
from tests.core.test_teachable_gradcam import write_export

LABELS = ["Dogs", "Cats", "Empty desk"]          # TM's order; a folder's is alphabetical


def _folder(root, per_class=6):
    rng = np.random.default_rng(0)
    for c, name in enumerate(sorted(LABELS)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            picture = np.full((224, 224, 3), 40 + 90 * c, np.uint8)
            picture += rng.integers(0, 30, picture.shape, dtype=np.uint8)
            cv2.imwrite(str(root / name / f"{i}.png"), picture)
    return root


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from cnnstudio.core.families.classification.teachable_import import import_teachable

    folder = tmp_path_factory.mktemp("converted_keras")
    h5, labels = write_export(folder, names=LABELS)
    return import_teachable(h5, labels, runs_root=tmp_path_factory.mktemp("runs"))


def test_from_run_keeps_the_weights_in_the_folders_class_order(imported, tmp_path):
    from cnnstudio.core.families.classification.from_run import build_from_run
    from cnnstudio.core.families.classification.from_run_task import INSTANCE
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.training.tasks import FitData

    original = load_model_file(imported / "model.keras")
    model = build_from_run((224, 224, 3), 3, run=str(imported), train="head")
    data = FitData({}, None, 0, 0, 0, 1, extra={"class_names": sorted(LABELS)})
    INSTANCE.compile(model, TrainConfig(epochs=1), data)
    x = np.random.default_rng(1).integers(0, 256, (2, 224, 224, 3)).astype(np.float32)
    want = np.asarray(original.predict(x, verbose=0))[:, [LABELS.index(n)
                                                          for n in sorted(LABELS)]]
    np.testing.assert_allclose(model.predict(x, verbose=0), want, atol=1e-5)
    learning = [layer.name for layer in model._flatten_layers(include_self=False)
                if layer.trainable and layer.weights and not layer._flatten_layers(
                    include_self=False)]
    assert learning and all("dense" in name for name in learning)   # only the head


def test_fine_tuning_trains_on_a_folder(imported, tmp_path):
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.rundir import RunDir

    data = _folder(tmp_path / "photos")
    config = RunConfig(dataset=DatasetConfig("folder", {"path": str(data), "image_size": 224,
                                                       "channels": 3}),
                       model=ModelConfig("from-run", {"run": str(imported), "train": "head"}),
                       training=TrainConfig(epochs=3, batch_size=8, learning_rate=0.05,
                                            validation_split=0.0))
    result = engine.run(config, runs_root=tmp_path / "runs")
    assert result.status == "finished", result.summary
    epochs = RunDir.open(result.run_dir).records({"epoch_end"})
    losses = [row["logs"]["loss"] for row in epochs]
    assert len(losses) == 3 and losses[-1] < losses[0], losses
    assert 0.0 <= epochs[-1]["logs"]["accuracy"] <= 1.0


def test_from_run_says_what_is_wrong(imported, tmp_path):
    from cnnstudio.core.families.classification.from_run import build_from_run

    with pytest.raises(ModelError, match="needs the option run"):
        build_from_run((224, 224, 3), 3, run="")
    with pytest.raises(ModelError, match="not a run directory"):
        build_from_run((224, 224, 3), 3, run=str(tmp_path))
    with pytest.raises(ModelError, match="set the dataset options image_size=224 channels=3"):
        build_from_run((64, 64, 3), 3, run=str(imported))
    model = build_from_run((224, 224, 3), 5, run=str(imported))     # other classes
    assert model.outputs[0].shape[-1] == 5
