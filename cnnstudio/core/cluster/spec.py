"""Who is in the cluster: coordinator address, number of processes, this process's rank.

From the command line (``--cluster HOST:PORT --processes N --process-id I``), else from
the variables a scheduler sets: SLURM (``SLURM_NTASKS``, ``SLURM_PROCID``, the first host
of ``SLURM_JOB_NODELIST`` and ``CNNSTUDIO_CLUSTER_PORT``) or the studio's own
(``CNNSTUDIO_CLUSTER``, ``CNNSTUDIO_PROCESSES``, ``CNNSTUDIO_PROCESS_ID``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cnnstudio.core.errors import ConfigError

DEFAULT_PORT = 12355


@dataclass(frozen=True)
class ClusterSpec:
    coordinator: str        # HOST:PORT of process 0
    processes: int
    process_id: int

    @property
    def chief(self) -> bool:
        """Process 0 writes the run directory; the others write nothing there."""
        return self.process_id == 0


def first_host(nodelist: str) -> str:
    """The first host of a SLURM node list: 'gpu[01-04,07],cpu1' → 'gpu01'."""
    m = re.match(r"([^,\[]+)(?:\[([^\]]+)\])?", nodelist.strip())
    if not m:
        raise ConfigError(f"cannot read the SLURM node list {nodelist!r}")
    prefix, ranges = m.group(1), m.group(2)
    if not ranges:
        return prefix
    return prefix + ranges.split(",")[0].split("-")[0]


def _int(name: str, value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def resolve(cluster: str | None = None, processes: int | None = None,
            process_id: int | None = None, env=None) -> ClusterSpec | None:
    """The cluster this process belongs to, or None for a run on one process."""
    env = os.environ if env is None else env
    if cluster is None and processes is None and process_id is None:
        if "CNNSTUDIO_CLUSTER" in env:
            cluster = env["CNNSTUDIO_CLUSTER"]
            processes = _int("CNNSTUDIO_PROCESSES", env.get("CNNSTUDIO_PROCESSES"))
            process_id = _int("CNNSTUDIO_PROCESS_ID", env.get("CNNSTUDIO_PROCESS_ID"))
        elif "SLURM_NTASKS" in env and "SLURM_PROCID" in env and _int(
                "SLURM_NTASKS", env["SLURM_NTASKS"]) > 1:
            host = first_host(env.get("SLURM_JOB_NODELIST", env.get("SLURM_NODELIST", "")))
            port = _int("CNNSTUDIO_CLUSTER_PORT", env.get("CNNSTUDIO_CLUSTER_PORT",
                                                          DEFAULT_PORT))
            cluster = f"{host}:{port}"
            processes = _int("SLURM_NTASKS", env["SLURM_NTASKS"])
            process_id = _int("SLURM_PROCID", env["SLURM_PROCID"])
        else:
            return None
    if cluster is None or processes is None or process_id is None:
        raise ConfigError("a cluster run needs all three: --cluster HOST:PORT, --processes N "
                          "and --process-id I")
    host, sep, port = cluster.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--cluster must be HOST:PORT (process 0's address), got {cluster!r}")
    if processes < 1:
        raise ConfigError(f"--processes must be at least 1, got {processes}")
    if not 0 <= process_id < processes:
        raise ConfigError(f"--process-id must be 0 … {processes - 1}, got {process_id}")
    return ClusterSpec(cluster, processes, process_id)
