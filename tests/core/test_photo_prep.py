"""Photos of digits brought to MNIST's form before predicting: known answers on made-up
photos, and a trained LeNet reading ink-on-paper photos it reads wrong without it."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core import ink_photos, photo_prep
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.datasets import dataset_config, load_dataset
from cnnstudio.core.imaging import fit_to_shape


@pytest.fixture(scope="module")
def mnist():
    return load_dataset(dataset_config("mnist-5k"))


@pytest.fixture(scope="module")
def stats(mnist):
    return photo_prep.training_stats(mnist.train.x)


def test_mnist_statistics(stats):
    assert stats["background"] == 0.0
    assert stats["uniform_background"] and stats["centred_content"]
    assert stats["content_box"] == pytest.approx(20 / 28, abs=0.04)     # the 20×20 box


def test_natural_images_are_only_resized():
    from skimage import data

    photos = np.stack([fit_to_shape(im, (32, 32, 3)) for im in
                       (data.astronaut(), data.chelsea(), data.coffee(), data.rocket())])
    natural = photo_prep.training_stats(photos)
    assert not natural["uniform_background"] and not natural["centred_content"]
    image = data.astronaut()
    out, steps = photo_prep.adapt(image, natural, (32, 32, 3))
    assert steps == [] and np.array_equal(out, fit_to_shape(image, (32, 32, 3)))


def test_an_ink_photo_becomes_an_mnist_style_digit(mnist, stats):
    photo = ink_photos.ink_photo(mnist.test.x[0], np.random.default_rng(3))
    assert photo.shape == (240, 320, 3) and np.median(photo) > 120      # light paper
    out, steps = photo_prep.adapt(photo, stats, (28, 28, 1))
    assert out.shape == (28, 28, 1) and out.dtype == np.uint8
    assert [s.split(":")[0] for s in steps] == ["lighting evened", "inverted",
                                                "contrast stretched", "centred"]
    digit = out[..., 0].astype(float)
    border = np.concatenate([digit[0], digit[-1], digit[:, 0], digit[:, -1]])
    assert border.max() == 0 and digit.max() >= 200                    # light on black
    ys, xs = np.nonzero(digit > 0)
    assert max(np.ptp(ys), np.ptp(xs)) + 1 in (20, 21, 22)               # the 20×20 box
    cy, cx = np.average(np.indices(digit.shape), axis=(1, 2), weights=digit)
    assert abs(cy - 13.5) < 1 and abs(cx - 13.5) < 1                   # centre of mass


def test_training_images_and_light_on_dark_photos_are_not_inverted(mnist, stats):
    sample = mnist.test.x[5]
    out, steps = photo_prep.adapt(sample, stats, (28, 28, 1))
    assert steps == [] and np.array_equal(out, sample)      # already in the training form
    big = np.zeros((120, 160, 1), np.uint8)
    big[30:90, 60:90] = 255                                 # a light bar on black, off-centre
    out, steps = photo_prep.adapt(big, stats, (28, 28, 1))
    names = [s.split(":")[0] for s in steps]
    assert "inverted" not in names and "centred" in names
    assert out[..., 0][0].max() == 0 and out.max() == 255


@pytest.mark.slow
def test_a_trained_lenet_reads_ink_photos(mnist, runs_root):
    from cnnstudio.core.predict import Predictor
    from cnnstudio.core.training import engine

    config = RunConfig(DatasetConfig("mnist-5k", {}), ModelConfig("lenet5", {}),
                       TrainConfig(epochs=3, batch_size=64, learning_rate=0.002))
    result = engine.run(config, runs_root=runs_root)
    predictor = Predictor.from_run(result.run_dir)
    assert predictor.image_stats["centred_content"]          # recorded in dataset.json
    rng = np.random.default_rng(11)
    picks = rng.choice(len(mnist.test), 60, replace=False)
    photos = [ink_photos.ink_photo(mnist.test.x[i], rng) for i in picks]
    truth = mnist.test.y[picks]
    adapted = predictor.probabilities(photos).argmax(1)
    predictor.adapt_photos = False
    raw = predictor.probabilities(photos).argmax(1)
    assert np.mean(adapted == truth) >= 0.85
    assert np.mean(raw == truth) <= 0.3


def test_predictions_go_through_one_traced_shape(mnist):
    """Any number of images, one input shape: the predict function is traced once."""
    from cnnstudio.core.predict import Predictor
    from cnnstudio.core.registry import ARCHITECTURES

    pytest.importorskip("tensorflow")
    model = ARCHITECTURES.get("lenet5").build((28, 28, 1), 10, {})
    predictor = Predictor.for_model(model, {"class_names": list(mnist.class_names)})
    alone = predictor.probabilities([mnist.test.x[0]])
    many = predictor.probabilities(list(mnist.test.x[:19]))
    assert many.shape == (19, 10) and np.allclose(many[0], alone[0], atol=1e-6)
    predictor.probabilities(list(mnist.test.x[:3]))
    assert model.predict_function.experimental_get_tracing_count() == 1


def test_a_huge_photo_is_adapted_on_a_working_copy():
    """A 4000² photo of a digit: adapted on a copy of at most WORK_SIDE (seconds, not the
    100 s the full-size lighting step took), to the same form as a small photo of it."""
    import time

    import cv2
    import numpy as np

    from cnnstudio.core import photo_prep

    small = np.full((400, 400), 220, np.uint8)
    cv2.putText(small, "7", (120, 300), cv2.FONT_HERSHEY_SIMPLEX, 9, 30, 40)
    big = cv2.resize(small, (4000, 4000), interpolation=cv2.INTER_NEAREST)
    stats = {"background": 0.0, "uniform_background": True, "centred_content": True,
             "content_box": 0.7, "channels": 1}
    t0 = time.perf_counter()
    out_big, steps = photo_prep.adapt(big[:, :, None], stats, (28, 28, 1))
    assert time.perf_counter() - t0 < 10
    out_small, _ = photo_prep.adapt(small[:, :, None], stats, (28, 28, 1))
    assert out_big.shape == (28, 28, 1) and any(s.startswith("inverted") for s in steps)
    # The same digit, whatever the photo's size: most pixels agree within a grey level step.
    assert np.mean(np.abs(out_big.astype(int) - out_small.astype(int)) <= 64) > 0.9
