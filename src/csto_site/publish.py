"""Write outputs into a staging tree beside the output folder, then swap it in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ContentError, Problem


@dataclass(frozen=True)
class Output:
    """One file of the built site and what produced it."""

    path: str
    data: bytes
    source: str


def check_unique(outputs: Iterable[Output]) -> list[Problem]:
    """Report two producers of one output path, naming both."""
    owners: dict[str, str] = {}
    problems = []
    for output in outputs:
        if output.path in owners:
            problems.append(Problem(output.source, 0, f"{output.path} is also written by {owners[output.path]}",
                                    "give one of them another address"))
        else:
            owners[output.path] = output.source
    return problems


def publish(outputs: Iterable[Output], out: Path) -> int:
    """Write every output into a fresh tree and put it in place of `out`; return files written."""
    out = out.resolve()
    staging = out.with_name(f".{out.name}.staging")
    retired = out.with_name(f".{out.name}.old")
    for leftover in (staging, retired):
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.mkdir(parents=True)
    count = 0
    for output in outputs:
        target = staging / output.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.data)
        count += 1
    if out.exists():
        if not out.is_dir():
            raise ContentError([Problem(str(out), 0, "the output path is a file, not a folder",
                                        "choose another --out")])
        os.replace(out, retired)
    os.replace(staging, out)
    if retired.exists():
        shutil.rmtree(retired)
    return count
