"""The networks image translation shares: the U-Net's shapes and skip wiring, PatchGAN's
patch map, and the losses on hand-made tensors with known values."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from cnnstudio.core.errors import ModelError  # noqa: E402
from cnnstudio.core.families.generative import translation_networks as tn  # noqa: E402


def _source(layer):
    """The layer whose output feeds ``layer``'s i-th input, for a functional model."""
    return [t._keras_history.operation for t in layer.input]


def test_unet_output_shape_depth_and_skips_join_encoder_i_with_decoder_i():
    G = tn.unet_generator((64, 64, 1), out_channels=3, filters=8)
    assert G.output_shape == (None, 64, 64, 3)
    assert tn.unet_depth(64) == 5 and tn.unet_depth(32) == 4 and tn.unet_depth(28) == 2
    skips = [layer for layer in G.layers if layer.name.startswith("skip")]
    assert sorted(layer.name for layer in skips) == ["skip1", "skip2", "skip3", "skip4"]
    for i in range(1, 5):
        skip = G.get_layer(f"skip{i}")
        decoder, encoder = _source(skip)
        assert (decoder.name, encoder.name) == (f"dec{i}", f"enc{i}")
        side = 64 >> i                                   # both halves at the same size
        width = min(8 * 2 ** (i - 1), 64)
        assert G.get_layer(f"enc{i}").output.shape == (None, side, side, width)
        assert G.get_layer(f"dec{i}").output.shape == (None, side, side, width)
        assert skip.output.shape == (None, side, side, 2 * width)
    assert G.get_layer("enc5").output.shape == (None, 2, 2, 64)      # the 2 × 2 bottleneck
    # Dropout on the three innermost decoder blocks only (the paper's noise).
    assert sorted(layer.name for layer in G.layers if "dropout" in layer.name) == \
        ["dec2_dropout", "dec3_dropout", "dec4_dropout"]
    x = np.zeros((2, 64, 64, 1), np.float32)
    y = np.asarray(G(x, training=False))
    assert y.shape == (2, 64, 64, 3) and np.all(np.abs(y) <= 1.0)     # tanh


def test_unet_on_32_pixels_and_a_depth_that_does_not_fit():
    G = tn.unet_generator((32, 32, 1), out_channels=1, filters=4, depth=2, dropout=0.0)
    assert G.output_shape == (None, 32, 32, 1)
    assert [layer.name for layer in G.layers if layer.name.startswith("skip")] == ["skip1"]
    assert not [layer for layer in G.layers if "dropout" in layer.name]
    with pytest.raises(ModelError, match="at most 4 halvings"):
        tn.unet_generator((32, 32, 1), 1, depth=5)


@pytest.mark.parametrize("side,layers,expected", [(64, 3, 8), (32, 3, 4), (64, 2, 16),
                                                  (30, 3, 4), (64, 0, 64)])
def test_patch_map_size(side, layers, expected):
    assert tn.patch_map_size(side, layers) == expected


def test_patchgan_logits_map_has_the_predicted_size_and_the_papers_receptive_field():
    D = tn.patch_discriminator((64, 64, 4), filters=8, layers=3)
    assert D.output_shape == (None, 8, 8, 1)
    assert np.asarray(D(np.zeros((3, 64, 64, 4), np.float32))).shape == (3, 8, 8, 1)
    D2 = tn.patch_discriminator((32, 32, 2), filters=8, layers=2)
    assert D2.output_shape == (None, tn.patch_map_size(32, 2), tn.patch_map_size(32, 2), 1)
    assert (tn.receptive_field(3), tn.receptive_field(2), tn.receptive_field(1)) == (70, 34, 16)


def test_l1_lsgan_and_bce_on_hand_made_tensors():
    a = np.array([[0.0, 1.0], [-1.0, 0.5]], np.float32)
    b = np.array([[0.5, 1.0], [1.0, 0.0]], np.float32)
    assert float(tn.l1(a, b)) == pytest.approx((0.5 + 0 + 2 + 0.5) / 4)
    outputs = np.array([1.0, 0.0, 0.5, 2.0], np.float32)
    assert float(tn.lsgan(1.0, outputs)) == pytest.approx((0 + 1 + 0.25 + 1) / 4)
    assert float(tn.lsgan(0.0, outputs)) == pytest.approx((1 + 0 + 0.25 + 4) / 4)
    logits = np.array([0.0, np.log(3.0)], np.float32)      # sigmoid: 0.5 and 0.75
    assert float(tn.bce_logits(1.0, logits)) == pytest.approx(
        (np.log(2.0) - np.log(0.75)) / 2, rel=1e-5)
    assert float(tn.bce_logits(0.0, logits)) == pytest.approx(
        (np.log(2.0) - np.log(0.25)) / 2, rel=1e-5)


def test_pixels_round_trip_between_uint8_and_unit_range():
    pixels = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    unit = tn.to_unit(pixels)
    assert isinstance(unit, np.ndarray) and unit.dtype == np.float32
    assert unit[0] == -1.0 and unit[-1] == 1.0
    assert np.array_equal(tn.to_uint8(unit), pixels)
    assert np.array_equal(tn.to_uint8(np.array([-3.0, 0.0, 3.0])), [0, 128, 255])
    tensor = tn.to_unit(tn.ops.convert_to_tensor(pixels))
    assert np.array_equal(tn.to_uint8(tensor), pixels)
