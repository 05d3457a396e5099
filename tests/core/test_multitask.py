"""Multi-task learning (chapter 5): datasets with several label sets, one trunk with a head per
task, the weighted total loss, a subset of heads as the single-task baseline, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.errors import DataError, ModelError, StudioError
from cnnstudio.core.families.classification import multitask_data as md
from cnnstudio.core.registry import ARCHITECTURES, TASKS
from cnnstudio.core.training import engine
from cnnstudio.core.training.rundir import RunDir


def tiny(epochs=1, tasks="all", weights=(1.0, 1.0, 1.0), seed=3, batch_size=16) -> RunConfig:
    """24×24 scenes, 64 training images: a run of a few seconds."""
    options = {"filters": 4, "head_units": 8, "tasks": tasks,
               **{f"weight_{i}": w for i, w in enumerate(weights, start=1)}}
    return RunConfig(dataset=DatasetConfig("scenes-multitask",
                                           {"size": 24, "count": 64, "test_count": 32}),
                     model=ModelConfig("multitask", options),
                     training=TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed,
                                          validation_split=0.25, steps_per_call=1))


def test_scene_labels_are_what_the_picture_shows():
    images, labels = md.generate_scenes(40, 48, 11)
    colours = np.array(list(md.COLOURS.values()))
    for image, (_shape, colour, count) in zip(images, labels, strict=True):
        # Nearest palette colour per pixel (the noise is small); background is far from all.
        dist = np.abs(image[..., None, :].astype(int) - colours).sum(-1)
        painted = dist.min(-1) < 60
        blobs, found = ndimage.label(painted)
        assert found == count + 1                      # objects never touch
        sizes = np.bincount(blobs.ravel())[1:]
        largest = blobs == 1 + int(np.argmax(sizes))
        assert np.bincount(dist.argmin(-1)[largest]).argmax() == colour


def test_mnist_multitask_derives_parity_and_high_from_the_digit():
    data = load_dataset(DatasetConfig("mnist-multitask", {}))
    assert list(data.task_classes) == ["digit", "parity", "high"]
    assert data.num_classes == 10 and data.num_classes.heads == {"digit": 10, "parity": 2,
                                                                   "high": 2}
    digit = data.train.tasks["digit"]
    np.testing.assert_array_equal(data.train.y, digit)
    np.testing.assert_array_equal(data.train.tasks["parity"], digit % 2)
    np.testing.assert_array_equal(data.test.tasks["high"], data.test.y >= 5)
    assert (len(data.train), len(data.test)) == (4500, 500)
    assert data.info()["tasks"]["high"] == ["< 5", "≥ 5"]


def test_the_loss_is_the_weighted_sum_of_the_heads_losses():
    data = load_dataset(DatasetConfig("scenes-multitask", {"size": 24, "count": 32,
                                                           "test_count": 16}))
    arch, task = ARCHITECTURES.get("multitask"), TASKS.get("multitask")
    options = arch.options({"filters": 4, "head_units": 8, "weight_1": 2.0, "weight_2": 0.5,
                            "weight_3": 0.0})
    cfg = TrainConfig(batch_size=16, seed=1, validation_split=0.0)
    task.check(data, options, cfg)
    model = task.build_model(arch, data.input_shape, data.num_classes, options, cfg)
    assert [model.get_layer(k).units for k in ("task1", "task2", "task3")] == [4, 4, 4]
    fit = task.prepare(data, data.input_shape, cfg, lambda event: None)
    task.compile(model, cfg, fit)
    x, y = fit.test
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    pred = model.predict_on_batch(x.astype(np.float32))
    for key in ("task1", "task2", "task3"):      # each head's loss: mean −log p(true class)
        p = np.asarray(pred[key])[np.arange(len(x)), y[key]]
        assert logs[f"{key}_loss"] == pytest.approx(-np.log(p).mean(), rel=1e-4)
    total = 2.0 * logs["task1_loss"] + 0.5 * logs["task2_loss"] + 0.0 * logs["task3_loss"]
    assert logs["loss"] == pytest.approx(total, rel=1e-4)


def test_a_plain_classification_dataset_is_refused_naming_the_tasks(runs_root):
    config = RunConfig(dataset=DatasetConfig("digits", {"size": 12}),
                       model=ModelConfig("multitask", {}), training=TrainConfig(epochs=1))
    with pytest.raises(DataError) as caught:
        engine.run(config, runs_root=runs_root)
    text = str(caught.value)
    assert "dataset digits has one label set" in text
    assert "scenes-multitask (shape, colour, count)" in text and "mnist-multitask" in text
    assert not any(runs_root.iterdir())            # said before the run folder exists


def test_a_subset_of_heads_and_a_task_the_dataset_lacks():
    assert md.selected_heads("1+3", ["shape", "colour", "count"]) == [("task1", "shape"),
                                                                    ("task3", "count")]
    with pytest.raises(DataError, match="has 2 tasks \\(a, b\\), not task 3"):
        md.selected_heads("3", ["a", "b"])


def test_the_mobilenet_trunk_needs_cached_weights():
    counts = md.HeadCounts({"shape": 4, "colour": 4})
    with pytest.raises(ModelError, match="not there: train a 'transfer' model"):
        ARCHITECTURES.get("multitask").build_fn((48, 48, 3), counts, trunk="mobilenetv2")
    with pytest.raises(ModelError, match="at least 32×32"):
        ARCHITECTURES.get("multitask").build_fn((28, 28, 1), counts, trunk="mobilenetv2")


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    """A three-head run and a single-head (colour) run of the same trunk."""
    root = tmp_path_factory.mktemp("multitask-runs")
    multi = engine.run(tiny(epochs=2), runs_root=root)
    single = engine.run(tiny(epochs=1, tasks="2"), runs_root=root)
    return multi, single


@pytest.mark.slow
def test_a_run_records_each_heads_curves_and_test_accuracy(finished_runs):
    multi, _ = finished_runs
    assert multi.status == "finished", multi.summary
    run = RunDir(multi.run_dir)
    epochs = [r for r in run.records({"epoch_end"})]
    assert len(epochs) == 2
    logs = epochs[-1]["logs"]
    for key in ("task1", "task2", "task3"):
        assert {f"{key}_loss", f"{key}_accuracy", f"val_{key}_accuracy"} <= set(logs)
    evaluation = json.loads((run.path / "evaluation.json").read_text())
    assert list(evaluation)[:3] == ["shape_accuracy", "colour_accuracy", "count_accuracy"]
    colour = evaluation["heads"]["colour"]
    assert np.asarray(colour["confusion"]).sum() == 32          # every test scene, once
    assert np.trace(colour["confusion"]) / 32 == pytest.approx(colour["accuracy"])
    assert multi.summary["test"]["task2_accuracy"] == pytest.approx(colour["accuracy"])
    assert run.read_json("dataset.json")["tasks"]["count"] == ["1", "2", "3", "4"]


def test_one_head_is_the_single_task_baseline(finished_runs):
    multi, single = finished_runs
    evaluation = json.loads((RunDir(single.run_dir).path / "evaluation.json").read_text())
    assert list(evaluation["heads"]) == ["colour"]
    logs = RunDir(single.run_dir).records({"epoch_end"})[-1]["logs"]
    assert {"task2_accuracy", "task2_loss", "val_task2_accuracy"} <= set(logs)
    assert "task1_loss" not in logs
    # The same trunk: the multi-task model is the single one plus two heads of 4 classes.
    head = (16 * 8 + 8) + (8 * 4 + 4)
    assert evaluation["params"] + 2 * head == json.loads(
        (RunDir(multi.run_dir).path / "evaluation.json").read_text())["params"]


def test_unknown_subset_is_a_config_problem():
    config = tiny(tasks="4")
    with pytest.raises(StudioError, match="tasks must be one of all, 1, 2, 3"):
        config.check()


def test_every_head_answers_an_image_from_the_saved_model(finished_runs):
    from cnnstudio.core.families.classification.multitask_task import predict_tasks
    from cnnstudio.core.predict import load_model_file

    run = RunDir(finished_runs[0].run_dir)
    model = load_model_file(run.path / "model.keras")
    answers = predict_tasks(model, np.zeros((60, 50, 3), np.uint8), run.read_json("dataset.json"))
    assert [task for task, _ in answers] == ["shape", "colour", "count"]
    shape_rows = dict(answers)["shape"]
    assert len(shape_rows) == 3 and {label for label, _ in shape_rows} <= set(md.SHAPES)
    probs = [p for _, p in shape_rows]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
