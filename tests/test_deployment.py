"""The production files nobody runs here (no Docker engine on this machine): docker-compose.yml, the Caddyfile, the
Dockerfile and the package data of a non-editable install. The tests install the project editable, so a template
or migration missing from the wheel, a role misspelt in the compose file or a proxy that buffers the event stream
would only show in production. What the README's "Scaling" and "Docker" sections promise is read off the files
themselves and checked against the code they name."""

from __future__ import annotations

import glob
import ipaddress
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.webchat.adapter import WebchatAdapter, WebchatSettings
from core.roles import ROLES

ROOT = Path(__file__).resolve().parent.parent
DEV_ONLY = {"core/store/migrations/script.py.mako"}  # the template of `alembic revision`, a developer's tool


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))  # anchors and << merge keys


def _caddy_blocks(text: str) -> dict[str, list[list[str]]]:
    """Each block of a Caddyfile (by its opening line) -> its directives, split like a shell line. Comments are
    dropped; enough of the format for the file this project ships."""
    blocks: dict[str, list[list[str]]] = {}
    stack: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            stack.append(line[:-1].strip())
            blocks.setdefault(stack[-1], [])
        elif line == "}":
            stack.pop()
        elif stack:
            blocks[stack[-1]].append(shlex.split(line))
    assert not stack, "unbalanced braces in the Caddyfile"
    return blocks


def _ours(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run supportbot (the image the compose file builds), by name."""
    return {name: s for name, s in compose["services"].items() if s.get("image") == "supportbot:latest"}


def _role(service: dict[str, Any]) -> str:
    command = service["command"]
    return command[command.index("--role") + 1] if "--role" in command else "all"


def _port(service: dict[str, Any]) -> str:
    command = service["command"]
    return command[command.index("--port") + 1]


def test_the_package_ships_every_file_the_code_reads() -> None:
    """The image installs the project as a wheel (Dockerfile: `pip install --no-deps .`): each template, static
    file, knowledge base and migration must be named by the package data, or that page or upgrade fails there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    shipped: set[str] = set()
    for package, patterns in config["package-data"].items():
        for pattern in patterns:
            shipped |= {f"{package}/{p}" for p in glob.glob(pattern, root_dir=ROOT / package, recursive=True)}
    found = set(config["packages"]["find"]["include"])
    needed = {str(p.relative_to(ROOT)) for top in ("core", "bots") for p in (ROOT / top).rglob("*")
              if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert needed - DEV_ONLY <= shipped, sorted(needed - DEV_ONLY - shipped)
    assert {"core*", "bots*"} <= found
    assert {"core/data/okpay.yaml", "core/web/templates/chat.html", "core/web/static/chat.js"} <= shipped


def test_the_image_installs_what_the_compose_file_runs(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert {"core", "bots", "channels.yaml", "requirements/run.lock"} <= copied
    assert (ROOT / "requirements" / "run.lock").is_file()
    assert re.search(r"^RUN pip install --require-hashes -r requirements/run\.lock$", dockerfile, re.M)
    exposed = re.search(r"^EXPOSE (\d+)$", dockerfile, re.M)
    assert exposed is not None
    for name, service in _ours(compose).items():
        assert service["command"][0] in scripts, name
        assert _port(service) == exposed.group(1), name


def test_compose_runs_every_role_on_postgresql_with_secrets_from_the_env_file(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ours = _ours(compose)
    roles = {name: _role(s) for name, s in ours.items()}
    assert set(roles.values()) == {"web", "dispatcher", "channels"} and set(roles.values()) <= set(ROLES)
    assert sorted(n for n, r in roles.items() if r == "web") == ["web-a", "web-b"]  # two copies behind the proxy
    postgres = services["postgres"]
    assert any(v.startswith("pgdata:") for v in postgres["volumes"]) and "pgdata" in compose["volumes"]
    for name, service in ours.items():
        assert service["env_file"] == ".env", name
        url = service["environment"]["SUPPORTBOT_DB_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url, name
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert "${" in url and "POSTGRES_PASSWORD" in url, f"{name}: the password comes from .env, not the file"
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for variable in ("POSTGRES_PASSWORD", "SITE_ADDRESS"):
        assert re.search(rf"^{variable}=", env_example, re.M), variable


def test_every_service_has_a_health_check_on_its_own_readiness(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check.get("test"), name
        if name in _ours(compose):
            probe = " ".join(check["test"])
            assert f"http://127.0.0.1:{_port(service)}/readyz" in probe, name
            assert check["timeout"] and check["interval"], name


def test_only_the_proxy_is_believed_for_forwarded_addresses(compose: dict[str, Any]) -> None:
    """The web processes trust X-Forwarded-For from one address: the proxy's fixed one, which no other container can
    be given (it lies outside the network's range for dynamic addresses)."""
    proxy_address = ipaddress.ip_address(compose["services"]["proxy"]["networks"]["backend"]["ipv4_address"])
    pool = compose["networks"]["backend"]["ipam"]["config"][0]
    assert proxy_address in ipaddress.ip_network(pool["subnet"])
    assert proxy_address not in ipaddress.ip_network(pool["ip_range"])
    for name, service in _ours(compose).items():
        assert service["environment"]["SUPPORTBOT_TRUSTED_PROXIES"] == str(proxy_address), name


def test_the_proxy_sends_one_client_to_one_web_process_and_streams_unbuffered(compose: dict[str, Any]) -> None:
    """README, Scaling: `lb_policy ip_hash` keeps the per-address limits as configured; the event stream (/events)
    and the chat's socket (/chat/ws) pass through unbuffered and uncompressed; the proxy checks /readyz."""
    blocks = _caddy_blocks((ROOT / "Caddyfile").read_text(encoding="utf-8"))
    site = next(directives for opener, directives in blocks.items() if opener.startswith("{$SITE_ADDRESS"))
    proxy_line = next(opener for opener in blocks if opener.startswith("reverse_proxy"))
    proxy = {d[0]: d[1:] for d in blocks[proxy_line]}
    upstreams = set(proxy_line.split()[1:])
    webs = {f"{name}:{_port(s)}" for name, s in _ours(compose).items() if _role(s) == "web"}
    assert upstreams == webs
    assert proxy["lb_policy"] == ["ip_hash"]
    assert proxy["flush_interval"] == ["-1"]
    assert proxy["health_uri"] == ["/readyz"]
    matcher = next(d for d in site if d[0] == "@compressible")
    assert matcher[1:3] == ["not", "path"] and set(matcher[3:]) == {"/events", "/chat/ws"}
    assert ["encode", "@compressible", "gzip"] in site
    # the paths named there are the ones the code serves
    chat_paths = {route.path for route in WebchatAdapter(WebchatSettings()).web_routes()}
    assert "/chat/ws" in chat_paths
    live = (ROOT / "core" / "web" / "live.py").read_text(encoding="utf-8")
    assert 'add_get("/events"' in live
