"""Checkpoints of a long training run, so it can stop (a session ends, the machine restarts) and
continue where it was: the LoRA weights, the optimizer's and the schedule's state, and the step
reached, written every few steps into one folder; plus the DPO reference scores, computed once.

A checkpoint is written to ``<dir>/next`` and renamed over ``<dir>/last`` only once complete, so a
run killed mid-write resumes from the previous one. The batch plan is seeded, so the resumed run
skips exactly the batches it already trained on.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)


class Checkpoints:
    def __init__(self, directory: Path, every: int) -> None:
        self.directory = directory
        self.every = every
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def _last(self) -> Path:
        return self.directory / "last"

    def due(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def save(self, model, optimizer, scheduler, step: int) -> None:
        import torch
        from peft import get_peft_model_state_dict

        ready = self.directory / "next"
        shutil.rmtree(ready, ignore_errors=True)
        ready.mkdir()
        torch.save({"adapter": get_peft_model_state_dict(model), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "step": step}, ready / "state.pt")
        (ready / "step.json").write_text(json.dumps({"step": step}))
        previous = self.directory / "previous"
        shutil.rmtree(previous, ignore_errors=True)
        if self._last.exists():
            self._last.rename(previous)
        ready.rename(self._last)
        shutil.rmtree(previous, ignore_errors=True)

    def restore(self, model, optimizer, scheduler) -> int:
        """The step the last checkpoint reached (0: none), its state loaded into the objects."""
        state_file = self._last / "state.pt"
        if not state_file.exists():
            return 0
        import torch
        from peft import set_peft_model_state_dict

        state = torch.load(state_file, map_location="cpu", weights_only=False)
        set_peft_model_state_dict(model, state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        logger.info("resuming from the checkpoint at step %d", state["step"])
        return int(state["step"])

    def reference(self) -> list[tuple[float, float]] | None:
        path = self.directory / "reference.json"
        if not path.exists():
            return None
        return [tuple(pair) for pair in json.loads(path.read_text())]

    def keep_reference(self, reference: list[tuple[float, float]]) -> None:
        partial = self.directory / "reference.json.partial"
        partial.write_text(json.dumps(reference))
        partial.rename(self.directory / "reference.json")
