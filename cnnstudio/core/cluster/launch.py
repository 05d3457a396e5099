"""One run across several processes (and machines): Keras's distribution API on JAX.

Every process runs the same RunConfig through the same engine, on device "all":
``keras.distribution.DataParallel`` over the devices of every process, each process
feeding its own share of the data (``distribute.shard``). Gradients are all-reduced by
JAX's collectives (gloo on CPUs), so every process holds the same weights.

Process 0 writes the run directory; the others train into a private scratch folder
that is deleted afterwards, so nothing of theirs lands in the runs folder. Resuming
reads the run's last checkpoint on every process: on several machines the runs folder
must be on storage they share (or the run folder copied to the same path).

TensorFlow's MultiWorkerMirroredStrategy is not used: Keras 3's ``fit`` fails under it
(keras-team/keras#20585).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from cnnstudio.core.cluster.spec import ClusterSpec
from cnnstudio.core.errors import StudioError

EXTRA = 'pip install "cnnstudio[cluster]"'
# Every process counts up a key in JAX's coordination store every BEAT_S; a peer whose count
# has not moved for STALE_S (or a store that no longer answers: process 0 is gone) ends the
# others with a message, before JAX's own heartbeat (HEARTBEAT_S) would end them without one.
BEAT_S = 2.0
# Judging starts when this process's run has started: a process importing TensorFlow or
# loading data on a busy machine can hold the interpreter for many seconds.
STALE_S = float(os.environ.get("CNNSTUDIO_CLUSTER_STALE_S", 30))
HEARTBEAT_S = 100
EXIT_PEER_LOST = 3


def require_jax() -> None:
    try:
        import jax  # noqa: F401
    except ImportError:
        raise StudioError(f"training on several processes needs JAX: {EXTRA}") from None


def use_jax_backend() -> None:
    """Keras picks its backend once, at import: it has to be JAX before anything imports it."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend") and keras.backend.backend() != "jax":
        raise StudioError("a cluster run trains on JAX, but Keras was already started on "
                          f"{keras.backend.backend()}: set KERAS_BACKEND=jax")
    os.environ["KERAS_BACKEND"] = "jax"


def join(spec: ClusterSpec) -> None:
    """Connect to the other processes (blocks until all are there, at most 5 minutes)."""
    require_jax()
    use_jax_backend()
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(spec.coordinator, spec.processes, spec.process_id,
                                   initialization_timeout=300,
                                   heartbeat_timeout_seconds=HEARTBEAT_S)
    except Exception as exc:       # a wrong address, a port in use, a process that never came
        raise StudioError(f"process {spec.process_id} could not join the cluster at "
                          f"{spec.coordinator} ({spec.processes} processes): {exc}") from None


class Watchdog:
    """Ends this process with a clear message when another process of the run is gone:
    the collective waiting for it would otherwise hang, or JAX abort without a word."""

    def __init__(self, spec: ClusterSpec, stale_s: float = STALE_S, exit=os._exit):
        self.spec, self.stale_s, self.exit = spec, stale_s, exit
        self.run_dir = None
        self.armed = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="cluster-watchdog", daemon=True)

    def beat(self, event=None) -> None:
        if type(event).__name__ == "RunStarted":
            self.run_dir = event.run_dir
            self.armed.set()

    def start(self) -> Watchdog:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Training is over here: say so, so the others do not take this one for lost."""
        self.done.set()
        try:
            _client().key_value_set(f"cnnstudio/done/{self.spec.process_id}", "1")
        except Exception:
            pass

    def _watch(self) -> None:
        client, me = _client(), self.spec.process_id
        peers = [i for i in range(self.spec.processes) if i != me]
        seen = {i: (None, time.monotonic()) for i in peers}     # last count, when it moved
        count = 0
        while not self.done.wait(BEAT_S):
            count += 1
            if not self.armed.is_set():
                seen = {i: (seen[i][0], time.monotonic()) for i in peers}
            try:
                client.key_value_set(f"cnnstudio/alive/{me}", str(count), allow_overwrite=True)
                for i in peers:
                    if _has(client, f"cnnstudio/done/{i}"):      # finished, not lost
                        seen[i] = (None, time.monotonic())
                        continue
                    value = _try_get(client, f"cnnstudio/alive/{i}")
                    if value != seen[i][0]:
                        seen[i] = (value, time.monotonic())
                    elif (time.monotonic() - seen[i][1] > self.stale_s and self.armed.is_set()
                          and not self.done.is_set()):
                        return self._lost(f"process {i} has not answered for "
                                          f"{self.stale_s:.0f} s")
            except Exception as exc:       # the store is process 0's: it is gone
                if not self.done.is_set():
                    return self._lost(f"the coordinator stopped answering: {exc}"[:200])

    def _lost(self, why: str) -> None:
        print(lost_message(self.spec, why, self.run_dir), file=sys.stderr, flush=True)
        self.exit(EXIT_PEER_LOST)


def _client():
    from jax._src import distributed

    return distributed.global_state.client


def _try_get(client, key: str):
    try:
        return client.key_value_try_get(key)
    except Exception as exc:          # not set yet: the peer has not beaten once
        if "NOT_FOUND" in str(exc) or "not found" in str(exc).lower():
            return None
        raise


def _has(client, key: str) -> bool:
    return _try_get(client, key) is not None


def leave(code: int) -> None:
    """End now: at a normal exit JAX waits at a shutdown barrier for every process, which a
    dead one never reaches (minutes). Everything of the run is on disk by now."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def lost_message(spec: ClusterSpec, why: str, run_dir=None) -> str:
    where = run_dir if spec.chief and run_dir else "RUN_DIR"
    return (f"cnnstudio: process {spec.process_id} of {spec.processes} stops: another process "
            f"of the cluster is gone ({why}). The run keeps its last checkpoint; resume it "
            f"with: cnnstudio train --resume {where} --cluster {spec.coordinator} "
            f"--processes N --process-id I (or on one machine without --cluster)")


def train(spec: ClusterSpec, config=None, *, resume=None, epochs=None, runs_root=None,
          run_dir=None, sink=None):
    """Train on this process (after ``join``); returns the engine's RunResult (process 0's
    is the run's)."""
    from cnnstudio.core.training import engine

    watchdog = Watchdog(spec).start()

    def both(event):
        watchdog.beat(event)
        if sink is not None:
            sink(event)

    digest = {}

    def fingerprint(model, epoch):      # the same on every process, or the run is wrong
        digest["weights_sha256"] = weights_digest(model)

    scratch = None if spec.chief else Path(tempfile.mkdtemp(prefix="cnnstudio-peer-"))
    try:
        if resume is not None:
            target = Path(resume) if spec.chief else _scratch_copy(Path(resume), scratch)
            _on_all_devices(target)
            result = engine.resume(target, sink=both, epochs=epochs, epoch_hooks=[fingerprint])
        else:
            config.training.device = "all"
            where = {"runs_root": runs_root, "run_dir": run_dir} if spec.chief else {
                "run_dir": scratch / "run"}
            result = engine.run(config, sink=both, epoch_hooks=[fingerprint], **where)
    finally:
        watchdog.stop()
    result.summary.update(digest)
    if result.status == "failed" and _peer_lost(result.summary.get("reason", "")):
        print(lost_message(spec, result.summary["reason"][:200], result.run_dir),
              file=sys.stderr, flush=True)
    if spec.chief:
        _record_processes(result, spec.processes)
    else:
        result.summary["run_dir"] = None        # nothing of this process is kept
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def weights_digest(model) -> str:
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()


def _scratch_copy(run: Path, scratch: Path) -> Path:
    """What a peer needs to resume: the config and the last checkpoint, in its own folder."""
    from cnnstudio.core.training.rundir import RunDir

    source = RunDir.open(run)
    target = scratch / "run"
    (target / "checkpoints").mkdir(parents=True)
    shutil.copy2(source.path / "config.json", target / "config.json")
    last = source.last_checkpoint()
    if last is not None:
        shutil.copy2(last[1], target / "checkpoints" / last[1].name)
    return target


def _on_all_devices(run: Path) -> None:
    """A run started on one process trains on every process's devices from now on."""
    from cnnstudio.core.training.rundir import RunDir

    folder = RunDir.open(run)
    config = folder.config()
    if config.training.device != "all":
        config.training.device = "all"
        folder.write_json("config.json", config.to_dict())


def _peer_lost(reason: str) -> bool:
    words = ("gloo", "connection", "heartbeat", "coordination", "unavailable", "peer")
    return any(w in reason.lower() for w in words)


def _record_processes(result, processes: int) -> None:
    from cnnstudio.core.training.rundir import RunDir

    result.summary["processes"] = processes
    folder = RunDir(result.run_dir)
    if (folder.path / "summary.json").exists():
        folder.write_json("summary.json", result.summary)
