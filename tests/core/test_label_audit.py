"""Suspect labels (issue 27 §3): k-fold out-of-sample probabilities find labels flipped on
purpose; cleanlab's ranking on hand-made probabilities; the label decisions file round-trips,
lives beside the dataset, leaves the dataset's files untouched and is applied by the next
run; ``cnnstudio audit`` prints and keeps the suspects."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pytest
from PIL import Image

from cnnstudio.cli import main
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import dataset_config, load_dataset
from cnnstudio.core.errors import DataError, StudioError
from cnnstudio.core.probes import label_audit as la
from cnnstudio.core.probes import label_decisions as ld

pytest.importorskip("tensorflow")
pytest.importorskip("cleanlab")


def _flipped(y: np.ndarray, rate: float, seed: int, classes: int = 10):
    """5 % of the labels moved to another class, at random: (noisy labels, flipped indices)."""
    rng = np.random.default_rng(seed)
    flip = rng.choice(len(y), int(round(rate * len(y))), replace=False)
    noisy = y.copy()
    noisy[flip] = (y[flip] + rng.integers(1, classes, len(flip))) % classes
    return noisy, flip


@pytest.mark.slow
def test_k_fold_probabilities_and_cleanlab_find_the_flipped_labels():
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {"units": 64}),
                       TrainConfig(batch_size=32, seed=1))
    data = load_dataset(config.dataset)
    x, y = data.train.x, data.train.y.astype(np.int64)
    noisy, flip = _flipped(y, 0.05, seed=0)
    seen = []
    probs = la.out_of_sample_probabilities(config, x, noisy, folds=3, epochs=10,
                                           progress=lambda f, text: seen.append(f))
    assert probs.shape == (len(y), 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert seen[-1] == 1.0 and seen == sorted(seen)          # progress only goes forward
    assert (probs.argmax(axis=1) == y).mean() > 0.9          # the folds' models learn
    found = la.suspects(probs, noisy)
    got, truth = {f[0] for f in found}, set(flip.tolist())
    precision, recall = len(got & truth) / len(got), len(got & truth) / len(truth)
    assert precision >= 0.7 and recall >= 0.75, (precision, recall)
    confidences = [c for *_, c in found]
    assert confidences == sorted(confidences)                # lowest self-confidence first
    for i, given, suggested, confidence in found:
        assert given == noisy[i] and suggested != given
        assert confidence == pytest.approx(probs[i, given])
    right = [s == y[i] for i, _, s, _ in found if i in truth]
    assert np.mean(right) > 0.8                               # the suggestion is the truth


def test_suspects_on_hand_made_probabilities_are_the_two_flipped_labels():
    y = np.array([0] * 10 + [1] * 10)
    probs = np.where(y[:, None] == np.arange(2), 0.95, 0.05)
    y_given = y.copy()
    y_given[[3, 14]] = [1, 0]                    # two labels wrong; 14 is the surer mistake
    probs[3] = [0.90, 0.10]
    found = la.suspects(probs, y_given)
    assert [(i, g, s) for i, g, s, _ in found] == [(14, 0, 1), (3, 1, 0)]
    assert [round(c, 2) for *_, c in found] == [0.05, 0.1]


def test_losses_rank_the_images_and_a_confusion_cell_filters_them():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.99, 0.01]])
    y = np.array([0, 0, 0, 1, 1])
    assert la.ranked_by_loss(probs, y).tolist() == [4, 1, 2, 3, 0]
    assert la.ranked_by_loss(probs, y, true=0, predicted=0).tolist() == [2, 0]
    assert la.ranked_by_loss(probs, y, true=1, predicted=0).tolist() == [4]
    assert la.confusion(probs, y, 2).tolist() == [[2, 1], [1, 1]]
    assert la.losses(probs, y)[4] == pytest.approx(-np.log(0.01))


def test_without_cleanlab_one_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cleanlab.filter", None)
    with pytest.raises(StudioError, match=r"pip install 'cleanlab>=2.6'"):
        la.suspects(np.full((4, 2), 0.5), np.array([0, 1, 0, 1]))


def test_bad_input_is_one_clear_message():
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {}))
    x = np.zeros((10, 8, 8, 1), np.uint8)
    with pytest.raises(StudioError, match="folds must be between 2 and 20"):
        la.out_of_sample_probabilities(config, x, np.zeros(10, int), folds=1)
    with pytest.raises(StudioError, match="one label each"):
        la.out_of_sample_probabilities(config, x, np.zeros(9, int))


# -- the decisions file ---------------------------------------------------------------------
@pytest.fixture
def image_folder(tmp_path):
    """Two classes of six 8×8 PNGs; returns the folder and each file's SHA-1."""
    root = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    for name in ("dark", "light"):
        (root / name).mkdir(parents=True)
        for k in range(6):
            base = 40 if name == "dark" else 200
            pixels = (base + rng.integers(0, 30, (8, 8))).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{name}{k}.png")
    return root


def _hashes(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.png"))}


def test_decisions_round_trip_beside_a_folder_and_leave_its_files_untouched(image_folder,
                                                                            tmp_path):
    before = _hashes(image_folder)
    config = dataset_config(str(image_folder), image_size=8, test_fraction=0.2)
    plain = load_dataset(config)
    keys = ld.image_keys(plain.train, image_folder)
    assert keys[0] == "dark/" + plain.train.paths[0].name        # readable names
    path = ld.decisions_path(config, tmp_path / "runs")
    assert path == image_folder / ld.FILE_NAME
    ld.decide(path, config, plain.class_names, keys[0], "relabel", "dark", "light")
    ld.decide(path, config, plain.class_names, keys[1], "exclude", "dark")
    ld.decide(path, config, plain.class_names, keys[2], "keep", "dark")
    data = ld.decide(path, config, plain.class_names, keys[3], "exclude", "dark")
    data = ld.decide(path, config, plain.class_names, keys[3], "undo", "dark")
    assert ld.load(path) == data == json.loads(path.read_text(encoding="utf-8"))
    assert data["decisions"] == {keys[0]: {"action": "relabel", "given": "dark",
                                           "label": "light"},
                                 keys[1]: {"action": "exclude", "given": "dark"},
                                 keys[2]: {"action": "keep", "given": "dark"}}
    config.options["label_decisions"] = str(path)
    assert RunConfig(config).problems() == []                  # a declared dataset option
    applied = load_dataset(config)
    assert len(applied.train) == len(plain.train) - 1
    new_keys = ld.image_keys(applied.train, image_folder)
    assert keys[1] not in new_keys
    assert applied.train.y[new_keys.index(keys[0])] == 1       # now "light"
    assert applied.train.y[new_keys.index(keys[2])] == 0
    assert np.array_equal(applied.test.y, plain.test.y)         # the test split is left alone
    assert "1 relabelled, 1 excluded" in applied.description
    assert _hashes(image_folder) == before                      # no image file changed
    assert sorted(p.name for p in image_folder.iterdir()) == [ld.FILE_NAME, "dark", "light"]


def test_a_read_only_folder_keeps_its_decisions_under_the_runs_root(image_folder, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(ld, "_writable", lambda folder: False)
    config = dataset_config(str(image_folder), image_size=8)
    path = ld.decisions_path(config, tmp_path / "runs")
    assert path.parent == tmp_path / "runs" / ld.FOLDER and path.name.startswith("folder-")
    other = ld.decisions_path(dataset_config(str(image_folder), image_size=16), tmp_path / "runs")
    assert other != path                                        # keyed by the options too


def test_bad_decisions_are_one_line(tmp_path):
    config = DatasetConfig("digits", {"label_decisions": str(tmp_path / "none.json")})
    with pytest.raises(DataError, match="label decisions file not found"):
        load_dataset(config)
    bad = tmp_path / "bad.json"
    bad.write_text('{"decisions": {"sha1:1": {"action": "burn"}}}')
    with pytest.raises(DataError, match="must have an action"):
        ld.load(bad)
    with pytest.raises(DataError, match="relabel needs one of the classes"):
        ld.decide(tmp_path / "d.json", config, ["0", "1"], "k", "relabel", "0", "7")


@pytest.mark.slow
def test_the_next_run_applies_them_and_audit_prints_the_suspects(tmp_path, capsys):
    """A registered set: decisions under the runs root, keyed by pixels; the engine's run
    trains without the excluded image; ``cnnstudio audit`` then audits that run."""
    from cnnstudio.core.training import engine
    from cnnstudio.core.training.rundir import RunDir

    runs = tmp_path / "runs"
    config = RunConfig(DatasetConfig("digits", {}), ModelConfig("mlp", {"units": 32}),
                       TrainConfig(epochs=1, batch_size=64, validation_split=0.0))
    plain = load_dataset(config.dataset)
    keys = ld.image_keys(plain.train)
    path = ld.decisions_path(config.dataset, runs)
    assert path.parent == runs / ld.FOLDER and path.name.startswith("digits-")
    ld.decide(path, config.dataset, plain.class_names, keys[5], "exclude", "5")
    config.dataset.options["label_decisions"] = str(path)
    run_dir = engine.run(config, runs_root=runs).run_dir
    info = RunDir.open(run_dir).read_json("dataset.json")
    assert info["num_train"] == len(plain.train) - 1
    assert "1 excluded" in info["description"]

    assert main(["audit", str(run_dir), "--folds", "2", "--epochs", "1", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert f"among {len(plain.train) - 1} training images (2 folds × 1 epochs" in out
    saved = la.load_audit(run_dir)
    assert saved.probabilities.shape == (len(plain.train) - 1, 10) and saved.folds == 2
    assert keys[5] not in saved.keys
    assert main(["audit", str(run_dir), "--saved", "--json", "--top", "0"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["suspects"] == len(saved.found) == len(answer["shown"])
    assert [r["index"] for r in answer["shown"]] == [i for i, *_ in saved.found]
    assert main(["audit", str(run_dir), "--folds", "30"]) == 2
    assert "--folds must be between 2 and 20" in capsys.readouterr().err


def test_audit_of_a_run_that_is_no_classifier_is_one_line(tmp_path, capsys):
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.create(RunConfig(DatasetConfig("mnist-5k"), ModelConfig("dcgan"),
                                     TrainConfig(epochs=1)), path=tmp_path / "gan")
    folder.set_status("stopped", epoch=0)
    folder.close()
    assert main(["audit", str(folder.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "audit works on classifier runs" in err[0]
    assert "is a dcgan" in err[0]
