"""Build the site: the same program as `csto-site` (python build.py [COMMAND] [options])."""

import sys

try:
    from csto_site.cli import run
except KeyboardInterrupt:  # Ctrl+C while the program loads: nothing was begun
    sys.exit(130)
except ModuleNotFoundError as missing:  # the set-up was not done for this Python (or its .venv is not active)
    sys.exit(
        f"{missing.name} is not installed for this Python ({sys.executable}): activate the project's .venv, "
        "or run `python -m pip install -e .` in this folder first"
    )

if __name__ == "__main__":
    args = sys.argv[1:]
    run(args if args and not args[0].startswith("-") else ["build", *args])
