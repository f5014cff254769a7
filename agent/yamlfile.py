"""The agent's YAML settings file, parsed in a helper process so the daemon never holds PyYAML
(0.9 MiB resident for a file read once at start).

`read(path)` runs `python -m agent.yamlfile PATH`, which answers with the parsed document as
JSON, or with the reason it could not (the file, or the YAML error with its line).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

from agent import helper

TIMEOUT = 30.0


class YamlFileError(ValueError):
    """The file cannot be read or is not YAML; the message says why (and where in it)."""


def read(path: str) -> object:
    """The document in the YAML file at `path` (None when it is empty)."""
    try:
        done = subprocess.run(
            helper.command("agent.yamlfile", path),
            capture_output=True,
            timeout=TIMEOUT,
            env=helper.environment(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise YamlFileError(f"reading took longer than {TIMEOUT:g}s") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        detail = done.stderr.decode(errors="replace").strip()
        raise YamlFileError(f"the YAML reader failed: {detail}") from None
    if "error" in answer:
        raise YamlFileError(str(answer["error"]))
    return answer["data"]


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m agent.yamlfile PATH", file=sys.stderr)
        return 2
    import yaml

    try:
        with open(argv[0], encoding="utf-8") as file:
            answer: dict[str, object] = {"data": yaml.safe_load(file.read())}
    except OSError as err:
        answer = {"error": f"cannot read config file: {err.strerror}"}
    except yaml.YAMLError as err:
        answer = {"error": f"not valid YAML: {err}"}
    except UnicodeDecodeError as err:
        answer = {"error": f"not UTF-8 text: {err}"}
    json.dump(answer, sys.stdout, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
