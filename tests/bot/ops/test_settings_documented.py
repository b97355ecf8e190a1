"""Every deployment variable is a field of ``Settings``, and the deployment table of
``docs/configuration.md`` and ``deploy/copybot.env.example`` document exactly those variables."""

from __future__ import annotations

import re

from engine.config import Settings, env_name, env_names, load_settings
from tests.models import REPO

VARIABLE = re.compile(r"`((?:COPYBOT|SLACK|DISCORD)_[A-Z0-9_]+)`")


def configuration_table() -> str:
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = page.split("\n## Deployment variables\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


def test_the_readme_table_documents_every_setting_and_only_real_ones():
    documented = set(VARIABLE.findall(configuration_table()))
    assert env_names() - documented == set(), "add these to the table in docs/configuration.md"
    assert documented - env_names() == set(), "docs/configuration.md documents variables copybot doesn't read"


def test_the_example_environment_lists_every_setting_and_only_real_ones():
    example = (REPO / "deploy" / "copybot.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert env_names() - listed == set()
    assert listed - env_names() == set()


def test_the_example_shows_each_default_as_the_settings_have_it():
    """A commented-out ``# COPYBOT_X=value`` line is the default: it must be what Settings uses."""
    example = (REPO / "deploy" / "copybot.env.example").read_text()
    shown = dict(re.findall(r"^# ((?:COPYBOT)_[A-Z0-9_]+)=(\S+)$", example, re.MULTILINE))
    checked = 0
    for name, spec in Settings.model_fields.items():
        value = shown.get(env_name(name))
        if value is None or value.startswith("<") or isinstance(spec.default, type(None)):
            continue
        default = spec.default
        if isinstance(default, bool):
            assert value in (("on", "true") if default else ("off", "false")), env_name(name)
        elif isinstance(default, (int, float)):
            assert float(value) == default, env_name(name)
        elif isinstance(default, str):
            assert value == default, env_name(name)
        else:
            continue
        checked += 1
    assert checked >= 30  # most defaults are shown; a parsing slip here must not pass silently


def test_secrets_are_secret_in_the_settings():
    secrets = {env_name(name) for name, spec in Settings.model_fields.items()
               if "SecretStr" in str(spec.annotation)}
    assert secrets == {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN",
                       "COPYBOT_OPENAI_API_KEY"}
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1-should-not-show"})
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1-should-not-show"
    assert "should-not-show" not in repr(settings) and "should-not-show" not in str(settings)
