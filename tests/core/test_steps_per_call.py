"""Several training steps per call: the count chosen for a step time, Stop between calls, the
re-tune after the first epoch, and the setting that overrides it."""

from __future__ import annotations

import pytest

from cnnstudio.core.errors import ConfigError
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import engine
from cnnstudio.core.training import steps_per_call as spc
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import BatchEnd, Notice, RunStarted
from tests.core.test_engine import tiny


@pytest.mark.parametrize("step, epoch, divides, expected", [
    (0.0035, 141, False, 21),      # 75 ms / 3.5 ms
    (0.0035, 141, True, 3),        # 141 = 3 × 47: the largest divisor not above 21
    (0.0035, 12, False, 12),       # never more than an epoch
    (0.0005, 1000, False, 64),     # the cap
    (0.5, 100, False, 1),          # a slow step is a call of its own
    (0.0, 100, False, 1),          # nothing known: one
])
def test_the_count_chosen_for_a_step_time(step, epoch, divides, expected):
    assert spc.choose(step, epoch, divides) == expected


def test_the_estimate_counts_the_multiply_adds_of_convolutions_and_dense_layers():
    K = keras()
    model = K.Sequential([K.Input((5, 5, 1)), K.layers.Conv2D(2, 3, padding="same"),
                          K.layers.Flatten(), K.layers.Dense(3)])
    # conv: 3·3·1·2 weights at 5·5 positions = 450; dense: 50·3 = 150.
    assert spc.multiply_adds(model) == 600
    assert spc.estimate_step_seconds(model, 32) > spc.DISPATCH_SECONDS


def _auto():
    config = tiny(epochs=3, model="lenet5")
    config.training.steps_per_call = 0      # chosen by the engine (the default)
    return config


def test_the_setting_is_checked():
    config = tiny()
    config.training.steps_per_call = -1
    with pytest.raises(ConfigError, match="steps_per_call must be a whole number from 0"):
        config.check()


def test_auto_runs_several_steps_per_call_and_stop_acts_between_calls(runs_root):
    control, events = RunControl(), []

    def sink(event):
        events.append(event)
        if isinstance(event, BatchEnd) and event.epoch == 2:
            control.stop()

    result = engine.run(_auto(), runs_root=runs_root, sink=sink, control=control)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.steps_per_call > 1 and "chosen for this model" in started.steps_per_call_note
    epoch_one = [e.step for e in events if isinstance(e, BatchEnd) and e.epoch == 1]
    k, steps = started.steps_per_call, started.steps_per_epoch
    assert epoch_one == sorted({min(s, steps) for s in range(k, steps + k, k)})
    # Stop asked at the end of epoch 2's first call (its count re-tuned, on a busy machine,
    # after epoch 1): the run stops there; a call that was the whole epoch completed it.
    second = [e.step for e in events if isinstance(e, BatchEnd) and e.epoch == 2]
    assert len(second) == 1 and second[0] > 1
    assert result.status == "stopped"
    assert result.summary["epochs_done"] == (2 if second[0] == steps else 1)


def test_a_bad_guess_is_retuned_after_the_first_epoch(runs_root, monkeypatch):
    monkeypatch.setattr(spc, "estimate_step_seconds", lambda model, batch: 1.0)   # "slow"
    events = []
    result = engine.run(_auto(), runs_root=runs_root, sink=events.append)
    assert result.status == "finished" and result.summary["epochs_done"] == 3
    assert next(e for e in events if isinstance(e, RunStarted)).steps_per_call == 1
    retuned = [e.message for e in events if isinstance(e, Notice) and "re-tuned" in e.message]
    assert len(retuned) == 1 and not retuned[0].startswith("1 step")
    later = [e.step for e in events if isinstance(e, BatchEnd) and e.epoch == 3]
    assert len(later) < len([e for e in events if isinstance(e, BatchEnd) and e.epoch == 1])


def test_a_set_count_wins_and_is_made_to_divide_an_endless_input(runs_root, tmp_path):
    from tests.core.test_exact_resume import _classifier_from_files

    config = _classifier_from_files(tmp_path)
    config.training.steps_per_call = 4
    events = []
    engine.run(config, runs_root=runs_root, sink=events.append)
    started = next(e for e in events if isinstance(e, RunStarted))
    steps = started.steps_per_epoch
    assert started.steps_per_call == spc.fit_epoch(4, steps) and steps % started.steps_per_call == 0


def test_a_retune_refit_keeps_the_plateau_and_early_stopping_counters():
    from cnnstudio.core.keras_setup import keras
    from cnnstudio.core.training.callbacks import CarryAcrossRefit

    k = keras()
    stop = k.callbacks.EarlyStopping(monitor="loss", patience=3)
    plateau = k.callbacks.ReduceLROnPlateau(monitor="loss", patience=2, cooldown=1)
    carry = CarryAcrossRefit([stop, plateau])
    for cb in (stop, plateau, carry):
        cb.on_train_begin()
    stop.wait, stop.best, stop.best_epoch = 1, 0.25, 0
    plateau.wait, plateau.best, plateau.cooldown_counter = 1, 0.25, 1
    carry.hold()
    for cb in (stop, plateau, carry):      # the second fit: Keras resets, carry restores
        cb.on_train_begin()
    assert (stop.wait, stop.best, stop.best_epoch) == (1, 0.25, 0)
    assert (plateau.wait, plateau.best, plateau.cooldown_counter) == (1, 0.25, 1)
    for cb in (stop, plateau, carry):      # a fit without a hold starts afresh
        cb.on_train_begin()
    assert stop.wait == 0 and stop.best is None
