"""channels.yaml -> Settings: what an operator sees when the file is right, and when it is wrong."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import Settings, default_settings, load_settings
from core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SECRET = "7012345678:AAE-do-not-print-me"
WEBHOOK_BLOCK = """
    channels:
      telegram:
        enabled: true
        token: ${TELEGRAM_BOT_TOKEN}
        mode: webhook
        webhook_secret: ${HOOK}
"""


def write(tmp_path: Path, text: str, name: str = "channels.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle`` (so tests do not hard-code numbers)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env=env or {})
    assert caught.value.path == str(path)
    return caught.value.problems


def test_shipped_example_loads_without_any_environment() -> None:
    loaded = load_settings(REPO / "channels.yaml", env={})
    assert loaded.enabled_channels() == ["webchat"]
    assert set(loaded.channels) == {"webchat", "telegram", "discord", "x"}
    assert loaded.database_url == "sqlite+aiosqlite:///supportbot.db"
    assert loaded.brand == "OKPay"
    assert loaded.config_path == (REPO / "channels.yaml").resolve()


def test_shipped_example_enables_telegram_from_the_environment() -> None:
    env = {"TELEGRAM_ENABLED": "true", "TELEGRAM_BOT_TOKEN": SECRET, "SUPPORTBOT_DB_URL": "postgres://u:pw@db/sb"}
    loaded = load_settings(REPO / "channels.yaml", env=env)
    assert loaded.enabled_channels() == ["webchat", "telegram"]
    assert loaded.channels["telegram"].token.get_secret_value() == SECRET
    assert loaded.database_url == "postgresql+asyncpg://u:pw@db/sb"  # the override, with the async driver


def test_defaults_are_the_website_chat_on_sqlite() -> None:
    defaults = default_settings()
    assert defaults.enabled_channels() == ["webchat"]
    assert defaults.config_path is None and defaults.knowledge_base_path is None
    assert (defaults.web.host, defaults.web.port) == ("127.0.0.1", 8080)


def test_no_file_in_the_working_folder_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).enabled_channels() == ["webchat"]
    overridden = load_settings(env={"SUPPORTBOT_DB_URL": "postgresql+asyncpg://postgres@127.0.0.1/x"})
    assert overridden.database_url == "postgresql+asyncpg://postgres@127.0.0.1/x"


def test_working_folder_file_is_used_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "brand: Acme\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).brand == "Acme"


def test_environment_references_and_their_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, """
        brand: ${BRAND:-Acme Pay}
        database_url: postgresql+asyncpg://bot:${DB_PASSWORD}@db:5432/support
        web:
          port: ${PORT:-9000}
          secure_cookies: ${SECURE:-false}
    """)
    with_defaults = load_settings(path, env={"DB_PASSWORD": "pw"})
    assert with_defaults.brand == "Acme Pay"
    assert with_defaults.web.port == 9000 and with_defaults.web.secure_cookies is False
    assert with_defaults.database_url == "postgresql+asyncpg://bot:pw@db:5432/support"

    from_env = load_settings(path, env={"BRAND": "Zed", "PORT": "7000", "SECURE": "true", "DB_PASSWORD": "x"})
    assert (from_env.brand, from_env.web.port, from_env.web.secure_cookies) == ("Zed", 7000, True)


def test_a_variable_value_is_never_parsed_as_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "brand: ${BRAND}\n")
    assert load_settings(path, env={"BRAND": "Acme\nbogus: 1"}).brand == "Acme\nbogus: 1"


def test_unset_variable_in_a_required_value_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "database_url: postgresql+asyncpg://bot:${DB_PASSWORD}@db/support\n")
    [problem] = problems(path)
    assert problem.startswith("database_url (line 1):")
    assert "DB_PASSWORD" in problem


def test_unknown_top_level_key_names_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        brand: OKPay
        # a comment

        brnad: typo
    """)
    [problem] = problems(path)
    assert problem.startswith(f"brnad (line {line_of(path, 'brnad')}): unknown key")
    assert "'brand'" in problem  # the suggestion


def test_unknown_key_in_a_channel_block_names_dotted_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        channels:
          webchat:
            enabled: true
          telegram:
            enabled: false
            tokn: ${TELEGRAM_BOT_TOKEN}
    """)
    [problem] = problems(path)
    assert problem.startswith(f"channels.telegram.tokn (line {line_of(path, 'tokn')}): unknown key")
    assert "did you mean 'token'" in problem


def test_wrong_types_report_each_key_with_its_line_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
        web:
          port: eighty
        dispatch:
          max_attempts: 0
        channels:
          telegram:
            enabled: false
            mode: pigeon
    """)
    found = problems(path)
    assert found[0].startswith(f"web.port (line {line_of(path, 'port:')}): Input should be a valid integer")
    assert found[1].startswith(f"dispatch.max_attempts (line {line_of(path, 'max_attempts')}):")
    assert found[2] == (f"channels.telegram.mode (line {line_of(path, 'pigeon')}): "
                        "Input should be 'polling' or 'webhook'")


def test_unknown_channel_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  webchat: {}\n  fax:\n    enabled: true\n")
    [problem] = problems(path)
    assert problem.startswith("channels.fax (line 3): unknown channel 'fax'")
    assert "telegram" in problem


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "brand: OKPay\nweb:\n  port: 8080\n  host: [unclosed\n")
    [problem] = problems(path)
    assert problem.startswith("YAML syntax error (line 5, column 1)") or "(line 4" in problem, problem


def test_yaml_bad_indentation_points_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "web:\n  port: 8080\n   host: x\n")
    [problem] = problems(path)
    assert problem.startswith("YAML syntax error (line 3, column")


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "brand: A\nweb:\n  port: 1\nbrand: B\n")
    [problem] = problems(path)
    assert problem == "brand (line 4): duplicate key (first at line 1)"


def test_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- webchat\n- telegram\n")
    assert "must be a mapping" in problems(path)[0]


def test_empty_file_and_empty_sections_mean_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "# nothing yet\n"), env={}).enabled_channels() == ["webchat"]
    loaded = load_settings(write(tmp_path, "triage:\n  # min_confidence: 0.8\nweb:\n", "b.yaml"), env={})
    assert loaded.triage.min_confidence is None and loaded.web.port == 8080


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml", env={})


@pytest.mark.parametrize(
    "literal", [SECRET, "${TELEGRAM_BOT_TOKEN:-" + SECRET + "}", "prefix-${TELEGRAM_BOT_TOKEN}"]
)
def test_literal_secret_is_rejected_and_not_echoed(tmp_path: Path, literal: str) -> None:
    path = write(tmp_path, f"""
        channels:
          telegram:
            enabled: false
            token: "{literal}"
    """)
    found = problems(path, env={"TELEGRAM_BOT_TOKEN": "x"})
    assert found == [f"channels.telegram.token (line {line_of(path, 'token:')}): "
                     "secrets must be ${ENV_VAR} references, not literals"]
    assert SECRET not in "\n".join(found)


def test_literal_secret_in_a_nested_list_of_any_channel(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  x:\n    consumer_secret: hunter2\n")
    [problem] = problems(path)
    assert problem.startswith("channels.x.consumer_secret (line 3): secrets must be ${ENV_VAR} references")


def test_disabled_channel_without_credentials_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  discord:\n    enabled: false\n    token: ${DISCORD_BOT_TOKEN}\n")
    loaded = load_settings(path, env={})
    assert loaded.channels["discord"].token is None
    assert loaded.enabled_channels() == []


def test_enabled_channel_missing_its_token_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, """
        channels:
          telegram:
            enabled: true
            token: ${TELEGRAM_BOT_TOKEN}
    """)
    [problem] = problems(path)
    assert problem.startswith(f"channels.telegram (line {line_of(path, 'telegram:')}): token is required")
    assert "TELEGRAM_BOT_TOKEN" in problem


def test_secrets_never_appear_in_repr_str_or_dumps(tmp_path: Path) -> None:
    path = write(tmp_path, WEBHOOK_BLOCK)
    hook = "hook_secret-do-not-print"
    loaded = load_settings(path, env={"TELEGRAM_BOT_TOKEN": SECRET, "HOOK": hook})
    for text in (repr(loaded), str(loaded), loaded.model_dump_json(), str(loaded.model_dump())):
        assert SECRET not in text and hook not in text
    assert loaded.channels["telegram"].webhook_secret.get_secret_value() == hook


@pytest.mark.parametrize("hook", ["x" * 257, "with space", "dot.ted", "sl/ash", "umläut", "emoji😀"])
def test_a_webhook_secret_telegram_would_refuse_is_a_config_error(tmp_path: Path, hook: str) -> None:
    """README (Telegram): webhook_secret is 1-256 characters of A-Z a-z 0-9 _ - (Telegram's own rule for
    secret_token): anything else stops the start, rather than a webhook Telegram refuses to register."""
    [problem] = problems(write(tmp_path, WEBHOOK_BLOCK), env={"TELEGRAM_BOT_TOKEN": SECRET, "HOOK": hook})
    assert problem.startswith("channels.telegram") and "1-256 characters of A-Z a-z 0-9 _ -" in problem
    assert hook not in problem  # a secret is never printed


@pytest.mark.parametrize("hook", ["x", "x" * 256, "AZaz09_-"])
def test_a_webhook_secret_within_telegrams_rule_loads(tmp_path: Path, hook: str) -> None:
    loaded = load_settings(write(tmp_path, WEBHOOK_BLOCK), env={"TELEGRAM_BOT_TOKEN": SECRET, "HOOK": hook})
    assert loaded.channels["telegram"].webhook_secret.get_secret_value() == hook


def test_secret_in_a_file_with_other_errors_is_not_in_the_report(tmp_path: Path) -> None:
    path = write(tmp_path, f"web:\n  port: x\nchannels:\n  telegram:\n    token: {SECRET}\n    mode: 3\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert len(caught.value.problems) == 3
    assert SECRET not in caught.value.report() and SECRET not in str(caught.value)


def test_knowledge_base_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    path = write(folder, "knowledge_base: faq/okpay.yaml\n")
    assert load_settings(path, env={}).knowledge_base_path == folder.resolve() / "faq" / "okpay.yaml"


def test_public_url_must_be_absolute(tmp_path: Path) -> None:
    path = write(tmp_path, "web:\n  public_url: support.example.com\n")
    assert problems(path)[0].startswith("web.public_url (line 2): must start with http")
    ok = load_settings(write(tmp_path, "web:\n  public_url: https://s.example.com/\n", "ok.yaml"), env={})
    assert ok.web.public_url == "https://s.example.com"


def test_config_path_cannot_be_set_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "config_path: /etc/passwd\n")
    assert problems(path)[0].startswith("config_path (line 1): unknown key")
    assert "config_path" not in Settings.model_fields


# -- property: whatever junk is written, the loader answers with ConfigError or Settings, nothing else

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)
_unknown_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map("zz_".__add__)
_where = st.sampled_from([(), ("web",), ("dispatch",), ("channels", "webchat"), ("channels", "telegram"),
                          ("channels", "discord"), ("channels", "x")])


def _load_text(text: str) -> Settings:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        return load_settings(path, env={})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=_where, junk=st.dictionaries(_unknown_keys, _values, min_size=1, max_size=4))
def test_unknown_keys_anywhere_always_give_a_config_error_naming_them(where: tuple, junk: dict) -> None:
    document: dict = junk
    for part in reversed(where):
        document = {part: document}
    with pytest.raises(ConfigError) as caught:
        _load_text(yaml.safe_dump(document, allow_unicode=True))
    report = caught.value.report()
    for key in junk:
        assert ".".join((*where, key)) + " (line " in report


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(st.sampled_from(["brand", "web", "channels", "triage", "zz"]) | st.text(),
                                _values, max_size=4))
def test_any_mapping_never_crashes_the_loader(document: dict) -> None:
    try:
        loaded = _load_text(yaml.safe_dump(document, allow_unicode=True))
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
    else:
        assert isinstance(loaded, Settings)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_never_crashes_the_loader(text: str) -> None:
    try:
        _load_text(text)
    except ConfigError:
        pass


def test_control_character_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "brand: OKPay\nweb:\n  host: a\x1fb\n")
    assert problems(path) == ["YAML syntax error (line 3, column 10): character #x001f is not allowed"]


def test_a_database_url_that_cannot_work_is_a_config_error(tmp_path) -> None:
    import pytest as _pytest

    from core.config import load_settings
    from core.errors import ConfigError

    for url in ("postgresql://u:p@h:notaport/db", "mysql://u:p@h/db"):
        path = tmp_path / "c.yaml"
        path.write_text(f'database_url: "{url}"\n', encoding="utf-8")
        with _pytest.raises(ConfigError) as err:
            load_settings(path, env={})
        assert "database_url (line 1)" in str(err.value) and "p@h" not in err.value.report()
