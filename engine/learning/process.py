"""The training process, seen from the bot: start ``python -m engine.learning.train``, read its
progress lines, stop it when asked or when it overruns, and say in words why it failed."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.runtime.redaction import SECRET_NAME_ENDINGS

logger = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
FAILED_WITH_AN_ERROR = "the training process stopped with an error (the details are in the bot's log)."

# The training process gets only what it needs from the bot's environment: where programs,
# libraries and caches are, the locale, and the maths libraries' knobs. Never the bot's tokens,
# signing secret or API key (a crash dump or a library's telemetry of the child would carry them).
CHILD_VARIABLES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "LD_LIBRARY_PATH", "VIRTUAL_ENV", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONUTF8",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
})
CHILD_PREFIXES = ("LC_", "XDG_", "HF_", "TRANSFORMERS_", "TORCH_", "PYTORCH_", "OMP_", "MKL_",
                  "KMP_", "OPENBLAS_", "CUDA_")


def child_environment(parent: Mapping[str, str], threads: int) -> dict[str, str]:
    """The environment of the training process: an allow-list of the parent's, plus its settings."""
    env = {name: value for name, value in parent.items()
           if (name in CHILD_VARIABLES or name.startswith(CHILD_PREFIXES))
           and not name.upper().endswith(SECRET_NAME_ENDINGS)}  # HF_TOKEN is a secret too
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               TOKENIZERS_PARALLELISM="false", HF_HUB_DISABLE_PROGRESS_BARS="1",
               TRANSFORMERS_VERBOSITY="error",
               PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), parent.get("PYTHONPATH")])))
    return env


class TrainingFailed(Exception):
    """The training process did not deliver a model; ``str()`` says why, for people."""


class TrainingProcess:
    def __init__(self, work: Path, threads: int, deadline: float) -> None:
        self.work = work  # holds job.json; the log goes next to it
        self.threads = max(1, threads)
        self.deadline = deadline  # seconds before a process that has not finished is killed
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def run(self, on_event: Callable[[dict], None]) -> dict:
        """Run the job to its end; returns its metrics. Progress events go to ``on_event``."""
        env = child_environment(os.environ, self.threads)
        log_path = self.work / "train.log"
        done: dict | None = None
        error: str | None = None
        log = await asyncio.to_thread(log_path.open, "wb")
        with log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "engine.learning.train", str(self.work / "job.json"),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log, env=env,
                cwd=str(self.work))
            on_event({"event": "started", "pid": self._process.pid})
            events = self._process.stdout
            assert events is not None  # stdout=PIPE
            try:
                async with asyncio.timeout(self.deadline):
                    async for raw in events:
                        event = _parse_event(raw)
                        if event is None:
                            continue
                        if event.get("event") == "done":
                            done = event
                        elif event.get("event") == "error":
                            error = event.get("message")
                        else:
                            on_event(event)
                    returncode = await self._process.wait()
            except TimeoutError:
                await self.kill()
                raise TrainingFailed(f"the training process ran for more than {self.deadline:.0f} s "
                                     f"and was stopped.") from None
        if returncode != 0 or done is None:
            logger.error("training process exited with %s (error: %s); last log lines:\n%s",
                         returncode, error or "none reported", await asyncio.to_thread(_tail, log_path))
            raise TrainingFailed(_exit_text(returncode, error))
        # kept with the version
        await asyncio.to_thread(shutil.copyfile, log_path, Path(done["output"]) / "train.log")
        return done["metrics"]

    async def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            try:
                process.kill()
            except ProcessLookupError:
                pass
            await process.wait()


def _parse_event(raw: bytes) -> dict | None:
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _exit_text(returncode: int | None, error: str | None) -> str:
    if error:
        if "No space left" in error:
            return "the disk is full."
        if "out of memory" in error.lower() or "MemoryError" in error:
            return "the training process ran out of memory."
        return FAILED_WITH_AN_ERROR  # exception text is for the log, never for a channel
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory, or stopped by hand)" if returncode == -signal.SIGKILL else ""
        return f"the training process was killed by {name}{hint}."
    return f"the training process exited with code {returncode} before finishing."


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
