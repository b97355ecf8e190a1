"""A long training run stops and continues where it was (engine/learning/checkpoints.py): the
house copywriter trains for hours on two cores, in stages. The real training process
(``python -m engine.learning.train``) on the tiny model, stopped by its time limit, then run again."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from engine.learning.job import LoraShape, TrainingJob
from tests.models import REPO


def run(job: TrainingJob, work) -> dict:
    path = work / "job.json"
    job.write(path)
    done = subprocess.run([sys.executable, "-m", "engine.learning.train", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env={"PYTHONPATH": str(REPO),
                                                                         "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return next(event for event in events if event["event"] == "done")["metrics"]


def test_a_stopped_run_resumes_at_its_checkpoint_and_finishes_the_same_plan(tiny_model_dir, tmp_path):
    chat = [{"messages": [{"role": "user", "content": f"Write one ad for product {i}"}],
             "answer": f"Product {i}: made to last, priced to move."} for i in range(12)]
    job = TrainingJob(base=str(tiny_model_dir), chain=(), output=str(tmp_path / "adapter"),
                      train=tuple(chat[:8]), validation=tuple(chat[8:]), rejected=(), pairs=(),
                      dpo_beta=0.0, lora=LoraShape(rank=2, alpha=4), epochs=1, batch_size=2,
                      learning_rate=1e-3, threads=1, time_limit=0.0, precision="fp32", seed=0,
                      checkpoint_dir=str(tmp_path / "checkpoints"), checkpoint_every=1)

    first = run(job, tmp_path)  # the time limit lets one step run, then it stops and saves
    assert (first["steps"], first["planned_steps"], first["stopped_at_time_limit"]) == (1, 4, True)
    assert json.loads((tmp_path / "checkpoints" / "last" / "step.json").read_text()) == {"step": 1}

    second = run(replace(job, time_limit=3600.0), tmp_path)
    assert second["resumed_at_step"] == 1
    assert (second["steps"], second["stopped_at_time_limit"]) == (4, False)
    assert second["examples_seen"] == 6  # the three batches after the first, not the first again
