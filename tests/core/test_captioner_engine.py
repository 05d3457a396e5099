"""A tiny captioner through the engine: stop after one epoch, resume to the end with the
optimizer's state; per-epoch caption probes; decoding with known properties (attention
sums to 1, beam 1 = greedy); ``cnnstudio predict`` prints a caption."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.errors import DataError
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.events import EpochEnd, ProbeReady
from cnnstudio.core.training.rundir import RunDir

pytest.importorskip("tensorflow")

TINY_MODEL = {"filters": 4, "units": 16, "attention_units": 8, "embedding": 8,
              "box_attention": 1.0}


def tiny(epochs=2, dataset="shape-scenes", options=None) -> RunConfig:
    # 64 one-shape scenes: batches of 32, 2 steps per epoch, captions of 3 or 4 words.
    return RunConfig(DatasetConfig(dataset, options if options is not None else {"limit": 64, "test_count": 12,
                                                        "max_objects": 1}),
                     ModelConfig("captioner", dict(TINY_MODEL)),
                     TrainConfig(epochs=epochs, batch_size=32, learning_rate=3e-3, seed=4,
                                 validation_split=0.0, steps_per_call=1))


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """(stopped result, its optimizer steps at the stop, events, resumed result)."""
    root = tmp_path_factory.mktemp("caption-runs")
    control, events = RunControl(), []

    def stop_after_first(model, epoch):
        if epoch == 1:
            control.stop()

    stopped = engine.run(tiny(), runs_root=root, control=control, sink=events.append,
                         epoch_hooks=[stop_after_first])
    folder = RunDir.open(stopped.run_dir)
    saved = load_model_file(folder.last_checkpoint()[1])
    steps = int(saved.optimizer.iterations.numpy())
    moments = sum(float(np.abs(v.numpy()).sum()) for v in saved.optimizer.variables[2:])
    return stopped, steps, moments, events, engine.resume(stopped.run_dir, sink=events.append)


@pytest.mark.slow
def test_stop_then_resume_continues_the_optimizer_and_the_probes(resumed):
    from cnnstudio.core.families.attention.caption_probes import CaptionStore

    stopped, steps, moments, events, final = resumed
    assert stopped.status == "stopped" and steps == 2 and moments > 0
    assert final.status == "finished"
    model = load_model_file(final.run_dir / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == 4      # 2 epochs × 2 steps, not restarted
    store = CaptionStore(final.run_dir)
    assert store.epochs() == [1, 2]
    frame = store.load(2)
    probes = store.probes()
    assert len(frame.captions) == len(probes.references) == 8
    assert all(len(a) == len(c.split()) + 1 for a, c in zip(frame.alphas, frame.captions,
                                                           strict=True))
    assert [e.epoch for e in events if isinstance(e, ProbeReady) and e.name == "captions"] \
        == [1, 2]
    logs = [e.logs for e in events if isinstance(e, EpochEnd)]
    assert len(logs) == 2 and all(log["box_attention_loss"] > 0 for log in logs)
    test = final.summary["test"]
    for key in ("bleu4", "exact_match", "attention_hit_rate"):
        assert 0.0 <= test[key] <= 1.0


def test_attention_sums_to_one_and_beam_one_is_greedy(resumed):
    from cnnstudio.core.families.attention import caption_decode as cd
    from cnnstudio.core.families.attention import shape_scenes as sc

    model = load_model_file(resumed[4].run_dir / "model.keras")
    images = sc.generate(6, seed=9).images
    greedy = cd.greedy(model, images, max_words=6)
    beam1 = cd.beam_search(model, images, beam=1, max_words=6)
    assert greedy.captions == beam1.captions
    for g, b in zip(greedy.alphas, beam1.alphas, strict=True):
        np.testing.assert_allclose(g, b, atol=1e-6)
        assert g.shape[1:] == (8, 8)
        np.testing.assert_allclose(g.sum(axis=(1, 2)), 1.0, atol=1e-5)
    np.testing.assert_allclose(greedy.log_probs, beam1.log_probs, atol=1e-4)
    beam3 = cd.beam_search(model, images, beam=3, max_words=6)
    assert [len(a) for a in beam3.alphas] == [len(c.split()) + 1 for c in beam3.captions]
    hard = cd.greedy(model, images, max_words=6, hard=True)
    assert all(c.shape[1] == 2 for c in hard.hard_cells)


def test_predict_prints_a_caption_per_image(resumed, tmp_path, capsys):
    from cnnstudio.cli import main

    photo = tmp_path / "grey.png"
    Image.fromarray(np.full((90, 120), 128, np.uint8)).save(photo)     # any size, grey
    assert main(["predict", str(resumed[4].run_dir), str(photo), "--beam", "2"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("grey.png  ") and len(line) > len("grey.png  ")
    assert main(["predict", str(resumed[4].run_dir), str(tmp_path / "none.png")]) == 2
    assert main(["predict", str(resumed[4].run_dir), str(photo), "--beam", "0"]) == 2


def test_a_dataset_without_captions_is_refused_before_the_run_exists(tmp_path):
    with pytest.raises(DataError, match="has no captions"):
        engine.run(tiny(dataset="digits", options={}), runs_root=tmp_path)
    assert not any(tmp_path.iterdir())
