"""Settings: a wrong value gets one clear line naming the variable, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_are_the_local_sandbox():
    s = load_settings({}, dotenv=None)
    assert s.sandbox and s.database_url.startswith("sqlite") and s.catalogue.is_file()


@pytest.mark.parametrize(("name", "value"), [
    ("TELEGRAM_BOT_TOKEN", "not-a-token"),
    ("TELEGRAM_API_BASE_URL", "ftp://example"),
    ("DATABASE_URL", "mysql://x"),
    ("GRIDBOT_CONFIDENCE_THRESHOLD", "2"),
    ("GRIDBOT_CATALOGUE", "/nowhere.yaml"),
])
def test_a_wrong_value_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value}, dotenv=None)


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# comment\nDATABASE_URL=sqlite:///from-dotenv.db\nGRIDBOT_WEB_PORT='9090'\n", encoding="utf-8")
    s = load_settings({"GRIDBOT_WEB_PORT": "9191"}, dotenv=env)
    assert s.database_url == "sqlite:///from-dotenv.db" and s.web_port == 9191


def test_the_cli_prints_one_line_for_a_wrong_setting():
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "oops"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "gridbot: TELEGRAM_BOT_TOKEN: does not look like a bot token (digits:secret, from @BotFather)")


def test_a_database_url_in_an_error_never_shows_its_password():
    with pytest.raises(ConfigError) as refused:
        load_settings({"DATABASE_URL": "mysql://gridbot:s3cret-pw@db.example/gridbot"}, dotenv=None)
    assert "s3cret-pw" not in str(refused.value) and "gridbot:***@db.example" in str(refused.value)


def test_limits_share_one_grammar_with_minutes():
    s = load_settings({"GRIDBOT_CALLBACK_REMINDER": "30m", "GRIDBOT_CALLBACK_CLOSE": "1.5d"}, dotenv=None)
    assert (s.callback_reminder, s.callback_close) == ("30m", "1.5d")
    with pytest.raises(ConfigError, match="GRIDBOT_CALLBACK_CLOSE"):
        load_settings({"GRIDBOT_CALLBACK_CLOSE": "3w"}, dotenv=None)


def test_the_docker_image_does_not_start_the_sandbox_unless_asked():
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"} | {"GRIDBOT_SANDBOX": "0"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "GRIDBOT_SANDBOX=1" in done.stderr
    dockerfile = (Path(__file__).resolve().parent.parent / "Dockerfile").read_text(encoding="utf-8")
    instructions = "\n".join(line for line in dockerfile.splitlines() if not line.lstrip().startswith("#"))
    assert "GRIDBOT_SANDBOX=0" in instructions and "GRIDBOT_WEB_HOST" not in instructions
