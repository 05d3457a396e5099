"""The classification zoo: every architecture builds for the shapes it claims, counts its
parameters as the papers do, refuses inputs that are too small, and learns a fixed batch."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.errors import ModelError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.core.training.hyper import apply_hyperparameters

MNIST, CIFAR, PHOTO, CANVAS = (28, 28, 1), (32, 32, 3), (128, 128, 3), (60, 60, 1)
CLAIMS = {
    "mlp": [MNIST, CIFAR], "lenet5": [MNIST, CIFAR], "book-cifar": [MNIST, CIFAR],
    "dogs-vs-cats": [CIFAR, PHOTO], "traffic-signs-bn": [MNIST, CIFAR],
    "alexnet": [MNIST, CIFAR, PHOTO], "vgg-small": [MNIST, CIFAR],
    "vgg16": [CIFAR, PHOTO], "googlenet": [MNIST, CIFAR, PHOTO],
    "resnet": [MNIST, CIFAR, PHOTO],
    "fc-256": [MNIST, CANVAS], "conv-2": [MNIST, CANVAS],      # the RAM paper's baselines
    "conv-pool": [MNIST, CANVAS],
}
# Small settings for the training check only: the architecture, not its width, is under test.
FAST = {"vgg16": {"fc_units": 64, "batch_norm": True}, "googlenet": {"width": 0.25},
        "resnet": {"base_filters": 8}, "alexnet": {"variant": "reduced"}}
# Plain deep stacks barely move in a dozen steps from Glorot's start (the book's point about
# initialisation); He initialisation, one of the studio's hyperparameters, fixes that.
HE_INIT = {"googlenet", "alexnet"}
# Tracing a graph of ~60 layers costs more than ten eager steps on a CPU.
EAGER = {"googlenet", "resnet"}


def test_every_registered_architecture_is_claimed_and_documented():
    assert set(ARCHITECTURES.ids()) >= set(CLAIMS)
    for arch in ARCHITECTURES:
        if arch.task != "classification":
            continue
        assert arch.id in CLAIMS, f"{arch.id} claims no input shapes in this test"
        assert len(arch.description) > 80 and arch.source
        assert set(arch.options_help) == set(arch.defaults)


@pytest.mark.parametrize("arch_id,shape", [(a, s) for a, shapes in CLAIMS.items()
                                           for s in shapes])
def test_builds_for_each_claimed_shape(arch_id, shape):
    model = ARCHITECTURES.get(arch_id).build(shape, 7, FAST.get(arch_id))
    assert tuple(model.input.shape) == (None, *shape)
    assert tuple(model.output.shape) == (None, 7)


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def conv(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def dense(nin, nout):
    return nin * nout + nout


def test_parameter_counts_match_independent_computation():
    count = lambda arch, shape, n, opts=None: ARCHITECTURES.get(arch).build(  # noqa: E731
        shape, n, opts).count_params()
    # LeNet-5 on 28×28 MNIST: c1 (same) → 14 → c3 (valid) → 5×5×16 = 400 → 120 → 84 → 10.
    lenet = conv(5, 1, 6) + conv(5, 6, 16) + dense(400, 120) + dense(120, 84) + dense(84, 10)
    assert lenet == 61_706 and count("lenet5", MNIST, 10) == lenet
    cifar = (conv(3, 3, 32) + conv(3, 32, 32) + conv(3, 32, 64) + conv(3, 64, 64)
             + dense(6 * 6 * 64, 512) + dense(512, 10))
    assert cifar == 1_250_858 and count("book-cifar", CIFAR, 10) == cifar
    dogs = (conv(3, 3, 32) + conv(3, 32, 32) + conv(3, 32, 64) + dense(16 * 16 * 64, 128)
            + dense(128, 2))
    assert count("dogs-vs-cats", PHOTO, 2) == dogs == 2_126_178
    # BN layers hold 4 numbers per channel (γ, β, moving mean and variance).
    signs = (conv(6, 3, 128) + 4 * 128 + conv(4, 128, 256) + 4 * 256 + dense(4 * 4 * 256, 512)
             + 4 * 512 + dense(512, 62))
    assert count("traffic-signs-bn", CIFAR, 62) == signs
    assert count("traffic-signs-bn", CIFAR, 62, {"batch_norm": False}) == signs - 4 * (
        128 + 256 + 512)
    alexnet = (conv(11, 3, 96) + conv(5, 96, 256) + conv(3, 256, 384) + conv(3, 384, 384)
               + conv(3, 384, 256) + dense(6 * 6 * 256, 4096) + dense(4096, 4096)
               + dense(4096, 1000))
    assert count("alexnet", (227, 227, 3), 1000) == alexnet == 62_378_344
    # The RAM paper's conv row on a 60×60 canvas: 8 10×10 filters at stride 5 ("same":
    # 12×12×8 = 1,152 features) → 256 → 10; its FC row: 3,600 → 256 → 256 → 10.
    assert count("conv-2", CANVAS, 10) == conv(10, 1, 8) + dense(1152, 256) + dense(256, 10)
    assert count("fc-256", CANVAS, 10) == dense(3600, 256) + dense(256, 256) + dense(256, 10)


@pytest.mark.slow
def test_vgg16_matches_keras_applications():
    ours = ARCHITECTURES.get("vgg16").build((224, 224, 3), 1000)
    reference = keras().applications.VGG16(weights=None)
    assert ours.count_params() == reference.count_params() == 138_357_544
    ref_layers = {layer.name: layer.count_params() for layer in reference.layers}
    for layer in ours.layers:
        if layer.name in ref_layers:
            assert layer.count_params() == ref_layers[layer.name], layer.name


def test_googlenet_matches_the_papers_table():
    from cnnstudio.core.families.classification.googlenet import MODULES

    cin, total = 192, conv(7, 3, 64) + conv(1, 64, 64) + conv(3, 64, 192)
    for f1, r3, f3, r5, f5, pp in MODULES.values():
        total += (conv(1, cin, f1) + conv(1, cin, r3) + conv(3, r3, f3) + conv(1, cin, r5)
                  + conv(5, r5, f5) + conv(1, cin, pp))
        cin = f1 + f3 + f5 + pp
    total += dense(cin, 1000)
    model = ARCHITECTURES.get("googlenet").build((224, 224, 3), 1000)
    assert cin == 1024 and model.count_params() == total == 6_998_552
    assert model.get_layer("inception_3a_output").output.shape[1:] == (28, 28, 256)


@pytest.mark.parametrize("depth,expected", [(18, 11_689_512), (34, 21_797_672),
                                            (50, 25_557_032)])
@pytest.mark.slow
def test_resnet_trainable_weights_match_the_reference_implementation(depth, expected):
    # torchvision's published counts (BN moving statistics are buffers there, not parameters).
    model = ARCHITECTURES.get("resnet").build((224, 224, 3), 1000, {"depth": depth})
    assert _trainable(model) == expected
    assert model.get_layer("conv5_block1_out").output.shape[1:3] == (7, 7)


@pytest.mark.parametrize("arch_id,shape,options,fragment", [
    ("vgg16", (28, 28, 1), None, "vgg16 needs inputs of at least 32×32, got 28×28"),
    ("alexnet", (32, 32, 3), {"variant": "full"}, "full AlexNet needs inputs of at least 67×67"),
    ("lenet5", (8, 8, 1), None, "lenet5 needs inputs of at least 12×12"),
    ("resnet", (32, 32, 3), {"depth": 101}, "resnet: depth must be one of 18, 34, 50, got 101"),
])
def test_too_small_or_wrong_options_refuse_clearly(arch_id, shape, options, fragment):
    with pytest.raises(ModelError, match=fragment):
        ARCHITECTURES.get(arch_id).build(shape, 10, options)


def test_small_inputs_switch_to_small_stems():
    small = ARCHITECTURES.get("googlenet").build(CIFAR, 10, {"width": 0.25})
    assert small.get_layer("inception_3a_output").output.shape[1] == 32
    assert ARCHITECTURES.get("alexnet").build(CIFAR, 10).name == "alexnet_reduced"
    assert ARCHITECTURES.get("alexnet").build((227, 227, 3), 10).name == "alexnet_full"


@pytest.mark.slow
@pytest.mark.parametrize("arch_id", sorted(CLAIMS))
def test_learns_a_fixed_batch(arch_id):
    shape = CLAIMS[arch_id][0]
    keras().utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    y = np.arange(16) % 4
    # Noise plus a bright quadrant that names the class: learnable, but not in one step.
    x = rng.uniform(0, 128, (16, *shape)).astype("float32")
    h, w = shape[0] // 2, shape[1] // 2
    for i, c in enumerate(y):
        x[i, (c // 2) * h:(c // 2 + 1) * h, (c % 2) * w:(c % 2 + 1) * w] += 127
    model = ARCHITECTURES.get(arch_id).build(shape, 4, FAST.get(arch_id))
    if arch_id in HE_INIT:
        apply_hyperparameters(model, TrainConfig(initializer="he"))
    model.compile(optimizer=keras().optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", run_eagerly=arch_id in EAGER)
    losses = [float(model.train_on_batch(x, y)) for _ in range(10)]
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.8 * losses[0], losses
