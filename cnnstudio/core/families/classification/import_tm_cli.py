"""``cnnstudio import-tm keras_model.h5 labels.txt``: a Teachable Machine export as a run.

    cnnstudio import-tm converted_keras/keras_model.h5 converted_keras/labels.txt
    cnnstudio import-tm keras_model.h5 labels.txt --name fruit --runs-root ~/class-runs
    cnnstudio predict <printed folder> apple.jpg
"""

from __future__ import annotations

HELP = "open a Teachable Machine Keras export (keras_model.h5 + labels.txt) as a new run"


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="keras_model.h5",
                        help="the model from Teachable Machine's Keras export")
    parser.add_argument("labels", metavar="labels.txt",
                        help="the labels file beside it (lines such as '0 Cats')")
    parser.add_argument("--name", help="a name for the new run (part of its folder's name)")
    parser.add_argument("--runs-root", metavar="DIR",
                        help="where to write the run (default: the studio's runs folder)")


def run(args) -> int:
    from cnnstudio.core.families.classification.teachable_import import import_teachable

    print(import_teachable(args.model, args.labels, runs_root=args.runs_root, name=args.name))
    return 0
