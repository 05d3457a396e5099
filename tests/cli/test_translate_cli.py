"""``cnnstudio translate RUN_DIR IMAGE... --out DIR``: pictures through a pix2pix or CycleGAN
run; a bad file is named and skipped; another kind of run is refused with one line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnstudio.cli import main
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine

pytest.importorskip("tensorflow")


def _run(root, dataset, options, model, data_options):
    config = RunConfig(DatasetConfig(dataset, data_options), ModelConfig(model, options),
                       TrainConfig(epochs=1, batch_size=16, seed=2, validation_split=0.0,
                                   steps_per_call=1))
    return engine.run(config, runs_root=root).run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("translate-runs")
    return {"pix2pix": _run(root, "edges2shapes", {"filters": 4}, "pix2pix",
                            {"size": 32, "count": 16}),
            "cyclegan": _run(root, "digits2thick", {"filters": 4, "pool_size": 4}, "cyclegan",
                             {"size": 16, "count": 16}),
            "mlp": _run(root, "digits", {}, "mlp", {})}


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def write(path, array):
    Image.fromarray(array).save(path)
    return str(path)


@pytest.mark.slow
def test_a_sketch_is_translated_as_drawn_and_a_photo_through_its_edges(runs, tmp_path, capsys):
    sketch = np.zeros((32, 32), np.uint8)
    sketch[6:8, 4:28] = 255
    photo = np.zeros((48, 48, 3), np.uint8)
    photo[12:36, 12:36] = (30, 200, 90)
    out = tmp_path / "out"
    assert main(["translate", str(runs["pix2pix"]), write(tmp_path / "sketch.png", sketch),
                 write(tmp_path / "photo.png", photo), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sketch.png → sketch-pix2pix.png" in printed
    assert "photo.png → photo-pix2pix.png, photo-edges.png (resized from 48×48 to 32×32; " \
           "turned into its edges)" in printed
    model = load_model_file(runs["pix2pix"] / "model.keras")
    assert np.array_equal(pixels(out / "sketch-pix2pix.png"),
                          model.translate(sketch[None, :, :, None])[0])
    edges = pixels(out / "photo-edges.png")
    assert edges.shape == (32, 32) and set(np.unique(edges)) == {0, 255}
    assert not (out / "sketch-edges.png").exists()


def test_a_cyclegan_writes_the_translation_and_its_round_trip(runs, tmp_path, capsys):
    digit = np.zeros((16, 16), np.uint8)
    digit[3:13, 7:9] = 255
    out = tmp_path / "out"
    assert main(["translate", str(runs["cyclegan"]), write(tmp_path / "one.png", digit),
                 "--out", str(out), "--direction", "b2a"]) == 0
    assert "one.png → one-b2a.png, one-b2a-back.png (given three colour channels)" in \
        capsys.readouterr().out
    model = load_model_file(runs["cyclegan"] / "model.keras")
    there, back = model.cycle(np.repeat(digit[None, :, :, None], 3, axis=-1), "b2a")
    assert np.array_equal(pixels(out / "one-b2a.png"), there[0])
    assert np.array_equal(pixels(out / "one-b2a-back.png"), back[0])


def test_a_bad_file_is_named_and_skipped_and_the_others_still_translated(runs, tmp_path,
                                                                         capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    good = write(tmp_path / "good.png", np.zeros((32, 32), np.uint8))
    out = tmp_path / "out"
    assert main(["translate", str(runs["pix2pix"]), str(bad), good, "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("skipped ") and "broken.png" in printed.splitlines()[0]
    assert (out / "good-pix2pix.png").is_file()


def test_a_classifier_run_is_refused_naming_the_runs_it_works_on(runs, tmp_path, capsys):
    image = write(tmp_path / "x.png", np.zeros((8, 8), np.uint8))
    assert main(["translate", str(runs["mlp"]), image, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "is a mlp run: translate works on pix2pix and cyclegan runs" in err
    assert not (tmp_path / "o").exists()


def test_predict_on_a_translation_run_points_to_translate(runs, tmp_path, capsys):
    image = write(tmp_path / "x.png", np.zeros((32, 32), np.uint8))
    for kind in ("pix2pix", "cyclegan"):
        assert main(["predict", str(runs[kind]), image]) == 2
        assert f"{kind} translates images rather than classifying them: 'cnnstudio " \
               f"translate {runs[kind]} IMAGE... --out DIR'" in capsys.readouterr().err
