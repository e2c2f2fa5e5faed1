"""docker-compose.yml and the Dockerfile, checked as far as a machine without a Docker engine allows: the compose
client resolves the file (interpolation, merge keys, schema), and what it resolves is what production needs —
PostgreSQL and Redis healthy before the migrations, the migrations finished before web, worker and beat start,
and every command a real `interlink` command that production settings accept.

Needs a compose client (`docker compose` or Debian's `docker-compose`; .ci/run installs the latter). Without one
the test skips, saying so, or fails when INTERLINK_TEST_REQUIRE_SERVICES=1."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from interlink.cli import app as cli_app
from interlink.config import ConfigurationError, Environment, load_settings
from tests.fixtures.services import REQUIRE_SERVICES

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRET = "0123456789abcdef" * 4
INTERLINK_SERVICES = {"migrate", "web", "worker", "beat"}
TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"


def compose_command() -> list[str]:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if found := shutil.which("docker-compose"):
        return [found]
    message = "no compose client (docker compose, or apt-get install --no-install-recommends docker-compose)"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; INTERLINK_TEST_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)


def compose(*args: str, secret: str | None = SECRET) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLINK_")}
    if secret is not None:
        env["INTERLINK_SECRET_KEY"] = secret
    return subprocess.run(
        [*compose_command(), "--project-directory", str(REPO_ROOT), "-f", str(REPO_ROOT / "docker-compose.yml"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def resolved_config() -> dict[str, Any]:
    """The file as compose resolves it, as data. Compose v2 prints JSON; v1 (Debian's) prints YAML only, which
    the Python it runs on can read (it depends on PyYAML; Interlink does not)."""
    command = compose_command()
    if command[:2] == ["docker", "compose"]:
        rendered = compose("config", "--format", "json")
        assert rendered.returncode == 0, rendered.stderr
        config: dict[str, Any] = json.loads(rendered.stdout)
        return config
    rendered = compose("config")
    assert rendered.returncode == 0, rendered.stderr
    shebang = Path(command[0]).read_text(errors="replace").splitlines()[0]
    assert shebang.startswith("#!"), f"cannot tell which Python runs {command[0]}"
    converted = subprocess.run(
        [*shebang[2:].split(), "-c", TO_JSON], input=rendered.stdout, capture_output=True, text=True, check=True
    )
    config = json.loads(converted.stdout)
    return config


def assert_real_interlink_command(argv: list[str]) -> None:
    """``interlink SUBCOMMAND ARGS...`` names a subcommand the CLI has and passes it options it accepts."""
    assert argv[0] == "interlink", argv
    root: Any = typer.main.get_command(cli_app)
    with root.make_context("interlink", [argv[1]]) as context:
        subcommand = root.get_command(context, argv[1])
        assert subcommand is not None, f"`interlink {argv[1]}` is not a command"
        subcommand.make_context(argv[1], list(argv[2:]), parent=context)  # raises on an unknown option or value


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return resolved_config()


def test_compose_brings_up_the_whole_production_set_in_order(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) == {"postgres", "redis", *INTERLINK_SERVICES}
    for backing in ("postgres", "redis"):
        assert services[backing]["healthcheck"]["test"], f"{backing} has no healthcheck to wait on"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = {service: rule["condition"] for service, rule in services[name]["depends_on"].items()}
        assert depends == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        }, name


def test_every_interlink_service_runs_a_real_command_with_settings_production_accepts(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = config["services"]
    for name in sorted(INTERLINK_SERVICES):
        assert_real_interlink_command(services[name]["command"])
        for variable in [v for v in os.environ if v.startswith("INTERLINK_") and not v.startswith("INTERLINK_TEST_")]:
            monkeypatch.delenv(variable)
        monkeypatch.setenv("INTERLINK_DATA_DIR", str(tmp_path))
        for variable, value in services[name]["environment"].items():
            monkeypatch.setenv(variable, value)
        try:
            settings = load_settings()
        except ConfigurationError as refused:
            pytest.fail(f"{name}: production refuses its settings: {refused}")
        assert settings.environment is Environment.production
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert settings.broker_url == "redis://redis:6379/0"
        assert settings.secret_keys()[0] == SECRET
    assert services["beat"]["command"] == ["interlink", "beat"]  # exactly one beat: it is not scaled
    web = services["web"]
    port = web["command"][web["command"].index("--port") + 1]
    assert [(int(mapping["published"]), mapping["target"]) for mapping in web["ports"]] == [(8000, int(port))]
    assert f"127.0.0.1:{port}/readyz" in " ".join(web["healthcheck"]["test"])


def test_the_dockerfile_runs_a_real_interlink_command() -> None:
    (cmd,) = re.findall(r"^CMD\s+(\[.*\])\s*$", (REPO_ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert_real_interlink_command(json.loads(cmd))


def test_compose_refuses_to_start_without_a_secret_key_and_says_how_to_make_one() -> None:
    refused = compose("config", "--quiet", secret=None)
    assert refused.returncode != 0
    assert "set INTERLINK_SECRET_KEY first" in refused.stderr
