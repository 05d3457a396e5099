"""The options form built from an architecture's defaults: editors, ranges and values."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from cnnstudio.core.registry import ARCHITECTURES
from cnnstudio.gui.widgets.options_form import OptionsForm


def test_a_gans_options_get_editors_fit_for_their_values(qtbot):
    arch = ARCHITECTURES.get("gan-mlp")
    form = OptionsForm()
    qtbot.addWidget(form)
    form.build(arch.specs)
    ema, smoothing = form.editors["ema"], form.editors["smoothing"]
    assert isinstance(form.editors["hidden_units"], QSpinBox)
    assert isinstance(ema, QDoubleSpinBox) and isinstance(smoothing, QDoubleSpinBox)
    # A decay lives just below 1: fine steps, and 1 itself (no averaging at all) refused.
    assert (ema.value(), ema.singleStep(), ema.maximum()) == (0.999, 0.001, 0.9999)
    assert (smoothing.value(), smoothing.singleStep(), smoothing.maximum()) == (0.1, 0.05, 0.49)
    assert ema.toolTip().startswith("Decay of the moving average of G's weights")
    assert smoothing.toolTip().endswith("D's target for real images is 1 − smoothing.")
    with qtbot.waitSignal(form.changed):
        ema.setValue(0.99)
    assert form.values() == {"latent_size": 100, "hidden_units": 256, "smoothing": 0.1,
                             "ema": 0.99}


def test_the_captioners_attention_is_a_choice_of_soft_or_hard(qtbot):
    arch = ARCHITECTURES.get("captioner")
    form = OptionsForm()
    qtbot.addWidget(form)
    form.build(arch.specs)
    combo = form.editors["attention"]
    assert [combo.itemText(i) for i in range(combo.count())] == ["soft", "hard"]
    assert combo.currentText() == "soft"
    assert "REINFORCE" in combo.toolTip()
    with qtbot.waitSignal(form.changed):
        combo.setCurrentText("hard")
    assert form.values()["attention"] == "hard"


def test_the_rams_string_options_offer_every_value_its_model_accepts(qtbot):
    arch = ARCHITECTURES.get("ram")
    form = OptionsForm()
    qtbot.addWidget(form)
    form.build(arch.specs)
    offered = {key: [form.editors[key].itemText(i) for i in range(form.editors[key].count())]
               for key in ("core", "patch_net", "glimpse_mix")}
    assert offered == {"core": ["lstm", "rnn"], "patch_net": ["dense", "conv"],
                       "glimpse_mix": ["add", "multiply"]}
    form.editors["glimpse_mix"].setCurrentText("multiply")
    assert form.values()["glimpse_mix"] == "multiply"
