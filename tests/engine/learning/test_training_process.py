"""The training process as the team and the machine see it: what it is given, what it says."""

from __future__ import annotations

import logging
import os
import shutil
import signal
from dataclasses import replace

from engine import Engine
from tests.engine.learning.helpers import ADMIN, PRODUCTS, Channel, seed, wait_until, with_settings

PLATFORM_SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-9999-8888-childMustNotSeeThis",
    "SLACK_SIGNING_SECRET": "childMustNotSeeThisSigningSecret",
    "SLACK_APP_TOKEN": "xapp-1-A999-childMustNotSeeThis",
    "DISCORD_TOKEN": "MTk5OTk5.childMustNot.SeeThisDiscordToken",
    "COPYBOT_OPENAI_API_KEY": "sk-childMustNotSeeThisKey",
    "HF_TOKEN": "hf_childMustNotSeeThisHubToken",
}


def environment_of(pid: int) -> dict[str, str]:
    raw = open(f"/proc/{pid}/environ", "rb").read()
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


async def test_the_training_process_gets_no_token_or_secret(learning_config, monkeypatch):
    for name, value in PLATFORM_SECRETS.items():
        monkeypatch.setenv(name, value)
    engine = await Engine.open(with_settings(learning_config, finetune_epochs=10_000))
    try:
        await seed(engine, PRODUCTS)
        assert (await engine.learning.start(ADMIN.workspace_key, "console:owner")).outcome.started
        progress = engine.learning.runner.progress
        await wait_until(lambda: progress.step >= 1, timeout=180, what="the first training step")
        child = environment_of(progress.pid)
        os.kill(progress.pid, signal.SIGKILL)
        await engine.learning.runner.wait()
    finally:
        await engine.close()
    assert not [name for name in PLATFORM_SECRETS if name in child]
    assert not [value for value in PLATFORM_SECRETS.values() if value in "\n".join(child.values())]
    # What it does need, it has: the thread limit and where its programs are.
    assert child["OMP_NUM_THREADS"] == "1" and child["PATH"] == os.environ["PATH"]


async def test_a_crashing_training_process_is_announced_in_one_sentence(learning_config, tmp_path,
                                                                         caplog):
    model = tmp_path / "model"
    shutil.copytree(learning_config.model, model)
    channel = Channel()
    engine = await Engine.open(replace(learning_config, model=str(model)))  # loaded while intact
    try:
        engine.set_publisher("console", channel.publish)
        await engine.change_setting(ADMIN, "report_channel", "marketing")
        await seed(engine, PRODUCTS)
        for weights in model.glob("*.safetensors"):  # the files are damaged on disk meanwhile
            weights.write_bytes(b"\xff" * 64)
        with caplog.at_level(logging.ERROR, logger="engine.learning.process"):
            outcome = await engine.learning.runner.run("schedule", ADMIN.workspace_key)
    finally:
        await engine.close()
    assert outcome.status == "failed"
    [post] = channel.posts
    assert post.text == ("The fine-tune failed: the training process stopped with an error (the "
                         "details are in the bot's log). The active model is unchanged.")
    # The details are in the log, for whoever runs the bot.
    assert "Error" in caplog.text and "training process exited with 1" in caplog.text
