"""`macm eval ... --executor ray [--ray-address ADDRESS]`: generation spread over Ray actors.

Each actor loads the model once (on its own GPU when the cluster has GPUs, else on one CPU) and the
dataset split, and generates whole batches with `generate_batch`, the local executor's function, so
the records are the same. The driver makes the same batches as `generate`, hands them to the free
actors and appends the records to `predictions.jsonl` in batch order: scoring, the report and
resuming are unchanged. An actor that dies is restarted by Ray and its batch retried, up to
`MAX_ATTEMPTS` in all; then the run stops, and resumes as any stopped run does. Every node
needs the model and the dataset folder at the same path (a shared disk).
"""

from pathlib import Path

from dataset_scripts.ray_executor import MAX_ATTEMPTS, connect


class _CaptionWorker:
    """One actor: one model, one copy of the split."""

    def __init__(self, model: str, dataset_dir: str, split: str, max_samples: int | None):
        import ray

        from macm_cli.captioner import MACMCaptioner
        from train.evaluate import load_split

        self.captioner = MACMCaptioner.from_pretrained(model)
        if ray.get_gpu_ids():
            self.captioner.model.to("cuda")
        self.dataset_dir = Path(dataset_dir)
        self.dataset = load_split(self.dataset_dir, split, max_samples)

    def motion_representation(self) -> str:
        return self.captioner.model.config.motion_representation

    def generate(self, tasks, config, max_new_tokens: int) -> list[dict]:
        from train.evaluate import generate_batch

        return generate_batch(self.captioner, self.dataset, self.dataset_dir, tasks, config, max_new_tokens, {})


class RayGenerator:
    """A pool of caption actors; `generate` has the signature of `train.evaluate.generate`, less the captioner
    (the actors hold it) and the dataset (they load it)."""

    def __init__(self, model: str, dataset_dir, split: str = "test", max_samples: int | None = None,
                 address: str | None = None, num_actors: int | None = None):  # fmt: skip
        from macm_cli import check_pretrained

        check_pretrained(model)  # here, at once: in an actor a bad path would fail as a Ray traceback
        if Path(model).is_dir():
            model = str(Path(model).resolve())  # the actors do not run in this folder
        ray = connect(address)
        from ray.util import ActorPool

        gpus = int(ray.cluster_resources().get("GPU", 0))
        resources = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        num_actors = num_actors or gpus or int(ray.cluster_resources().get("CPU", 1))
        worker = ray.remote(max_restarts=-1, max_task_retries=MAX_ATTEMPTS - 1, **resources)(_CaptionWorker)
        self.actors = [
            worker.remote(model, str(Path(dataset_dir).resolve()), split, max_samples) for _ in range(num_actors)
        ]
        self.pool = ActorPool(self.actors)
        self.ray = ray

    @property
    def motion_representation(self) -> str:
        return self.ray.get(self.actors[0].motion_representation.remote())

    def generate(self, tasks, log, config, batch_size: int, max_new_tokens: int) -> None:
        from tqdm.auto import tqdm

        from train.evaluate import batches

        pending = list(batches([t for t in tasks if t.key not in log], batch_size))

        def submit(actor, batch):
            return actor.generate.remote(batch, config, max_new_tokens)

        with tqdm(total=sum(map(len, pending)), desc=f"generating on Ray ({config.name})", unit="item") as bar:
            for records in self.pool.map(submit, pending):  # in submission order: the log reads as the local one
                for record in records:
                    log.append(record)
                bar.update(len(records))

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)


__all__ = ["RayGenerator"]
