"""benchmarks/_common.py (rounds, median and spread, the machine, goal lines, the JSON last
line) and every benchmark's command line: ``--help`` exits 0 and, where the benchmark times
something, offers ``--rounds``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_"))
# The benchmarks that time something: each takes --rounds.
TIMED = {"camera", "haar_speed", "insight_latency", "maskrcnn_shapes", "memory", "multiprocess",
         "predict_latency", "rcnn_family",
         "startup", "sweep_overhead", "train_throughput", "transfer_speed", "ui_latency"}
# Their --help costs a TensorFlow import (~4 s each on 2 cores): run alone only with -m slow.
HEAVY = {"autoencoder", "captioning", "gan_quality", "photo_digits", "ram_accuracy",
         "ssgan_accuracy", "train_throughput", "transfer_speed", "zoo_accuracy"}


def load_common():
    spec = importlib.util.spec_from_file_location("bench_common", BENCHMARKS / "_common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = load_common()


def test_summary_of_three_values():
    assert common.summary([3, 1, 2]) == {"median": 2, "min": 1, "max": 3,
                                         "values": [3.0, 1.0, 2.0]}
    assert common.summary([4, 1, 2, 3])["median"] == 2.5
    assert common.summary([1.23456, 2.34567], 2) == {"median": 1.79, "min": 1.23, "max": 2.35,
                                                     "values": [1.23, 2.35]}
    assert common.spread([0.9, 1.1, 1.0]) == [0.9, 1.1]
    with pytest.raises(ValueError):
        common.summary([])


def test_the_median_round_is_a_real_round():
    assert common.median_index([1.2, 0.9, 1.0]) == 2
    assert common.median_index([5, 1, 4, 2]) == 2      # the upper middle of an even count
    assert common.median_index([7]) == 0


def test_repeat_ms_times_the_rounds_after_the_warmup():
    calls = []
    times = common.repeat_ms(lambda: calls.append(1), rounds=4, warmup=2)
    assert len(calls) == 6 and len(times) == 4 and all(t >= 0 for t in times)


def test_rounds_option():
    parser = argparse.ArgumentParser()
    common.add_rounds(parser, 3)
    assert parser.parse_args([]).rounds == 3
    assert parser.parse_args(["--rounds", "5"]).rounds == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["--rounds", "0"])


def test_machine_describes_this_machine():
    m = common.machine()
    assert {"cpu", "cores", "platform", "python", "tensorflow", "keras"} <= set(m)
    assert m["cores"] == os.cpu_count()
    assert m["cpu"] and isinstance(m["cpu"], str)
    assert m["python"] == ".".join(map(str, sys.version_info[:3]))
    json.dumps(m)


def test_emit_prints_one_json_object_last(capsys):
    print("a table first")
    line = common.emit("benchmarks/train_throughput.py", {"ratio": 1.02, "rounds": 3})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "a table first"
    last = json.loads(out[-1])
    assert last == line
    assert list(last)[0] == "benchmark" and last["benchmark"] == "train_throughput"
    assert last["ratio"] == 1.02 and last["rounds"] == 3
    assert last["machine"]["cores"] == os.cpu_count()
    with pytest.raises(ValueError, match="machine"):
        common.emit("x", {"machine": "mine"})


def test_goal_lines(capsys):
    assert common.goal("p99 stall", 43.8, "<=", 50, " ms") is True
    assert common.goal("ratio", 0.9, ">=", 0.95) is False
    assert common.goal("RAM below conv", None, "<", 0.1) is None
    assert capsys.readouterr().out.splitlines() == [
        "met      p99 stall: 43.8 ms (goal ≤ 50 ms)",
        "NOT met  ratio: 0.9 (goal ≥ 0.95)",
        "skipped  RAM below conv"]


def test_every_benchmark_emits_its_figures_and_times_with_rounds():
    for name in SCRIPTS:
        source = (BENCHMARKS / f"{name}.py").read_text(encoding="utf-8")
        assert "emit(__file__," in source, name
        assert ("add_rounds(" in source) == (name in TIMED), name
    assert TIMED <= set(SCRIPTS) and HEAVY <= set(SCRIPTS)


# Every script's --help in one interpreter (TensorFlow imported once), each run as
# `python benchmarks/<name>.py --help` would run it: as __main__, its folder on sys.path.
HELP_ALL = r"""
import contextlib, io, json, runpy, sys
sys.path.insert(0, sys.argv[1])
paths, out = sys.argv[2:], {}
for path in paths:
    sys.argv[:] = [path, "--help"]
    text, code = io.StringIO(), "returned"
    with contextlib.redirect_stdout(text):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as stop:
            code = stop.code
    out[path] = [code, text.getvalue()]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_every_benchmark_answers_help():
    paths = [str(BENCHMARKS / f"{name}.py") for name in SCRIPTS]
    done = subprocess.run([sys.executable, "-c", HELP_ALL, str(BENCHMARKS), *paths],
                          capture_output=True, text=True, timeout=240,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    for name, path in zip(SCRIPTS, paths, strict=True):
        code, text = answers[path]
        assert code in (0, None), (name, code)
        assert "usage:" in text, name
        assert ("--rounds" in text) == (name in TIMED), name


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n
                                  for n in SCRIPTS])
@pytest.mark.slow
def test_help_as_a_script(name):
    done = subprocess.run([sys.executable, str(BENCHMARKS / f"{name}.py"), "--help"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("usage:")
    assert ("--rounds" in done.stdout) == (name in TIMED)
