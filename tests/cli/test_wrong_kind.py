"""Every subcommand that takes a run, given the wrong kind of run, says so in one line on
stderr with exit status 2, never a traceback (issue 23). The runs are folders as the engine
leaves them before a model is saved: the kind is checked first, from the run's config."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from cnnstudio.core.training.rundir import RunDir

KINDS = {"lenet5": "mnist-5k", "dcgan": "mnist-5k", "conv-autoencoder": "mnist-5k",
         "ram": "mnist-translated", "captioner": "shape-scenes", "maskrcnn": "shapes",
         "rcnn": "shapes", "fast-rcnn": "shapes", "multitask": "scenes-multitask"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for model, dataset in KINDS.items():
        folder = RunDir.create(RunConfig(DatasetConfig(dataset), ModelConfig(model),
                                         TrainConfig(epochs=1)), path=root / model)
        folder.set_status("stopped", epoch=0)
        folder.close()
        out[model] = folder.path
    image = root / "photo.png"
    import cv2

    cv2.imwrite(str(image), np.full((32, 32, 3), 90, np.uint8))
    return out, image


COMMANDS = [
    ("predict", "{run} {image}"),
    ("generate", "{run} --out {tmp}/grid.png"),
    ("export", "{run} --format tflite --out {tmp}/export"),
    ("detect", "{image} --run {run}"),
]


@pytest.mark.parametrize("model", list(KINDS))
@pytest.mark.parametrize("command, args", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_one_line_and_exit_2_for_every_run_kind(runs, model, command, args, tmp_path, capsys):
    folders, image = runs
    argv = [command, *args.format(run=folders[model], image=image, tmp=tmp_path).split()]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cnnstudio: error: "), err
    assert "Traceback" not in err[0]


def test_a_file_that_is_no_cascade_is_one_line(runs, tmp_path, capsys):
    _folders, image = runs
    bad = tmp_path / "bad.xml"
    bad.write_text("not a cascade")
    assert main(["detect", str(image), "--haar", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("cnnstudio: error: bad.xml is not a Haar cascade OpenCV can read (a cascade "
                   "is an XML file such as haarcascade_frontalface_default.xml; see "
                   "'cnnstudio detect --help' for the shipped names)")


@pytest.mark.parametrize("flags, named", [
    (["--lr", "0.1"], "--lr would change it"),
    (["--model", "lenet5", "--batch-size", "8"], "--model, --batch-size would change them"),
])
def test_resume_refuses_flags_it_would_ignore(runs, flags, named, capsys):
    folders, _image = runs
    assert main(["train", "--resume", str(folders["lenet5"]), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"cnnstudio: error: --resume continues a run with its own settings; {named} "
                   "(only --epochs can change on resume: train it further)")
