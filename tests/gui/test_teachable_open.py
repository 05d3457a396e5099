"""File → "Open Teachable Machine model…": the export becomes a run open in the window.

The export is built as tests/core/test_teachable_import.py builds it (tf.keras 2's layout:
a Sequential of a feature Sequential around a MobileNet-like functional base and a head,
saved as legacy HDF5 with ``"groups": 1`` in the DepthwiseConv2D config, which Keras 3
rejects); the dialogs are answered by monkeypatching QFileDialog.getOpenFileName.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from cnnstudio.core.keras_setup import keras
from cnnstudio.gui.families.classification import teachable_open
from tests.gui.conftest import configure, tiny_config

NAMES = ["Cats", "Dogs", "Empty desk"]
WAIT = 60_000


def _add_groups(path) -> None:
    """What tf.keras 2 wrote into every DepthwiseConv2D config."""
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])

        def walk(node):
            if isinstance(node, dict):
                if node.get("class_name") == "DepthwiseConv2D":
                    node["config"]["groups"] = 1
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(config)
        f.attrs["model_config"] = json.dumps(config).encode("utf-8")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """converted_keras/: keras_model.h5, labels.txt and a photo (smooth colour field)."""
    k = keras()
    layers = k.layers
    k.utils.set_random_seed(3)
    folder = tmp_path_factory.mktemp("converted_keras")
    image = k.Input((224, 224, 3))
    x = layers.Conv2D(4, 3, strides=4, name="Conv1")(image)
    x = layers.DepthwiseConv2D(3, padding="same", name="expanded_conv_depthwise")(x)
    x = layers.ReLU(6.0)(x)
    base = k.Model(image, x, name="model1")
    features = k.Sequential([base, layers.GlobalAveragePooling2D()], name="sequential_1")
    head = k.Sequential([layers.Dense(8, activation="relu"),
                         layers.Dense(len(NAMES), activation="softmax", use_bias=False)],
                        name="sequential_3")
    model = k.Sequential([k.Input((224, 224, 3)), features, head], name="sequential_4")
    h5 = folder / "keras_model.h5"
    model.save(h5)
    _add_groups(h5)
    (folder / "labels.txt").write_text("".join(f"{i} {n}\n" for i, n in enumerate(NAMES)),
                                       encoding="utf-8")
    small = np.random.default_rng(0).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    photo = folder / "photo.png"
    cv2.imwrite(str(photo), cv2.resize(small, (224, 224), interpolation=cv2.INTER_LINEAR))
    return h5, photo


def answer_dialogs(monkeypatch, *answers) -> list[str]:
    """QFileDialog.getOpenFileName answers these paths in turn ("" = Cancel); the titles
    it was asked with are returned (filled in as it is asked)."""
    queue, titles = list(answers), []

    def ask(parent, title, folder="", filters="", *args, **kwargs):
        titles.append(title)
        return (str(queue.pop(0)) if queue else "", "")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(ask))
    return titles


def close_message(window) -> str:
    box = window.teachable_message
    text = box.text()
    box.close()
    return text


def test_the_menu_opens_an_export_as_a_run_that_predicts_and_explains(
        qtbot, studio, export, monkeypatch):
    h5, photo = export
    action = studio.family_actions[teachable_open.ACTION_ID]
    assert action.text() == "Open Teachable Machine model…"
    setup = studio.run_config()
    answer_dialogs(monkeypatch, h5)
    action.trigger()
    assert studio.message.text().startswith("Opening keras_model.h5 from Teachable Machine")
    assert not action.isEnabled()                      # while the import runs
    qtbot.waitUntil(lambda: studio.subject.kind == "run", timeout=WAIT)
    run = studio.subject.run_dir
    assert run.parent == studio.runs_root
    assert run.name.endswith("-teachable-machine-imported")
    assert action.isEnabled()
    assert studio.prediction.run_dir == run and studio.prediction.kind == "classify"
    assert studio.message.text() == (f"Opened the Teachable Machine model as run {run.name}: "
                                     "3 classes (Cats, Dogs, Empty desk). Drop an image to "
                                     "classify it.")
    # The pickers keep the setup they held (the run's own dataset and model are no choices
    # of theirs): no "unknown dataset" or "unknown model" left on screen.
    assert studio.run_config().model.id == setup.model.id
    qtbot.waitUntil(lambda: studio.background.idle, timeout=WAIT)
    assert studio.problems() == [] and not studio.dataset.error.isVisible()

    with qtbot.waitSignal(studio.prediction.shown, timeout=WAIT):
        studio.drop_paths([str(photo)])
    rows = studio.prediction.view.bars.rows
    assert sorted(name for name, _ in rows) == sorted(NAMES)
    assert sum(p for _, p in rows) == pytest.approx(1.0, abs=1e-4)

    # The Grad-CAM tab finds the convolution inside the nested base.
    assert "Grad-CAM" in studio.tabs.tab_titles()
    gradcam = studio.tabs.panel("gradcam")
    studio.tabs.show_panel(gradcam)
    with qtbot.waitSignal(gradcam.updated, timeout=WAIT):
        studio.tabs.show_image(cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB), "photo")
    assert gradcam.result.method == "grad-cam"
    assert gradcam.result.layer == "sequential_4/sequential_1/model1/expanded_conv_depthwise"
    heat = gradcam.result.heatmap
    assert heat.shape == (224, 224) and heat.min() >= 0 and heat.max() > heat.min()
    assert [gradcam.class_box.itemText(i) for i in range(1, 4)] == NAMES
    folder = os.environ.get("CNNSTUDIO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        studio.resize(1400, 900)
        studio.grab().save(str(Path(folder) / "teachable-machine.png"))


def test_bad_files_give_one_line_and_the_window_goes_on(qtbot, studio, export, tmp_path,
                                                        monkeypatch):
    h5, _ = export
    broken = tmp_path / "broken" / "keras_model.h5"
    broken.parent.mkdir()
    broken.write_bytes(b"PK\x03\x04 this is a zip, not HDF5")
    (broken.parent / "labels.txt").write_text("0 a\n1 b\n", encoding="utf-8")
    answer_dialogs(monkeypatch, broken)
    teachable_open.open_dialog(studio)
    qtbot.waitUntil(lambda: studio.message.text().startswith("Could not open"), timeout=WAIT)
    line = ("Could not open keras_model.h5: keras_model.h5 is not a Keras HDF5 model "
            "(Teachable Machine's Keras export is keras_model.h5 in converted_keras.zip)")
    assert studio.message.text() == line and close_message(studio) == line
    assert studio.subject.kind == "setup" and list(studio.runs_root.iterdir()) == []

    # The right model, the wrong labels: the counts disagree.
    two = tmp_path / "labels-two.txt"
    two.write_text("0 Cats\n1 Dogs\n", encoding="utf-8")
    teachable_open.start_import(studio, h5, two)
    qtbot.waitUntil(lambda: studio.message.text().startswith("Could not open"), timeout=WAIT)
    assert "gives 3 class scores but labels-two.txt names 2 classes" in studio.message.text()
    close_message(studio)

    # No labels.txt beside the model: a second dialog asks; cancelling it says what is missing.
    lonely = tmp_path / "lonely" / "keras_model.h5"
    lonely.parent.mkdir()
    lonely.write_bytes(h5.read_bytes())
    titles = answer_dialogs(monkeypatch, lonely, "")
    teachable_open.open_dialog(studio)
    assert titles[1] == "labels.txt is not beside keras_model.h5: where is it?"
    assert studio.message.text() == ("Not opened: keras_model.h5 needs the labels.txt of the "
                                     f"same export (none in {lonely.parent}).")
    close_message(studio)
    assert list(studio.runs_root.iterdir()) == [] and studio.isVisible()
    assert studio.family_actions[teachable_open.ACTION_ID].isEnabled()


def test_a_form_of_another_family_turns_to_fine_tuning_the_imported_run(
        qtbot, studio, export, monkeypatch):
    h5, photo = export
    configure(qtbot, studio, tiny_config(model="conv-autoencoder", model_options={}))
    assert studio.prediction.kind == "reconstruct"
    answer_dialogs(monkeypatch, h5)
    studio.family_actions[teachable_open.ACTION_ID].trigger()
    qtbot.waitUntil(lambda: studio.subject.kind == "run", timeout=WAIT)
    run = studio.subject.run_dir
    assert studio.run_config().model.id == "from-run"
    assert studio.run_config().model.options["run"] == str(run)
    qtbot.waitUntil(lambda: studio.background.idle, timeout=WAIT)   # the pickers settled
    assert studio.subject.run_dir == run and studio.prediction.kind == "classify"
    with qtbot.waitSignal(studio.prediction.shown, timeout=WAIT):
        studio.drop_paths([str(photo)])
    assert sorted(name for name, _ in studio.prediction.view.bars.rows) == sorted(NAMES)
