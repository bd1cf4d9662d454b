"""The `supportbot` command as an operator uses it: exit codes, messages, one line out per line in."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

REPO = Path(__file__).resolve().parents[2]
SECRET = "7012345678:AAE-do-not-print-me"
DECISION_KEYS = {"action", "faq_id", "confidence", "lang", "reply", "reason", "options"}

BROKEN = """\
brand: OKPay
web:
  port: 8080
channels:
  telegram:
    enabled: false
    mode: pigeon
"""


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "DISCORD_", "X_", "SUPPORTBOT_DB_URL")):
            monkeypatch.delenv(name)


def _subprocess(args: list[str], *, stdin: bytes = b"", cwd: Path = REPO) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "X_"))}
    env.pop("SUPPORTBOT_DB_URL", None)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "core.cli", *args], input=stdin, capture_output=True,
                          cwd=cwd, env=env, timeout=120, check=False)


def test_check_config_summarises_the_shipped_example(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    assert main(["check-config", str(REPO / "channels.yaml")]) == 0
    out = capsys.readouterr().out
    assert "configuration OK" in out
    assert "OKPay" in out
    assert "sqlite+aiosqlite:///supportbot.db" in out
    assert "channels:        webchat\n" in out
    assert "entries" in out


def test_check_config_hides_secrets_and_database_password(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("TELEGRAM_ENABLED", "true")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    monkeypatch.setenv("SUPPORTBOT_DB_URL", "postgresql+asyncpg://bot:db-pass-secret@db/support")
    assert main(["check-config", str(REPO / "channels.yaml")]) == 0
    captured = capsys.readouterr()
    assert "webchat, telegram" in captured.out
    for secret in (SECRET, "db-pass-secret"):
        assert secret not in captured.out and secret not in captured.err


def test_check_config_reports_key_and_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(BROKEN)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"invalid configuration in {path}:" in err
    assert "channels.telegram.mode (line 7): Input should be 'polling' or 'webhook'" in err


def test_check_config_reports_a_broken_knowledge_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kb.yaml").write_text("entries: [this is not a knowledge base\n")
    path = tmp_path / "channels.yaml"
    path.write_text("knowledge_base: kb.yaml\n")
    assert main(["check-config", str(path)]) == 2
    assert str(tmp_path / "kb.yaml") in capsys.readouterr().err


def test_check_config_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "absent.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_usage_errors_and_help_return_codes_instead_of_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["--help"]) == 0
    assert "check-config" in capsys.readouterr().out


def test_check_config_as_a_real_process_on_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(BROKEN)
    done = _subprocess(["check-config", str(path)])
    assert done.returncode == 2
    assert b"channels.telegram.mode (line 7)" in done.stderr
    assert done.stdout == b""


# ------------------------------------------------------------------------------------------------ triage

LINES = ["I forgot my password and cannot log in", "hello", "", "我的转账失败了怎么办", "asdf qwer zxcv"]


def _decisions(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_triage_json_one_object_per_input_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(LINES) + "\n"))
    assert main(["triage", "--json", "--config", str(REPO / "channels.yaml")]) == 0
    decisions = _decisions(capsys.readouterr().out)
    assert len(decisions) == len(LINES)
    for decision in decisions:
        assert set(decision) == DECISION_KEYS
        assert decision["action"] in {"answer", "handoff", "greet"}
        assert isinstance(decision["confidence"], float) and 0 <= decision["confidence"] <= 1
        assert decision["faq_id"] is None or isinstance(decision["faq_id"], str)
        assert isinstance(decision["reply"], str) and isinstance(decision["lang"], str)
    assert decisions[0]["action"] == "answer" and decisions[0]["faq_id"] == "login"
    assert decisions[1]["action"] == "greet"
    assert decisions[3]["lang"] == "zh-Hans"


def test_triage_readable_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setattr(sys, "stdin", io.StringIO("I forgot my password and cannot log in\r\nhello"))
    assert main(["triage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("answer") and " login " in lines[0]
    assert lines[1].startswith("greet")


def test_triage_with_an_unreadable_knowledge_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\n"))
    assert main(["triage", "--kb", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml" in capsys.readouterr().err


def test_triage_json_as_a_real_process_survives_bytes_that_are_not_utf8() -> None:
    stdin = b"I forgot my password\n\xff\xfe\xfd broken bytes\nhello\r\n\n" + "我的转账".encode() + b"\n"
    done = _subprocess(["triage", "--json"], stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    decisions = _decisions(done.stdout.decode("utf-8"))
    assert len(decisions) == 5
    assert all(set(d) == DECISION_KEYS for d in decisions)
    assert decisions[2]["action"] == "greet"
