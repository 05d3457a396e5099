"""Network surgery with known answers: a cut filter's map is exactly zero (through a
BatchNorm, and under a sigmoid), the original is untouched, the ranking of a hand-made
model whose answer is worked out by hand, the fast masked ranking equals cutting each filter
in turn, and "save as new run" writes a run of its own without touching the source."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from cnnstudio.core.errors import StudioError
from cnnstudio.core.probes import surgery

pytest.importorskip("tensorflow")


def keras():
    from cnnstudio.core.keras_setup import keras as k

    return k()


def hand_model(weights=(1.0, 6.0, 3.0)):
    """A (2, 2, 1) image of one value x → three 1×1 filters copying x → BatchNorm (mean 0.5,
    beta 0.25: each map becomes x − 0.25) → average → Dense: says 1 iff Σ aᶠ·x > 55 (the bias
    makes up the BatchNorm's −0.25·Σa). With a = (1, 6, 3), Σa = 10: the threshold is 5.5."""
    k = keras()
    inputs = k.Input((2, 2, 1))
    x = k.layers.Conv2D(3, 1, activation="relu", name="conv")(inputs)
    x = k.layers.BatchNormalization(epsilon=0.0, name="bn")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = k.layers.Dense(2, activation="softmax", name="out")(x)
    model = k.Model(inputs, outputs)
    model.get_layer("conv").set_weights([np.ones((1, 1, 1, 3), np.float32),
                                         np.zeros(3, np.float32)])
    three = np.ones(3, np.float32)
    model.get_layer("bn").set_weights([three, 0.25 * three, 0.5 * three, three])
    a = np.asarray(weights, np.float32)
    model.get_layer("out").set_weights([np.stack([np.zeros(3, np.float32), a], axis=1),
                                        np.array([0.0, -55.0 + 0.25 * a.sum()], np.float32)])
    return model


def hand_data():
    """x = 1…10; label 1 for x > 5 (five of each)."""
    values = np.arange(1, 11, dtype=np.float32)
    return np.broadcast_to(values[:, None, None, None], (10, 2, 2, 1)).copy(), \
        (values > 5).astype(np.int64)


def test_the_ranking_of_a_hand_made_model_is_the_worked_answer():
    # Without filter f the model says 1 iff (10 − aᶠ)·x > 55 − 0.25·aᶠ: without filter 1
    # (a = 6) never (accuracy 0.5); without 2 (a = 3) for x ≥ 8 (0.8); without 0 for x ≥ 7 (0.9).
    model, (x, y) = hand_model(), hand_data()
    assert surgery.evaluate(model, x, y)["accuracy"] == 1.0
    ranked = surgery.rank_filters(model, "conv", x, y)
    assert [f for f, _, _ in ranked] == [1, 2, 0]
    assert [a for _, a, _ in ranked] == pytest.approx([0.5, 0.8, 0.9])
    assert [d for _, _, d in ranked] == pytest.approx([0.5, 0.2, 0.1])
    # The fast masked call and the cut-and-evaluate way agree, filter by filter.
    for f, accuracy, _ in ranked:
        assert surgery.evaluate(surgery.cut(model, {"conv": [f]}), x, y)["accuracy"] == \
            pytest.approx(accuracy)
    found = surgery.evaluate(surgery.cut(model, {"conv": [1]}), x, y)
    assert found["confusion"].tolist() == [[5, 0], [5, 0]]     # everything said 0


def test_a_cut_filters_map_is_zero_through_its_batchnorm_and_the_original_is_untouched():
    model, (x, _) = hand_model(), hand_data()
    before = [w.copy() for w in model.get_weights()]
    cut = surgery.cut(model, {"conv": [0, 2]})
    assert cut is not model and surgery.cuts_of(cut) == {"conv": [0, 2]}
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True))
    maps = keras().Model(cut.inputs, cut.get_layer("bn").output).predict_on_batch(x)
    assert np.all(maps[..., [0, 2]] == 0.0)
    assert np.allclose(maps[..., 1], x[..., 0] - 0.25)          # the kept filter: unchanged
    again = surgery.cut(cut, {"conv": [1]})                     # cutting a cut model adds
    assert surgery.cuts_of(again) == {"conv": [0, 1, 2]}
    # The panel's workbench: off and back on in place gives back the very same weights.
    bench = surgery.Workbench(model)
    assert bench.set_cuts({"conv": [1]}) == {"conv": [1]}
    assert np.all(bench.model.get_layer("conv").kernel.numpy()[..., 1] == 0)
    assert bench.set_cuts({}) == {}
    assert all(np.array_equal(a, b) for a, b in zip(bench.model.get_weights(), before,
                                                    strict=True))


def test_a_sigmoid_filter_is_switched_off_at_zero_not_at_one_half():
    k = keras()
    model = k.Sequential([k.Input((4, 4, 1)), k.layers.Conv2D(2, 3, activation="sigmoid",
                                                              name="c")])
    maps = surgery.cut(model, {"c": [1]}).predict_on_batch(
        np.random.default_rng(0).uniform(0, 1, (3, 4, 4, 1)).astype(np.float32))
    assert np.all(maps[..., 1] == 0.0) and np.all(maps[..., 0] > 0.0)


def test_a_skip_connection_and_a_depthwise_layer_rank_like_cutting():
    k = keras()
    rng = np.random.default_rng(2)
    inputs = k.Input((6, 6, 2))
    d = k.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(inputs)
    c = k.layers.Conv2D(2, 1, name="c")(d)
    x = k.layers.Add()([c, inputs])                             # the tail needs the images
    x = k.layers.GlobalAveragePooling2D()(x)
    model = k.Model(inputs, k.layers.Dense(3, activation="softmax")(x))
    x, y = rng.normal(0, 1, (40, 6, 6, 2)).astype(np.float32), rng.integers(0, 3, 40)
    assert surgery.conv_layers(model) == ["dw", "c"]
    ranked = surgery.rank_filters(model, "dw", x, y)
    assert sorted(f for f, _, _ in ranked) == [0, 1, 2, 3]
    for f, accuracy, _ in ranked:
        assert surgery.evaluate(surgery.cut(model, {"dw": [f]}), x, y)["accuracy"] == \
            pytest.approx(accuracy)
    kernel = surgery.cut(model, {"dw": [3]}).get_layer("dw").kernel.numpy()
    assert np.all(kernel[:, :, 1, 1] == 0) and np.all(kernel[:, :, 1, 0] != 0)   # 3 = 1·2 + 1


def test_bad_cuts_say_what_there_is():
    model = hand_model()
    with pytest.raises(StudioError, match="no convolution layer 'out'.*conv"):
        surgery.cut(model, {"out": [0]})
    with pytest.raises(StudioError, match="filters 0–2; there is no filter 3"):
        surgery.cut(model, {"conv": [3]})
    with pytest.raises(StudioError, match="as many labels as images"):
        surgery.evaluate(model, np.zeros((3, 2, 2, 1)), [0, 1])


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    from cnnstudio.core.config import RunConfig
    from cnnstudio.core.training import engine

    config = RunConfig()
    config.dataset.id, config.dataset.options = "digits", {"size": 16}
    config.model.id, config.training.epochs, config.training.batch_size = "lenet5", 2, 32
    return engine.run(config, runs_root=tmp_path_factory.mktemp("runs")).run_dir


def _hashes(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_trained_lenet_masked_ranking_equals_cutting_and_save_as_run_keeps_the_source(
        lenet_run, tmp_path):
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.probes.adversarial_curve import sample_test_split
    from cnnstudio.core.training.rundir import RunDir

    source = RunDir.open(lenet_run)
    model = load_model_file(source.model_path())
    x, y, _ = sample_test_split(lenet_run, 120)
    ranked = surgery.rank_filters(model, "c3", x, y)
    copies = surgery._rank_by_copies(model, "c3", 16, x, y, 256, None)
    assert {f: a for f, a, _ in ranked} == {f: copies[f] / len(y) for f in range(16)}
    worst = [f for f, _, _ in ranked[:4]]
    cut = surgery.cut(model, {"c3": worst, "c1": [0]})
    maps = keras().Model(cut.inputs, cut.get_layer("c3").output).predict_on_batch(x[:8])
    assert np.all(maps[..., worst] == 0.0) and np.any(maps != 0.0)

    before = _hashes(source.path)
    scored = surgery.evaluate(cut, x, y)
    new = surgery.save_as_run(cut, lenet_run, "without 4 filters", tmp_path,
                              test={"accuracy": scored["accuracy"], "images": len(y)})
    assert _hashes(source.path) == before                      # the source: byte for byte
    assert new.parent == tmp_path and new.name.endswith("-without-4-filters")
    folder = RunDir.open(new)
    assert folder.status() == "finished"
    assert folder.config().model == source.config().model
    summary = json.loads((new / "summary.json").read_text())
    assert summary["surgery"]["cuts"] == {"c3": sorted(worst), "c1": [0]}
    assert summary["surgery"]["source"] == str(source.path)
    assert summary["test"] == {"accuracy": scored["accuracy"], "images": 120}
    reloaded = load_model_file(folder.model_path())
    assert np.allclose(reloaded.predict_on_batch(x[:16]), cut.predict_on_batch(x[:16]),
                       atol=1e-6)
    with pytest.raises(StudioError, match="name"):
        surgery.save_as_run(cut, lenet_run, "  ", tmp_path)


def test_the_surgery_command_measures_ranks_saves_and_refuses_in_one_line(lenet_run, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.predict import load_model_file
    from cnnstudio.core.probes.adversarial_curve import sample_test_split
    from cnnstudio.core.training.rundir import RunDir

    assert main(["surgery", str(lenet_run), "--layer", "c3", "--off", "0,1", "--rank",
                 "--sample", "100", "--save-as", "cli cut", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    x, y, _ = sample_test_split(lenet_run, 100)
    model = load_model_file(RunDir.open(lenet_run).model_path())
    assert answer["accuracy"] == surgery.evaluate(surgery.cut(model, {"c3": [0, 1]}), x,
                                                  y)["accuracy"]
    assert answer["accuracy_uncut"] == surgery.evaluate(model, x, y)["accuracy"]
    assert answer["test_images"] == 100 and answer["filters"] == 16
    drops = [r["drop"] for r in answer["ranking"]]
    assert len(drops) == 16 and drops == sorted(drops, reverse=True)
    saved = json.loads((RunDir.open(answer["saved"]).path / "summary.json").read_text())
    assert saved["surgery"]["cuts"] == {"c3": [0, 1]}
    for args, message in ((["--layer", "c9"], "the layers are: c1, c3"),
                          (["--layer", "c3", "--off", "3,x"], "--off must be filter numbers"),
                          (["--layer", "c3", "--off", "16"], "there is no filter 16"),
                          (["--layer", "c3", "--save-as", "x"], "--save-as needs filters")):
        assert main(["surgery", str(lenet_run), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
