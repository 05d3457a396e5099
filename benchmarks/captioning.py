"""How well does the studio's captioner describe shape scenes it never saw? (chapter 9)

The ``chapter9-captioning-shapes`` preset trains through the engine for a fixed number of
epochs (epoch budgets repeat on a shared machine; wall-clock ones do not), then the
final model captions 500 held-out shape-scenes greedily:

- bleu4               corpus BLEU-4 against the grammar's caption (caption_metrics.bleu4)
- exact_match         share of captions equal to the reference, word for word
- attention_hit_rate  share of generated shape words whose attention peak lies inside
                      the box of the shape that phrase names

Beam search (3) and hard-attention decoding are measured too, for comparison (printed,
not in the JSON).

``--attention hard`` trains the captioner with stochastic hard attention instead (one cell
sampled from α per word, REINFORCE; the captioner's ``attention`` option): then the JSON's
scores are its greedy captions with hard attention (the most attended cell), the way it
was trained, and soft decoding of the same model is printed beside them.

    python benchmarks/captioning.py [--epochs 14] [--train 8000] [--box-attention 1]
                                    [--attention soft|hard] [--keep DIR]

Goals: bleu4 ≥ 0.90, exact_match ≥ 0.80, attention_hit_rate ≥ 0.80; training within
15 minutes on 2 CPU cores. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import emit, goal

from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.families.attention import caption_decode, caption_metrics
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.training import engine
from cnnstudio.core.training.events import EpochEnd

HELD_OUT = 500
PRESET = (Path(__file__).resolve().parents[1] / "cnnstudio" / "resources" / "presets"
          / "chapter9-captioning-shapes.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--train", type=int, default=None, help="training scenes (default: "
                                                                "the dataset's 8,000)")
    parser.add_argument("--box-attention", type=float, default=None,
                        help="the captioner's box_attention λ (default: the preset's)")
    parser.add_argument("--attention", choices=("soft", "hard"), default=None,
                        help="the captioner's attention option (default: the preset's)")
    parser.add_argument("--keep", help="write the run under this folder and keep it (to open "
                                       "it in the studio afterwards)")
    args = parser.parse_args()
    config = RunConfig.from_dict(json.loads(PRESET.read_text(encoding="utf-8")))
    if args.epochs:
        config.training.epochs = args.epochs
    config.dataset.options["test_count"] = HELD_OUT
    if args.box_attention is not None:
        config.model.options["box_attention"] = args.box_attention
    if args.attention:
        config.model.options["attention"] = args.attention
    if args.train:
        config.dataset.options["limit"] = args.train
    print(f"captioner {config.model.options} on shape-scenes {config.dataset.options}, "
          f"{config.training.epochs} epochs, batch {config.training.batch_size}, "
          f"lr {config.training.learning_rate}")
    t0 = time.perf_counter()
    box = config.model.options.get("box_attention", 0)

    def sink(event):
        if isinstance(event, EpochEnd):
            logs = "  ".join(f"{k} {v:.4f}" for k, v in sorted(event.logs.items())
                             if "penalty" not in k and (box or "box" not in k))
            print(f"epoch {event.epoch:>2}  {time.perf_counter() - t0:7.1f} s  {logs}",
                  flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        result = engine.run(config, runs_root=args.keep or scratch, sink=sink)
        train_s = result.summary.get("fit_seconds", time.perf_counter() - t0)
        model = load_model_file(result.run_dir / "model.keras")
    if args.keep:
        print(f"run kept in {result.run_dir}")
    test = load_dataset(config.dataset).test
    refs, objects = test.captions, test.objects
    trained_hard = getattr(model, "attention", "soft") == "hard"
    t1 = time.perf_counter()
    greedy = caption_decode.greedy(model, test.x, hard=trained_hard)
    decode_s = time.perf_counter() - t1
    scores = caption_metrics.caption_scores(greedy, refs, objects)
    beam = caption_metrics.caption_scores(
        caption_decode.beam_search(model, test.x, 3, hard=trained_hard), refs, objects)
    other = caption_metrics.caption_scores(
        caption_decode.greedy(model, test.x, hard=not trained_hard), refs, objects)
    own, twin = ("hard", "soft") if trained_hard else ("soft", "hard")
    print(f"\ntraining {train_s:.0f} s ({train_s / 60:.1f} min) for {config.training.epochs} "
          f"epochs; greedy captions of {len(refs)} held-out scenes in {decode_s:.1f} s")
    for name, s in ((f"greedy, {own}", scores), (f"beam 3, {own}", beam),
                    (f"greedy, {twin}", other)):
        print(f"{name:<14} BLEU-4 {s['bleu4']:.4f}  exact {s['exact_match']:.3f}  "
              f"attention hits {s['attention_hit_rate']:.3f}")
    for i in range(5):
        print(f"  ref: {refs[i]}\n  got: {greedy.captions[i]}")
    for key, target in (("bleu4", 0.9), ("exact_match", 0.8), ("attention_hit_rate", 0.8)):
        goal(key, scores[key], ">=", target)
    emit(__file__, {**{k: round(v, 4) for k, v in scores.items()}, "attention": own,
                    "box_attention": box, "epochs": config.training.epochs,
                    "train_seconds": round(train_s, 1)})


if __name__ == "__main__":
    main()
