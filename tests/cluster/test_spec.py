"""Who is in the cluster: flags, SLURM's variables, the studio's own; bad values said plainly."""

from __future__ import annotations

import sys

import pytest

from cnnstudio.core.cluster import launch
from cnnstudio.core.cluster.spec import ClusterSpec, first_host, resolve
from cnnstudio.core.errors import ConfigError, StudioError


def test_flags_slurm_and_studio_variables_give_the_same_kind_of_spec():
    assert resolve(env={}) is None                               # one process: no cluster
    assert resolve("10.0.0.1:12355", 2, 1, env={}) == ClusterSpec("10.0.0.1:12355", 2, 1)
    slurm = {"SLURM_NTASKS": "4", "SLURM_PROCID": "3", "SLURM_JOB_NODELIST": "gpu[07-10,12]",
             "CNNSTUDIO_CLUSTER_PORT": "23000"}
    spec = resolve(env=slurm)
    assert spec == ClusterSpec("gpu07:23000", 4, 3) and not spec.chief
    assert resolve(env={"SLURM_NTASKS": "1", "SLURM_PROCID": "0"}) is None   # a 1-task job
    assert resolve(env={"CNNSTUDIO_CLUSTER": "h:1", "CNNSTUDIO_PROCESSES": "2",
                        "CNNSTUDIO_PROCESS_ID": "0"}).chief
    assert first_host("node1,node2") == "node1" and first_host("a[3]") == "a3"


@pytest.mark.parametrize("args, message", [
    (("host", 2, 0), "HOST:PORT"),
    (("host:99999", 2, 0), "HOST:PORT"),
    (("host:1", 2, 2), "--process-id must be 0 … 1"),
    (("host:1", 0, 0), "--processes must be at least 1"),
    (("host:1", None, 0), "needs all three"),
])
def test_bad_cluster_settings_are_refused_with_one_message(args, message):
    with pytest.raises(ConfigError, match=message):
        resolve(*args, env={})


def test_a_missing_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)                # as if not installed
    with pytest.raises(StudioError, match=r'pip install "cnnstudio\[cluster\]"'):
        launch.require_jax()
    from cnnstudio.core.sweeps import runner

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(StudioError, match=r'sweeps run on Ray: pip install "cnnstudio\[cluster\]"'):
        runner.require_ray()
