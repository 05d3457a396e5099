"""Lesson files: every mistake is one known line naming the file, the step, its kind and
the field; steps saved from the window load again; every shipped lesson is valid."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.lessons import (
    LessonError,
    list_lessons,
    load_lesson,
    save_step,
    save_steps,
    validate,
)
from cnnstudio.core.lessons.configs import apply_set, fast_config
from cnnstudio.core.lessons.lesson import lesson_json


def problems(steps, **top):
    data = {"title": "T", "steps": steps, **top}
    with pytest.raises(LessonError) as caught:
        validate(data, "lesson.json")
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


@pytest.mark.parametrize("step, line", [
    ({"do": "train", "epochs": "two"},
     "lesson.json step 1 (train): 'epochs' must be a whole number ≥ 1, got \"two\""),
    ({"do": "train", "epochs": 0},
     "lesson.json step 1 (train): 'epochs' must be a whole number ≥ 1, got 0"),
    ({"do": "train", "epochs": 5000},
     "lesson.json step 1 (train): 'epochs' must be at most 1000, got 5000"),
    ({"do": "train", "epochs": True},
     "lesson.json step 1 (train): 'epochs' must be a whole number ≥ 1, got true"),
    ({"do": "train"}, "lesson.json step 1 (train): 'epochs' is missing"),
    ({"do": "jump"}, "lesson.json step 1 (jump): unknown step kind \"jump\" — known: preset, "
                     "set, tab, dock, train, epoch, image, wait, caption"),
    ({"do": "trian", "epochs": 1},
     "lesson.json step 1 (trian): unknown step kind \"trian\" (did you mean 'train'?) — "
     "known: preset, set, tab, dock, train, epoch, image, wait, caption"),
    ({"epochs": 1}, "lesson.json step 1 (?): 'do' is missing — one of preset, set, tab, dock, "
                    "train, epoch, image, wait, caption"),
    ("train", "lesson.json step 1 (?): a step must be an object ({\"do\": …}), got \"train\""),
    ({"do": "tab", "tab": "Filters", "colour": "red"},
     "lesson.json step 1 (tab): unknown field 'colour' — a tab step takes: tab, caption"),
    ({"do": "epoch", "epoch": 2, "epochs": 2},
     "lesson.json step 1 (epoch): unknown field 'epochs' (did you mean 'epoch'?) — an epoch "
     "step takes: epoch, caption"),
    ({"do": "tab", "tab": 3}, "lesson.json step 1 (tab): 'tab' must be text (not empty), got 3"),
    ({"do": "tab", "tab": "Filters", "caption": ["a"]},
     "lesson.json step 1 (tab): 'caption' must be text, got [\"a\"]"),
    ({"do": "dock", "dock": "runz"},
     "lesson.json step 1 (dock): 'dock' must be one of dataset, architecture, training, "
     "augmentation, prediction, runs, got \"runz\" (did you mean 'runs'?)"),
    ({"do": "wait", "seconds": 0},
     "lesson.json step 1 (wait): 'seconds' must be a number above 0 and at most 600, got 0"),
    ({"do": "wait", "seconds": 1000},
     "lesson.json step 1 (wait): 'seconds' must be a number above 0 and at most 600, got 1000"),
    ({"do": "wait", "click": False},
     "lesson.json step 1 (wait): 'click' must be true (a click on Next ends the wait), got false"),
    ({"do": "wait"}, "lesson.json step 1 (wait): give exactly one of 'seconds' or 'click'"),
    ({"do": "caption"}, "lesson.json step 1 (caption): 'caption' is missing"),
    ({"do": "set"}, "lesson.json step 1 (set): a set step needs at least one of training, "
                    "dataset, model"),
    ({"do": "set", "training": {"epoch": 3}},
     "lesson.json step 1 (set): 'training' has an unknown field 'epoch' (did you mean "
     "'epochs'?)"),
    ({"do": "set", "model": {"id": "mlp", "opts": {}}},
     "lesson.json step 1 (set): 'model' has an unknown field 'opts' — with an 'id' it takes: "
     "id, options"),
    ({"do": "set", "model": {"unitz": 3}},
     "lesson.json step 1 (set): 'model': unknown option 'unitz' for lenet5 — known: "
     "activation, pooling"),
    ({"do": "set", "training": {"learning_rate": 50}},
     "lesson.json step 1 (set): 'training': learning_rate must be a number between 0 and 10, "
     "got 50"),
    ({"do": "preset", "preset": "chapter4-lenet5-mnst"},
     "lesson.json step 1 (preset): 'preset' names no preset 'chapter4-lenet5-mnst' (did you "
     "mean 'chapter4-lenet5-mnist'?)"),
    ({"do": "image", "image": "skimage:astronat"},
     "lesson.json step 1 (image): 'image' names no scikit-image photo 'astronat' (did you mean "
     "'astronaut'?)"),
    ({"do": "image", "image": "pictures/cat.png"},
     "lesson.json step 1 (image): 'image' file not found: pictures/cat.png"),
])
def test_each_mistake_is_one_known_line(step, line):
    (found,) = problems([step])
    assert found.startswith(line), found
    assert "\n" not in found


def test_a_set_that_switches_the_dataset_is_checked_against_the_new_one():
    (found,) = problems([{"do": "set", "dataset": {"id": "photos", "options": {"size": 10}}}])
    assert found == ("lesson.json step 1 (set): 'dataset': photos: size must be an integer "
                     "between 64 and 1,024, got 10")
    (found,) = problems([{"do": "preset", "preset": "quickstart-lenet5-offline",
                          "dataset": {"id": "no-such-data"}}])
    assert found.startswith("lesson.json step 1 (preset): 'dataset': unknown dataset "
                            "'no-such-data'")


def test_every_mistake_of_a_file_is_listed_in_step_order():
    found = problems([{"do": "caption", "caption": "fine"},
                      {"do": "preset", "preset": "nope"},
                      {"do": "train", "epochs": "two"},
                      {"do": "dock"}], chapter="four", scale=9, colour=1)
    assert [line.split(":")[0] for line in found] == [
        "lesson.json", "lesson.json", "lesson.json", "lesson.json step 2 (preset)",
        "lesson.json step 3 (train)", "lesson.json step 4 (dock)"]
    assert found[0] == ("lesson.json: unknown field 'colour' — a lesson takes: title, "
                        "chapter, scale, steps")
    assert found[1] == "lesson.json: 'chapter' must be a whole number from 0 to 99, got \"four\""
    assert found[2] == "lesson.json: 'scale' must be a number from 1 to 2.5, got 9"


def test_the_lesson_itself_must_have_a_title_and_steps():
    with pytest.raises(LessonError) as caught:
        validate({"steps": []}, "x.json")
    assert caught.value.problems == [
        "x.json: 'title' is missing",
        "x.json: 'steps' must be a list of at least one step, got []"]
    with pytest.raises(LessonError, match=r"^x.json: a lesson must be a JSON object"):
        validate([1], "x.json")


def test_a_file_that_is_not_json_or_not_there_says_so(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"title": "x",\n "steps": [}')
    with pytest.raises(LessonError) as caught:
        load_lesson(bad)
    assert str(caught.value).startswith("broken.json: not valid JSON: ")
    assert "at line 2" in str(caught.value)
    with pytest.raises(LessonError, match="lesson file not found: .*missing.json"):
        load_lesson(tmp_path / "missing.json")
    with pytest.raises(LessonError, match=r"'chapter99' is no lesson .*— known: chapter1-mlp"):
        load_lesson("chapter99")


def test_an_image_beside_the_lesson_and_a_sample_are_found(tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "seven.png").write_bytes(b"not checked here")
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"title": "Pictures", "chapter": 2, "scale": 2.0, "steps": [
        {"do": "image", "image": "pics/seven.png"},
        {"do": "image", "image": "skimage:astronaut"},
        {"do": "image", "image": "sample:7", "caption": "a seven"},
        {"do": "dock", "dock": "runs"}, {"do": "tab", "tab": "Filters"}]}))
    lesson = load_lesson(path)
    assert (lesson.title, lesson.chapter, lesson.scale, lesson.path) == ("Pictures", 2, 2.0, path)
    assert [s.kind for s in lesson.steps] == ["image"] * 3 + ["dock", "tab"]
    assert lesson.steps[2].fields == {"image": "sample:7"}
    assert lesson.steps[2].caption == "a seven"
    assert lesson.tabs_used() == {"Filters"}
    assert lesson.docks_used() == {"runs", "prediction"}


def test_save_step_appends_atomically_and_round_trips(tmp_path):
    path = tmp_path / "my-lesson.json"
    first = save_step(path, {"do": "preset", "preset": "quickstart-lenet5-offline",
                             "caption": "Start here"})
    assert first.title == "My lesson" and len(first.steps) == 1
    save_steps(path, [{"do": "tab", "tab": "Filters"}, {"do": "epoch", "epoch": 2}])
    lesson = load_lesson(path)
    assert [s.to_dict() for s in lesson.steps] == [
        {"do": "preset", "preset": "quickstart-lenet5-offline", "caption": "Start here"},
        {"do": "tab", "tab": "Filters"}, {"do": "epoch", "epoch": 2}]
    text = path.read_text()
    assert text.count("\n") == 8                     # one line per step, easy to edit
    assert json.loads(text) == lesson.to_dict()
    # A step that would break the lesson is refused and the file is left as it was.
    with pytest.raises(LessonError, match=r"my-lesson.json step 4 \(train\): 'epochs' is"):
        save_step(path, {"do": "train"})
    assert path.read_text() == text
    assert not [p for p in tmp_path.iterdir() if p.name != "my-lesson.json"]


def test_lesson_json_is_the_lesson_again():
    data = {"title": "T", "chapter": 3, "steps": [{"do": "caption", "caption": "é ✓"}]}
    assert json.loads(lesson_json(data)) == data
    assert "é ✓" in lesson_json(data)


def test_every_shipped_lesson_is_valid_and_found_by_its_chapter():
    infos = list_lessons()
    assert [i.chapter for i in infos] == list(range(1, 10))
    for info in infos:
        lesson = load_lesson(info.path)
        assert lesson.title.startswith(f"Chapter {info.chapter}:")
        assert load_lesson(f"chapter{info.chapter}").path == info.path
        kinds = {s.kind for s in lesson.steps}
        assert {"train", "tab", "image", "wait"} <= kinds, info.key
        assert all(s.caption for s in lesson.steps), info.key
        assert all(len(s.caption) <= 200 for s in lesson.steps), info.key


def test_shipped_lessons_need_no_download():
    from cnnstudio.core.presets import find_preset
    from cnnstudio.core.registry import DATASETS

    for info in list_lessons():
        config = RunConfig()
        for step in load_lesson(info.path).steps:
            if step.kind == "preset":
                config = apply_set(find_preset(step.fields["preset"]).config(), step.fields)
            elif step.kind == "set":
                config = apply_set(config, step.fields)
            if step.kind in ("preset", "set"):
                source = DATASETS.get(config.dataset.id)
                assert not source.needs_download, (info.key, config.dataset.id)


def test_apply_set_merges_options_or_switches_with_an_id():
    config = RunConfig()
    merged = apply_set(config, {"model": {"pooling": "avg"}, "training": {"epochs": 9}})
    assert merged.model.options == {"pooling": "avg"} and merged.training.epochs == 9
    switched = apply_set(merged, {"dataset": {"id": "digits", "options": {"size": 16}},
                                  "model": {"id": "mlp"}})
    assert (switched.dataset.id, switched.dataset.options) == ("digits", {"size": 16})
    assert (switched.model.id, switched.model.options) == ("mlp", {})
    assert config.training.epochs == RunConfig().training.epochs        # not changed in place


def test_fast_mode_trains_one_epoch_on_a_cut_of_the_data():
    config = RunConfig()
    config.training.epochs = 30
    config.dataset.id, config.dataset.options = "shapes", {"count": 3000, "test_count": 200}
    fast = fast_config(config)
    assert fast.training.epochs == 1 and fast.training.steps_per_call == 1
    assert fast.dataset.options["count"] == 64 and fast.dataset.options["test_count"] == 24
    assert config.training.epochs == 30
    scenes = RunConfig()
    scenes.dataset.id, scenes.dataset.options = "scenes-multitask", {"count": 6000}
    assert fast_config(scenes).dataset.options["count"] == 64
    plain = fast_config(RunConfig())                   # mnist-5k cannot be cut: it is kept
    assert plain.dataset.options == {} and plain.problems() == []
