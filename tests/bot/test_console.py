"""The console adapter and the CLI, run as a user would: the real `copybot` command in a subprocess."""

import asyncio
import json
import re

from tests.processes import COPYBOT, console_session


async def test_console_copy_approve_bad_input_and_export(cli_env, tmp_path):
    async with console_session(cli_env, "run") as console:
        process = console.process
        await console.send(b"/help")
        assert "/copy <product description>" in await console.read_until("/report")

        await console.send(b"/copy insulated steel water bottle tone: bold channel: instagram n: 2")
        output = await console.read_until("Approve with")
        assert "Writing 2 variants" in output
        ids = re.findall(r"^\s+#(\d+)\s+\S", output, re.MULTILINE)
        assert len(ids) == 2
        # The first variant streamed as it was written, before the final list.
        streamed = re.search(r"^  writing: \S.*$", output, re.MULTILINE)
        assert streamed and streamed.start() < output.index(f"#{ids[0]}")

        await console.send(f"/approve {ids[1]}".encode())
        assert "it is now approved" in await console.read_until(f"#{ids[1]}")
        await console.send(f"/approve {ids[1]}".encode())  # a repeat changes nothing
        assert "already said so" in await console.read_until(f"#{ids[1]}")

        # Bad lines: each answered with one sentence, and the console keeps going.
        for line, expected in [
            (b"/copy", "Tell me what to write about"),
            (b"/copy shoes n: 1000", "from 1 to 10"),
            (b"/copy caf\xe9", "not valid UTF-8"),
            (b"/copy shoes colour: red", "Unknown option colour:"),
            (b"/dance", "no /dance command"),
            (b"/approve 99999", "no variant #99999"),
        ]:
            await console.send(line)
            assert expected in await console.read_until(r"\S")
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    stderr = (await process.stderr.read()).decode()
    assert "Traceback" not in stderr

    out = tmp_path / "approved.jsonl"
    export = await asyncio.create_subprocess_exec(*COPYBOT, "export", str(out), env=cli_env,
                                                  stdout=asyncio.subprocess.PIPE)
    stdout, _ = await export.communicate()
    assert export.returncode == 0 and "Wrote 1 approved example" in stdout.decode()
    example = json.loads(out.read_text())
    assert "insulated steel water bottle" in example["messages"][1]["content"]
    assert example["messages"][-1]["role"] == "assistant" and example["messages"][-1]["content"]


async def test_cli_copy_prints_variants_and_explains_bad_input(cli_env):
    ok = await asyncio.create_subprocess_exec(*COPYBOT, "copy", "vegan leather backpack", "-n", "2",
                                              env=cli_env, stdout=asyncio.subprocess.PIPE)
    stdout, _ = await ok.communicate()
    assert ok.returncode == 0
    assert len(re.findall(r"^#\d+\t\S", stdout.decode(), re.MULTILINE)) == 2

    bad = await asyncio.create_subprocess_exec(*COPYBOT, "copy", "backpack", "-n", "0", env=cli_env,
                                               stderr=asyncio.subprocess.PIPE)
    _, stderr = await bad.communicate()
    assert bad.returncode == 2
    assert stderr.decode().strip() == "copybot: n: must be a whole number from 1 to 10; got 0."


async def test_a_service_without_a_platform_token_says_so_and_exits(cli_env, tmp_path):
    process = await asyncio.create_subprocess_exec(*COPYBOT, "run", "--no-console", env=cli_env,
                                                   stdin=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    _, stderr = await process.communicate()
    assert process.returncode == 2  # the systemd unit does not restart on 2
    assert stderr.decode().splitlines() == [
        "copybot: No Slack or Discord token is set; set SLACK_BOT_TOKEN (with SLACK_APP_TOKEN or "
        "SLACK_SIGNING_SECRET) or DISCORD_TOKEN, or use `copybot console` to chat in a terminal."]
    assert not (tmp_path / "data" / "copybot.db").exists()  # it stopped before opening anything


async def test_a_missing_model_says_which_command_installs_it(cli_env, tmp_path):
    cli_env["COPYBOT_MODEL"] = str(tmp_path / "no-such-model")
    process = await asyncio.create_subprocess_exec(*COPYBOT, "copy", "backpack", env=cli_env,
                                                   stderr=asyncio.subprocess.PIPE)
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert "could not be loaded" in stderr.decode() and "Traceback" not in stderr.decode()


async def test_cli_report_prints_the_week_and_writes_the_chart(cli_env, tmp_path):
    made = await asyncio.create_subprocess_exec(*COPYBOT, "copy", "linen sheets", "-n", "2", env=cli_env,
                                                stdout=asyncio.subprocess.PIPE)
    await made.communicate()
    chart = tmp_path / "week.png"
    process = await asyncio.create_subprocess_exec(*COPYBOT, "report", "--out", str(chart), env=cli_env,
                                                   stdout=asyncio.subprocess.PIPE)
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    assert "This week so far" in stdout.decode()
    assert "Copy: 1 request, 2 variants" in stdout.decode()
    assert chart.read_bytes()[:4] == b"\x89PNG"


async def test_console_reviews_take_a_paste_and_are_stored(cli_env, tmp_path):
    async with console_session(cli_env, "console") as console:
        await console.send(b"/reviews")
        await console.read_until("Paste the reviews")
        for review in (b"The battery lasts all week, love it", b"Stopped charging after a month",
                       b"Customer service never answered my emails", b"Great screen, great battery", b""):
            await console.send(review)
        summary = await console.read_until("Net score")
        assert "4 reviews" in summary and "Negative 50% (2)" in summary
        console.process.stdin.close()
        assert await asyncio.wait_for(console.process.wait(), timeout=60) == 0
    import sqlite3
    with sqlite3.connect(tmp_path / "data" / "copybot.db") as db:
        assert db.execute("SELECT analysed, negative FROM review_batches").fetchall() == [(4, 2)]
