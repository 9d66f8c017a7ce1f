"""Motion extraction on Ray Data: `macm build ... --extract-motion --executor ray [--ray-address ADDRESS]`.

The clips go through `Dataset.map_batches` one at a time to a pool of actors, one per CPU of the
cluster; each actor holds one pose model (MediaPipe's graphs, reset between clips) for all its clips.
Everything else is the local executor's (extract_motion.py): an actor writes `motion/<id>.npz` with
the same atomic write, a clip whose track exists is skipped (so a rerun resumes), and `build` turns the
tracks into the same rows. The dataset folder must be at the same path on every node (a shared disk).

A worker that dies mid-clip (killed, out of memory, a crash in native code) is restarted by Ray and
the clip retried (Ray Data's actor fault tolerance). A ledger actor records every start of a clip: the
report says which clips were retried, and a clip that killed its worker `MAX_ATTEMPTS` times is given
up (reported, as an unreadable video is) instead of retried forever. Ray is imported only here.
"""

import os
import socket
from collections import defaultdict
from pathlib import Path

import numpy as np

from .extract_motion import MOTION_DIR, _extract_one, track_path

MAX_ATTEMPTS = 3  # a clip that kills its worker this many times is reported, not retried forever
# Test hook, unset in normal use: "ID:N,..." makes the workers of the first N attempts at clip ID exit at once
# (`os._exit`), as killed workers would, so that tests/test_ray.py sees real restarts and retries.
CRASH_ENV = "MACM_RAY_TEST_CRASH"


def require_ray():
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "--executor ray needs Ray: `pip install 'macm[scale]'` (or `bash scripts/setup.sh --dev`)."
        ) from err
    return ray


def check_address(address: str) -> None:
    """Fails at once, with a ConnectionError saying what to do, for a `HOST:PORT` where nothing listens
    (`ray.init` would wait minutes on it). Other forms (`auto`, `ray://...`) are left to Ray."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise ConnectionError(
            f"No Ray cluster answers at --ray-address {address} ({err.strerror or err}); start one with "
            "`ray start --head` on the head node (and `ray start --address HEAD:6379` on the others), or leave "
            "out --ray-address to run on this machine."
        ) from None


def connect(address: str | None = None):
    """Ray, connected: to the running cluster at `address` (`ray start --head` prints it), else to the
    instance this process already started, else to a new local instance sized to this machine."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if address:
        check_address(address)
    ray.init(address=address, include_dashboard=False, configure_logging=False)
    return ray


class _Ledger:
    """Which worker started which clip: every start but the last of a clip is a worker that died on it."""

    def __init__(self):
        self.starts = defaultdict(list)

    def start(self, clip_id: str, worker: str) -> int:
        self.starts[clip_id].append(worker)
        return len(self.starts[clip_id])

    def read(self) -> dict[str, list[str]]:
        return dict(self.starts)


def _crashes(clip_id: str) -> int:
    """How many first attempts at `clip_id` the test hook (`CRASH_ENV`) kills."""
    for entry in filter(None, os.environ.get(CRASH_ENV, "").split(",")):
        name, _, times = entry.rpartition(":")
        if name == clip_id:
            return int(times)
    return 0


class _PoseWorker:
    """One actor: the pose model is made once, here, and serves every clip the actor gets."""

    def __init__(self, dataset_dir: str, backend: str, max_fps: float | None, ledger):
        import ray

        if not (Path(dataset_dir) / MOTION_DIR).is_dir():
            raise FileNotFoundError(
                f"{dataset_dir}/{MOTION_DIR} is not on node {ray.util.get_node_ip_address()}: every node needs the "
                "dataset folder at the same path (a shared disk)."
            )
        self.dataset_dir, self.backend, self.max_fps, self.ledger = dataset_dir, backend, max_fps, ledger
        self.worker = f"pid {os.getpid()} on {ray.util.get_node_ip_address()}"
        self.options = {}
        if backend == "mediapipe":
            from processing_macm.pose_mediapipe import pose_graphs

            self.options["graphs"] = pose_graphs()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        return {
            "id": list(batch["id"]),
            "motion_error": [self._extract(c, v) for c, v in zip(batch["id"], batch["video"])],
        }

    def _extract(self, clip_id: str, video: str) -> str:
        import ray

        if track_path(self.dataset_dir, clip_id).is_file():  # done by an attempt that died before returning
            return ""
        attempt = ray.get(self.ledger.start.remote(clip_id, self.worker))
        if attempt > MAX_ATTEMPTS:
            return f"its worker died on all {MAX_ATTEMPTS} attempts (killed, out of memory or crashed); a rerun tries again"
        if attempt <= _crashes(clip_id):
            os._exit(1)
        return _extract_one(
            {"id": clip_id, "video": video}, self.dataset_dir, self.backend, self.max_fps, **self.options
        )["motion_error"]


def extract_tracks_ray(
    dataset_dir, clips: list[tuple[str, str]], backend: str = "mediapipe", max_fps: float | None = 10.0,
    address: str | None = None, cpus_per_actor: float = 1.0,
) -> tuple[dict[str, str], dict[str, str]]:  # fmt: skip
    """`extract_tracks` on Ray: writes `motion/<id>.npz` for every `(id, video)` that lacks one.

    Returns `({id: error}, {id: what was retried})`: the errors are the local executor's (unreadable
    videos) plus clips whose worker died on all `MAX_ATTEMPTS`; a rerun tries both again. An exception
    that is not the video's (a bug) stops the run, as it does locally.
    """
    dataset_dir = Path(dataset_dir).resolve()
    (dataset_dir / MOTION_DIR).mkdir(parents=True, exist_ok=True)
    todo = [(clip_id, video) for clip_id, video in clips if not track_path(dataset_dir, clip_id).is_file()]
    if not todo:
        return {}, {}
    connect(address)
    import ray.data

    ledger = ray.remote(num_cpus=0)(_Ledger).remote()
    actors = max(1, min(len(todo), int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor)))
    items = [{"id": clip_id, "video": video} for clip_id, video in todo]
    # One block per clip, the unit of retry: Ray Data restarts a dead actor and resubmits its block.
    done = (
        ray.data.from_items(items, override_num_blocks=len(items))
        .map_batches(
            _PoseWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=cpus_per_actor,
            fn_constructor_kwargs={"dataset_dir": str(dataset_dir), "backend": backend, "max_fps": max_fps, "ledger": ledger},
        )
        .take_all()
    )  # fmt: skip
    starts = ray.get(ledger.read.remote())
    ray.kill(ledger)
    retried = {
        clip_id: f"worker died mid-clip ({'; '.join(workers[:-1])}), "
        + ("gave up" if len(workers) > MAX_ATTEMPTS else f"done on attempt {len(workers)}")
        for clip_id, workers in starts.items()
        if len(workers) > 1
    }
    return {row["id"]: row["motion_error"] for row in done if row["motion_error"]}, retried


__all__ = ["CRASH_ENV", "MAX_ATTEMPTS", "check_address", "connect", "extract_tracks_ray", "require_ray"]
