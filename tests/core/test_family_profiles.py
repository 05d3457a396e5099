"""What a family declares, read without TensorFlow: its architectures, its task's profile
(curves, prediction behaviour, best metric), and a layer table that opens its sub-models."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cnnstudio.core.families.profile import CLASSIFIER, arch_profile, task_profile


def test_profiles_are_known_before_tensorflow_loads():
    code = ("import sys; from cnnstudio.core.families.profile import arch_profile; "
            "p = arch_profile('conv-autoencoder'); "
            "print(p.task, p.prediction, p.best_metric, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["autoencoder", "reconstruct", "val_loss", "False"]


def test_classifiers_and_unknown_tasks_get_the_classifier_curves():
    assert arch_profile("lenet5") is CLASSIFIER
    assert arch_profile("transfer").plots == CLASSIFIER.plots
    assert task_profile("a-plug-in-task").plots == CLASSIFIER.plots


def test_layer_table_opens_sub_models_one_level():
    from cnnstudio.core.architecture import layer_table
    from cnnstudio.core.registry import ARCHITECTURES

    model = ARCHITECTURES.get("conv-autoencoder").build((28, 28, 1), 10, {})
    rows = layer_table(model)
    names = [r["name"] for r in rows]
    assert names[0].startswith("encoder/") and names[-1].startswith("decoder/")
    assert sum(r["params"] for r in rows) == model.count_params() == 4385


@pytest.mark.parametrize("model_id", ["lenet5", "mlp"])
def test_layer_table_of_a_plain_model_is_unchanged(model_id):
    from cnnstudio.core.architecture import layer_table
    from cnnstudio.core.registry import ARCHITECTURES

    model = ARCHITECTURES.get(model_id).build((28, 28, 1), 10, {})
    assert [r["name"] for r in layer_table(model)] == [layer.name for layer in model.layers]
