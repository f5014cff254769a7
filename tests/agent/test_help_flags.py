"""The agent's help names only hub flags that exist: an operator copies them as they are."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from console.hub.cli import add_arguments as hub_arguments


def test_every_hub_flag_the_agent_help_names_exists() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "tongchou", "agent", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "COLUMNS": "1000"},  # one line per option: no flag cut in two
    ).stdout
    named = set(re.findall(r"tongchou hub (--[a-z-]+)", shown))
    assert named, "the help names the hub's token port flag"
    parser = argparse.ArgumentParser()
    hub_arguments(parser)
    known = {flag for action in parser._actions for flag in action.option_strings}
    assert named <= known, named - known
