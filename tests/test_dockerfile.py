"""The Dockerfile: its shape, and (no Docker engine here) its steps followed on this machine.

The slow test builds the image's build context from ``.dockerignore``, follows the builder
stage's ``ENV``/``WORKDIR``/``COPY``/``RUN`` steps under a temporary root (container path
``/x`` becomes ``<tmp>/root/x``), then starts the final stage's ``ENTRYPOINT``+``CMD`` against
the Peaka simulator and the Slack stand-in and runs the ``HEALTHCHECK`` command against it.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.settings import DEFAULT_DATABASE_URL, Settings

REPO = Path(__file__).resolve().parent.parent
# What the python:3.11-slim image starts with.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STARTUP_LIMIT = 90.0  # seconds; a bound on waiting, not a speed assertion
SHELL_OPERATORS = ("&&", "||", ";", "|", ">", "<", "`", "$(")


# --- reading the Dockerfile ----------------------------------------------------------------


@dataclass
class Stage:
    """One ``FROM`` section: its base image, its ``AS`` name and its instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages of a Dockerfile, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=parts[0], name=name))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


def exec_form(args: str) -> list[str]:
    """A JSON-array instruction argument (``["a", "b"]``) as a list."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def healthcheck_command(stage: Stage) -> list[str]:
    args = stage.last("HEALTHCHECK")
    command = re.sub(r"^(--\S+\s+)*", "", args)
    assert command.startswith("CMD "), f"HEALTHCHECK without CMD: {args}"
    return exec_form(command.removeprefix("CMD "))


def env_pairs(args: str) -> list[tuple[str, str]]:
    return [tuple(item.split("=", 1)) for item in shlex.split(args)]  # type: ignore[misc]


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile((REPO / "Dockerfile").read_text(encoding="utf-8"))


# --- the build context ---------------------------------------------------------------------


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception "!", regex) per .dockerignore line, in order."""
    patterns = []
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        glob = line.removeprefix("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/?|\*|\?)", glob):
            if token.startswith("**"):
                regex += "(.*/)?" if token.endswith("/") else ".*"
            elif token == "*":
                regex += "[^/]*"
            elif token == "?":
                regex += "[^/]"
            else:
                regex += re.escape(token)
        patterns.append((negate, re.compile(regex + r"\Z")))
    return patterns


def in_context(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, regex in patterns:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return not excluded


def build_context(destination: Path) -> Path:
    patterns = dockerignore_patterns()
    for path in sorted(REPO.rglob("*")):
        relative = path.relative_to(REPO).as_posix()
        if path.is_file() and not path.is_symlink() and in_context(relative, patterns):
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return destination


# --- following the steps under a temporary root --------------------------------------------


class Follower:
    """Runs Dockerfile steps with container paths mapped under ``root``."""

    def __init__(self, root: Path, context: Path) -> None:
        self.root, self.context = root, context
        self.env: dict[str, str] = {"PATH": IMAGE_PATH, "HOME": "/root"}
        self.workdir = "/"
        (root / "root").mkdir(parents=True, exist_ok=True)

    def host(self, container_path: str) -> Path:
        """Where ``container_path`` (absolute, or relative to WORKDIR) is on this machine."""
        absolute = posixpath.normpath(posixpath.join(self.workdir, container_path))
        return self.root / absolute.lstrip("/")

    def host_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(self.env)
        env["PATH"] = os.pathsep.join(str(self.host(p)) for p in env["PATH"].split(":"))
        env["HOME"] = str(self.host(env["HOME"]))
        env.update(extra or {})
        return env

    def which(self, program: str) -> str:
        for directory in self.env["PATH"].split(":"):
            candidate = self.host(directory) / program
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        if program in ("python", "python3"):  # the base image's own interpreter
            return getattr(sys, "_base_executable", sys.executable)
        raise AssertionError(f"{program!r} is not on the image's PATH {self.env['PATH']}")

    def argv(self, command: list[str]) -> list[str]:
        mapped = [str(self.host(a)) if a.startswith("/") else a for a in command]
        return [self.which(mapped[0]), *mapped[1:]]

    def apply(self, keyword: str, args: str) -> None:
        if keyword == "ENV":
            for key, value in env_pairs(args):
                self.env[key] = re.sub(
                    r"\$\{?(\w+)\}?", lambda m: self.env.get(m.group(1), ""), value
                )
        elif keyword == "WORKDIR":
            self.workdir = args
            self.host(args).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, dest = shlex.split(args)
            assert not any(s.startswith("--") for s in sources), f"COPY flags: {args}"
            for source in sources:
                self.copy(self.context / source, dest, multiple=len(sources) > 1)
        elif keyword == "RUN":
            assert not any(op in args for op in SHELL_OPERATORS), (
                f"builder RUN steps must be one plain command for this test to follow: {args}"
            )
            command = self.argv(shlex.split(args))
            done = _run(command, self.host_env(), cwd=self.host(self.workdir))
            assert done[0] == 0, f"RUN {args} failed ({done[0]}):\n{done[1][-4000:]}"
        # ARG, LABEL, EXPOSE and the like change nothing on disk.

    def copy(self, source: Path, dest: str, *, multiple: bool) -> None:
        assert source.exists(), f"COPY source {source.name} is not in the build context"
        target = self.host(dest)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            if multiple or dest.endswith("/"):
                target = target / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=900
    )
    return done.returncode, done.stdout + done.stderr


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- shape ---------------------------------------------------------------------------------


def test_image_is_multi_stage_on_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2, "a builder stage and a final stage"
    assert all(s.base == "python:3.11-slim" for s in stages), [s.base for s in stages]
    builder, final = stages[0], stages[-1]
    assert builder.name == "builder"
    copies = [c for c in final.all("COPY") if c.startswith("--from=builder")]
    assert copies, "the final stage takes the built environment from the builder"
    for copy in copies:
        _, source, dest = shlex.split(copy)
        assert source == dest, "a venv is not relocatable: same path in both stages"
    assert not any(kw == "RUN" and "pip install" in args for kw, args in final.instructions)


def test_builder_installs_in_one_command(stages: list[Stage]) -> None:
    installs = [r for r in stages[0].all("RUN") if "pip install" in r]
    assert len(installs) == 1, f"exactly one install step, found {installs}"
    assert "--no-cache-dir" in installs[0]


def test_final_stage_runs_as_non_root(stages: list[Stage]) -> None:
    user = stages[-1].last("USER").split(":")[0]
    assert user not in ("root", "0"), f"USER {user}"


def test_entrypoint_volume_port_and_healthcheck(stages: list[Stage]) -> None:
    final = stages[-1]
    assert exec_form(final.last("ENTRYPOINT")) == ["exports-bot"]
    assert exec_form(final.last("CMD")) == ["run"]
    assert final.last("WORKDIR") == "/app"
    assert final.last("VOLUME") == "/app/data"
    env = dict(pair for args in final.all("ENV") for pair in env_pairs(args))
    port_default = Settings.model_fields["port"].default
    assert final.last("EXPOSE") == str(port_default) == env["PORT"]
    command = healthcheck_command(final)
    assert command[0] == "python", "slim has no curl"
    assert "/healthz" in " ".join(command) and "127.0.0.1" in " ".join(command)


def default_sqlite_file() -> str:
    """The SQLite file the bot uses when DATABASE_URL is unset, relative to its working dir."""
    scheme, _, path = DEFAULT_DATABASE_URL.partition(":///")
    assert scheme.startswith("sqlite") and path and not path.startswith("/"), (
        f"expected a relative SQLite default, got {DEFAULT_DATABASE_URL}"
    )
    return path.removeprefix("./")


def test_sqlite_default_lands_in_the_volume(stages: list[Stage]) -> None:
    final = stages[-1]
    resolved = final.last("WORKDIR").rstrip("/") + "/" + default_sqlite_file()
    assert resolved.startswith(final.last("VOLUME") + "/"), (resolved, final.last("VOLUME"))


def test_dockerignore_keeps_secrets_and_clutter_out() -> None:
    patterns = dockerignore_patterns()
    for kept in ("pyproject.toml", "README.md", "bot/__init__.py", "bot/peaka/_models.py"):
        assert in_context(kept, patterns), kept
    for left_out in (
        ".env",
        "data/exports-bot.db",
        ".git/config",
        ".ci/venv/bin/python",
        "venv/bin/python",
        "bot/__pycache__/cli.cpython-311.pyc",
        "tests/test_dockerfile.py",
    ):
        assert not in_context(left_out, patterns), left_out


# --- following the build and starting the entrypoint (slow: installs from PyPI) ------------


def follow_build(stages: list[Stage], tmp_path: Path) -> Follower:
    """Follow the builder's steps, then the final stage's; returns the final stage's view."""
    context = build_context(tmp_path / "context")
    root = tmp_path / "root"
    builder = Follower(root, context)
    for keyword, args in stages[0].instructions:
        builder.apply(keyword, args)
    final = Follower(root, context)
    for keyword, args in stages[-1].instructions:
        if keyword == "COPY":
            _, source, _ = shlex.split(args)
            assert final.host(source).exists(), f"the builder left no {source}"
        elif keyword == "VOLUME":
            final.host(args).mkdir(parents=True, exist_ok=True)
        elif keyword in ("ENV", "WORKDIR"):
            final.apply(keyword, args)
        # RUN (useradd, chown) and USER need root; the user switch is checked statically.
    return final


async def wait_healthy(url: str, process: asyncio.subprocess.Process, log: Path) -> httpx.Response:
    """GET url until 200; fails with the process's output if it exits or the bound passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_LIMIT
    last: object = None
    async with httpx.AsyncClient(timeout=5.0) as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                break
            try:
                response = await client.get(url)
            except httpx.TransportError as exc:
                last = exc
            else:
                if response.status_code == 200:
                    return response
                last = f"{response.status_code} {response.text}"
            await asyncio.sleep(0.25)
    raise AssertionError(f"{url} never answered 200 (last: {last!r}); bot output:\n{tail(log)}")


async def stop(process: asyncio.subprocess.Process) -> int:
    """SIGTERM, as `docker stop` sends; SIGKILL if it is still running a minute later."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("the bot did not stop within 60 s of SIGTERM") from None


@pytest.mark.slow
async def test_built_image_starts_and_passes_its_healthcheck(
    stages: list[Stage], tmp_path: Path
) -> None:
    from bot.simulator import ManualClock, Simulator, SimulatorServer
    from tests.slack_standin import SlackStandIn

    final = await asyncio.to_thread(follow_build, stages, tmp_path)
    entrypoint = exec_form(stages[-1].last("ENTRYPOINT")) + exec_form(stages[-1].last("CMD"))

    sim = Simulator.seeded(clock=ManualClock(), seed=7)
    user = sim.add_user("docker@example.com")
    project = "mtKDhe1U"
    sim.add_project(project)
    key = sim.add_key(user, project_id=None)
    port = free_port()
    secrets = {
        "bot": "xoxb-dockerfile-test",
        "signing": "signing-secret-for-the-test",
        "fernet": Fernet.generate_key().decode(),
    }
    async with SimulatorServer(sim) as peaka, SlackStandIn(token=secrets["bot"]) as slack:
        env = final.host_env(
            {
                "SLACK_BOT_TOKEN": secrets["bot"],
                "SLACK_SIGNING_SECRET": secrets["signing"],
                "BOT_ENCRYPTION_KEY": secrets["fernet"],
                "SLACK_API_URL": slack.base_url,
                "PEAKA_API_KEY": key,
                "PEAKA_API_URL": peaka.base_url,
                "PEAKA_PROJECTS": project,
                "PORT": str(port),
                "HOST": "127.0.0.1",  # the image binds 0.0.0.0; tests stay on loopback
            }
        )
        log = tmp_path / "bot.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *final.argv(entrypoint),
                env=env,
                cwd=final.host(final.workdir),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        try:
            health = await wait_healthy(f"http://127.0.0.1:{port}/healthz", process, log)
            assert health.json()["ok"] is True

            # The HEALTHCHECK itself, as Docker would run it inside the container.
            check = final.argv(healthcheck_command(stages[-1]))
            code, output = await asyncio.to_thread(_run, check, env, final.host(final.workdir))
            assert code == 0, f"HEALTHCHECK failed while /healthz is 200:\n{output}"

            # manifest.http.yaml points Slack at /slack/events: served, and signatures checked.
            async with httpx.AsyncClient() as client:
                unsigned = await client.post(
                    f"http://127.0.0.1:{port}/slack/events", content=b"command=%2Fexports"
                )
            assert unsigned.status_code == 401

            # With DATABASE_URL unset the SQLite file lands in the VOLUME.
            volume = final.host(stages[-1].last("VOLUME"))
            assert (final.host(default_sqlite_file())).exists(), (
                f"no SQLite file in the volume (found {sorted(os.listdir(volume))}):\n{tail(log)}"
            )
        finally:
            stopped = await stop(process)
        assert stopped == 0, f"exit code {stopped} after SIGTERM:\n{tail(log)}"

    code, _ = await asyncio.to_thread(_run, check, env, final.host(final.workdir))
    assert code != 0, "HEALTHCHECK must fail when the bot is down"
    output = tail(log, 10**7)
    leaked = [name for name, value in {**secrets, "peaka": key}.items() if value in output]
    assert not leaked, f"secrets in the bot's output: {leaked}"
