"""Every output file is written whole or not at all (issue 23): a temporary name beside the
target, renamed over it. A disk that fills up half-way leaves the previous file as it was,
no temporary behind, and one line naming the file and the reason."""

from __future__ import annotations

import errno
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core import atomic, evaluation
from cnnstudio.core.atomic import WriteFailed, atomic_dir, atomic_path
from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.detection.coco_eval import write_evaluation
from cnnstudio.core.probes import store


def _enospc():
    return OSError(errno.ENOSPC, "No space left on device")


def fill_disk(monkeypatch):
    """Path.write_bytes (what atomic's writers use) stores half the bytes, then the disk is
    full: the half file is on disk, as after a real ENOSPC."""
    real = Path.write_bytes

    def half(self, data):
        real(self, bytes(data[:len(data) // 2]))
        raise _enospc()

    monkeypatch.setattr(Path, "write_bytes", half)


@pytest.fixture
def full_disk(monkeypatch):
    fill_disk(monkeypatch)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_write_renames_the_finished_file_over_the_target(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".out.")
        assert temp.suffix == ".json" and not temp.exists()    # the writer's format stays
        temp.write_text("new")
        assert target.read_text() == "old"                     # nothing moves until the end
    assert target.read_text() == "new" and names(tmp_path) == ["out.json"]
    assert atomic.write_json(tmp_path / "b.json", {"a": 1}) == tmp_path / "b.json"
    assert json.loads((tmp_path / "b.json").read_text()) == {"a": 1}


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path, full_disk):
    target = tmp_path / "out.json"
    target.write_text('{"old": true}')
    with pytest.raises(WriteFailed) as caught:
        atomic.write_json(target, {"new": list(range(100))})
    assert target.read_text() == '{"old": true}' and names(tmp_path) == ["out.json"]
    err = caught.value
    message = str(err)
    assert message.startswith(f"cannot write {target}: the disk is full (")
    assert message.endswith(" free); free some space and try again") and "\n" not in message
    # A StudioError for the CLI (one line, exit 2), an OSError for whoever catches those.
    assert isinstance(err, StudioError) and isinstance(err, OSError)
    assert err.errno == errno.ENOSPC and err.filename == str(target)
    assert str(pickle.loads(pickle.dumps(err))) == message      # crosses processes (Ray)
    with pytest.raises(WriteFailed):
        atomic.write_text(tmp_path / "new.txt", "x" * 10)
    assert names(tmp_path) == ["out.json"]                      # no 0-byte new file either


def test_any_other_error_also_removes_the_temporary_and_is_raised_as_it_is(tmp_path):
    with pytest.raises(KeyError):
        with atomic_path(tmp_path / "a.npz") as temp:
            temp.write_bytes(b"half")
            raise KeyError("a writer bug")
    assert names(tmp_path) == []
    with pytest.raises(WriteFailed, match=r"^cannot write .*x\.txt: the folder .* is not "
                                          r"writable \(Permission denied\)$"):
        with atomic_path(tmp_path / "x.txt"):
            raise PermissionError(errno.EACCES, "Permission denied")


def test_a_folder_is_swapped_in_whole_or_the_old_one_stays(tmp_path):
    target = tmp_path / "model.savedmodel"
    target.mkdir()
    (target / "saved_model.pb").write_text("old")
    with atomic_dir(target) as temp:
        temp.mkdir()
        (temp / "saved_model.pb").write_text("new")
        (temp / "variables").mkdir()
    assert (target / "saved_model.pb").read_text() == "new" and names(tmp_path) == [
        "model.savedmodel"]
    with pytest.raises(WriteFailed, match="the disk is full"):
        with atomic_dir(target) as temp:
            temp.mkdir()
            (temp / "saved_model.pb").write_text("ne")
            raise _enospc()
    assert (target / "saved_model.pb").read_text() == "new" and names(tmp_path) == [
        "model.savedmodel"]


def test_probe_files_stay_whole_on_a_full_disk(tmp_path, monkeypatch):
    path = store.save_npz(tmp_path / "probes" / "epoch-0001.npz", a=np.arange(4))
    before = path.read_bytes()

    def half_npz(file, **arrays):
        Path(file).write_bytes(before[:10])
        raise _enospc()

    monkeypatch.setattr(store.np, "savez_compressed", half_npz)
    with pytest.raises(WriteFailed, match="epoch-0001.npz: the disk is full"):
        store.save_npz(path, a=np.arange(8))
    assert path.read_bytes() == before and names(path.parent) == ["epoch-0001.npz"]


class _Model:
    def predict_on_batch(self, x):
        return np.eye(2, dtype=np.float32)[np.arange(len(x)) % 2]


def test_evaluation_json_is_the_old_one_after_a_full_disk(tmp_path, monkeypatch):
    test = (np.zeros((4, 2, 2, 1), np.uint8), np.array([0, 1, 0, 1]))
    first = evaluation.evaluate(_Model(), test, ["a", "b"], tmp_path)
    before = (tmp_path / "evaluation.json").read_text()
    assert json.loads(before)["accuracy"] == first["accuracy"] == 1.0
    fill_disk(monkeypatch)
    with pytest.raises(WriteFailed, match=r"evaluation\.json: the disk is full"):
        evaluation.evaluate(_Model(), (test[0], np.array([1, 1, 1, 1])), ["a", "b"], tmp_path)
    assert (tmp_path / "evaluation.json").read_text() == before
    assert names(tmp_path) == ["evaluation.json"]


def test_the_detection_evaluation_is_merged_in_one_whole_write(tmp_path, full_disk):
    target = tmp_path / "evaluation.json"
    target.write_text(json.dumps({"loss": 0.5}))
    with pytest.raises(WriteFailed):
        write_evaluation(target, {"box_ap": 0.4})
    assert json.loads(target.read_text()) == {"loss": 0.5} and names(tmp_path) == [
        "evaluation.json"]


def test_the_detection_evaluation_can_start_from_given_keys(tmp_path):
    target = tmp_path / "evaluation.json"
    target.write_text(json.dumps({"stale": 1}))
    write_evaluation(target, {"box_ap": 0.4, "other": 9}, base={"task": "detection"})
    assert json.loads(target.read_text()) == {"task": "detection", "box_ap": 0.4}
