"""Work spread over processes: results come back in order, and a failure comes back as itself."""

from __future__ import annotations

import os

import pytest

from csto_site.util import parallel
from csto_site.util.errors import ContentError, Problem
from csto_site.util.parallel import Background, fork_map


def fail() -> None:
    """Raise a content problem, as a worker parsing a bad file would."""
    raise ContentError([Problem("item.md", 3, "a problem", "a hint")])


@pytest.mark.parametrize("forking", [True, False], ids=["forked", "in this process"])
def test_a_background_call_returns_its_result_or_raises_its_exception(forking, monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: forking)
    call = Background(os.getpid)
    assert (call.result() != os.getpid()) is forking, "the call ran in another process only when forking"
    with pytest.raises(ContentError) as caught:
        Background(fail).result()
    assert list(caught.value.problems) == [Problem("item.md", 3, "a problem", "a hint")]


def test_a_background_call_whose_result_is_not_asked_for_is_waited_for_on_close():
    call = Background(lambda: 42)
    call.close()
    assert call.worker is not None and call.worker.exitcode == 0


def test_fork_map_keeps_the_order_of_the_chunks():
    chunks = [list(range(i, i + 3)) for i in range(0, 30, 3)]
    assert fork_map(sum, chunks, 2) == [sum(c) for c in chunks]
