"""One LoRA fine-tune, run as its own process: ``python -m engine.learning.train <job.json>``.

The bot starts it (``engine.learning.runner``) so training never blocks the bot's event loop or its
model thread. It loads the active model (base + merged adapters), trains a new LoRA adapter on the
approved copy (loss on the answer only), scores the active model and the candidate on the
validation copy, and writes the adapter to ``<output>.partial``, renamed to ``<output>`` only once
complete. Progress goes to stdout as JSON lines (``{"event": ...}``) that the bot reads; anything
libraries print goes to stderr. It runs at low CPU priority with a thread limit, stops training at
its time limit, and exits on its own when the bot that started it is gone.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from engine.learning.checkpoints import Checkpoints
from engine.learning.job import TrainingJob

# Where progress lines go: the original stdout. Everything else printed goes to stderr.
_progress: TextIO | None = None


def emit(event: str, **fields) -> None:
    assert _progress is not None  # main opens it before anything is emitted
    _progress.write(json.dumps({"event": event, **fields}) + "\n")
    _progress.flush()


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process when its parent dies; elsewhere the step loop checks."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        sys.exit(3)


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _precision(wanted: str) -> str:
    """"bf16" (frozen weights and matrix products in bf16, trained LoRA weights in fp32) where the
    CPU has native bf16 (about 1.6-2.5x faster training on AVX512-BF16/AMX machines), else "fp32"."""
    import torch

    if wanted in ("fp32", "bf16"):
        return wanted
    try:
        return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    except (AttributeError, RuntimeError):
        return "fp32"


def _batches(items: list, size: int, rng: random.Random) -> list[list]:
    """Shuffled batches of examples of similar length (less padding); seeded, so a rerun of the
    same job trains the same way."""
    shuffled = items[:]
    rng.shuffle(shuffled)
    # Sort within windows of a few batches: similar lengths together, order still random.
    window = size * 4
    ordered = []
    for start in range(0, len(shuffled), window):
        ordered += sorted(shuffled[start:start + window], key=lambda e: len(e.input_ids))
    batches = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    rng.shuffle(batches)
    return batches


def train(job: TrainingJob) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    from engine.generation.transformers_model import load_with_adapters
    from engine.learning.evaluate import Scores, clean_rate, mean_nll
    from engine.learning.preference import mean_margin, pair_logps
    from engine.learning.step import MICRO_TOKENS, accumulate_gradients
    from engine.learning.tokens import encode

    threads = max(1, job.threads)
    torch.set_num_threads(threads)
    torch.manual_seed(job.seed)
    rng = random.Random(job.seed)
    started = time.monotonic()

    emit("phase", phase="loading")
    precision = _precision(job.precision)
    # bf16: the frozen weights in bf16, half the memory (3 GB instead of 6 on the 1.5B model), and
    # autocast no longer keeps a bf16 copy of each for the backward pass. The LoRA weights that
    # train stay fp32 (peft keeps adapters in fp32), and so does the optimizer state.
    model, tokenizer = load_with_adapters(job.base, [Path(p) for p in job.chain], threads=threads,
                                          bf16=precision == "bf16")
    pad_id = tokenizer.pad_token_id
    max_length = job.max_length

    def encoded(items) -> list:
        return [encode(tokenizer, item["messages"], item["answer"], max_length) for item in items]

    train_set, valid_set, rejected_set = encoded(job.train), encoded(job.validation), encoded(job.rejected)
    pairs = [(encode(tokenizer, p["messages"], p["chosen"], max_length),
              encode(tokenizer, p["messages"], p["rejected"], max_length)) for p in job.pairs]
    checkpoints = Checkpoints(Path(job.checkpoint_dir), job.checkpoint_every) if job.checkpoint_dir else None
    # DPO's reference: the active model, scored once before the new adapter exists (and kept with
    # the checkpoints, so a resumed run does not score them again).
    pair_batch = max(1, job.batch_size // 2)
    reference = checkpoints.reference() if checkpoints else None
    margin_before = None
    if pairs and reference is None:
        emit("phase", phase="scoring preference pairs")
        reference = []
        with torch.no_grad():
            model.eval()
            for start in range(0, len(pairs), pair_batch):
                chosen, rejected = pair_logps(model, pairs[start:start + pair_batch], pad_id)
                reference += list(zip(chosen.tolist(), rejected.tolist()))
        if checkpoints:
            checkpoints.keep_reference(reference)
    if reference is None:  # no pairs: nothing is compared with it
        reference = []
    if pairs:
        margin_before = sum(c - r for c, r in reference) / len(reference)
    beta = job.dpo_beta  # 0: approvals only, no preference learning
    model = get_peft_model(model, LoraConfig(
        r=job.lora.rank, lora_alpha=job.lora.alpha, lora_dropout=job.lora.dropout,
        target_modules="all-linear", task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=job.learning_rate, weight_decay=0.0)
    batch_size = job.batch_size
    epochs = job.epochs
    plan = [_batches(train_set, batch_size, rng) for _ in range(epochs)]
    total_steps = sum(len(epoch) for epoch in plan)
    warmup = max(1, total_steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.1, 1 - step / max(1, total_steps)))

    micro_tokens = job.micro_tokens or MICRO_TOKENS
    resumed = checkpoints.restore(model, optimizer, scheduler) if checkpoints else 0
    emit("phase", phase="training", steps=total_steps, examples=len(train_set), trainable=trainable,
         precision=precision, resumed_at=resumed)
    time_limit = job.time_limit
    train_started, cpu_started = time.monotonic(), time.process_time()
    losses: list[float] = []
    step = examples_seen = 0
    stopped_at_limit = False
    model.train()
    for epoch in plan:
        for batch in epoch:
            if step < resumed:  # done before the restart: the plan is seeded, so it is the same batch
                step += 1
                continue
            elapsed = time.monotonic() - train_started
            if step > resumed and elapsed >= time_limit:
                stopped_at_limit = True
                break
            if job.parent_pid and os.getppid() != job.parent_pid:
                sys.exit(3)  # the bot is gone: nobody will use the result
            chunk = range(0)
            if pairs and beta:  # SFT on approvals plus DPO on a batch of pairs, every step
                start = (step * pair_batch) % len(pairs)
                chunk = range(start, min(start + pair_batch, len(pairs)))
            loss = accumulate_gradients(model, batch, [pairs[i] for i in chunk], [reference[i] for i in chunk],
                                        pad_id, beta, micro_tokens, bf16=precision == "bf16")
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            examples_seen += len(batch)
            losses.append(loss)
            elapsed = time.monotonic() - train_started
            emit("progress", step=step, steps=total_steps, loss=round(losses[-1], 4),
                 elapsed=round(elapsed, 1),
                 eta=round(elapsed / (step - resumed) * (total_steps - step), 1))
            if checkpoints and checkpoints.due(step):
                checkpoints.save(model, optimizer, scheduler, step)
        if stopped_at_limit:
            break
    if checkpoints and step > resumed:  # where a stopped run picks up (a finished one has nothing to)
        checkpoints.save(model, optimizer, scheduler, step)
    train_seconds = time.monotonic() - train_started
    # CPU time as well: on a shared machine the wall time says as much about the neighbours.
    train_cpu_seconds = time.process_time() - cpu_started

    emit("phase", phase="evaluating")
    model.eval()
    clean_prompts = list(job.clean_prompts)

    def scores() -> Scores:
        return Scores(approved_nll=mean_nll(model, valid_set, pad_id),
                      rejected_nll=mean_nll(model, rejected_set, pad_id) if rejected_set else None,
                      clean_rate=clean_rate(model, tokenizer, clean_prompts, seed=job.seed),
                      clean_samples=len(clean_prompts) or None)

    with model.disable_adapter():
        active = scores()
    candidate = scores()
    margin_after = mean_margin(model, pairs, pad_id) if pairs else None

    emit("phase", phase="saving")
    output = Path(job.output)
    partial = output.with_name(output.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(str(partial))  # peft declares a str; it only joins and creates paths
    metrics = {
        "active": active.to_dict(), "candidate": candidate.to_dict(),
        "steps": step, "planned_steps": total_steps, "stopped_at_time_limit": stopped_at_limit,
        "resumed_at_step": resumed,
        "epochs": epochs, "train_examples": len(train_set), "valid_examples": len(valid_set),
        "rejected_examples": len(rejected_set), "examples_seen": examples_seen,
        "preference_pairs": len(pairs) if beta else 0,  # trained on
        # Mean log-probability lead of approved over rejected answers in the pairs.
        "pair_margin": {"active": margin_before, "candidate": margin_after} if pairs else None,
        "first_loss": round(sum(losses[:3]) / len(losses[:3]), 4) if losses else None,
        "last_loss": round(sum(losses[-3:]) / len(losses[-3:]), 4) if losses else None,
        "train_seconds": round(train_seconds, 1),
        "seconds_per_example": round(train_seconds / examples_seen, 3) if examples_seen else None,
        "cpu_seconds_per_example": round(train_cpu_seconds / examples_seen, 3) if examples_seen else None,
        "total_seconds": round(time.monotonic() - started, 1),
        "peak_memory_mb": round(_peak_memory_mb()), "threads": threads, "trainable_parameters": trainable,
        "precision": precision,
    }
    (partial / "training.json").write_text(json.dumps(metrics, indent=2))
    shutil.rmtree(output, ignore_errors=True)
    partial.rename(output)
    return metrics


def main(argv: list[str]) -> int:
    global _progress
    if len(argv) != 2:
        print("usage: python -m engine.learning.train <job.json>", file=sys.stderr)
        return 2
    job = TrainingJob.read(Path(argv[1]))
    _progress = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # library chatter on stdout would garble the progress lines
    if job.parent_pid:
        _die_with_parent(job.parent_pid)
    try:
        os.nice(job.nice)  # the bot answering /copy comes first
    except OSError:
        pass
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        metrics = train(job)
    except Exception as exc:  # the parent reports it; the traceback is on stderr (its log file)
        import traceback

        traceback.print_exc()
        emit("error", message=f"{type(exc).__name__}: {exc}"[:500])
        return 1
    emit("done", output=job.output, metrics=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
