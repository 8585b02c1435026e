"""Find what changed in the live folder by hand: entries placed there, and files of ours deleted.

With a record it trusts, a build lists only the folders whose ctime moved since the manifest stamped
them (an entry was added or removed); the stamps can be read early, in a second process, while the
build parses and plans. Without one, it walks the whole live folder and tells entries this program
may have made (at its own addresses, or pages and feeds carrying its generator mark) from those
placed by hand.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..site.urls import MARK_WINDOW, MARKED_SUFFIXES, OwnPaths, carries_mark, uncompressed
from ..util.files import RACY_NS, READ_FLAGS
from ..util.fs import ctimes, folders_of, inode
from ..util.store import connect_read_only
from .manifest import Manifest, recorded_stamps

if TYPE_CHECKING:
    from ..util.parallel import Background

# Reading the stamps is one stat per folder of the site: a reader still busy after a minute is stuck, not slow.
EARLY_STAMPS_SECONDS = 60.0


@dataclass(frozen=True)
class Scan:
    """What the live folder holds beside its record: found by listing the folders whose stamps moved."""

    folders: frozenset[str] = frozenset()  # the live folder's folders of ours, as stamped
    recorded_foreign: frozenset[str] = frozenset()  # the entries placed by hand the record lists
    foreign: frozenset[str] = frozenset()  # the entries placed by hand it holds now
    missing: frozenset[str] = frozenset()  # files of ours deleted by hand
    missing_groups: frozenset[str] = frozenset()  # the output groups of those files
    # The new stamps of the folders listed, recorded when the build finishes (racy ones as 0).
    fresh: dict[str, int] = field(default_factory=dict)


@dataclass
class _Finds:
    """What listing the changed folders found: files of ours missing, entries placed by hand, folders of ours gone."""

    missing: set[str] = field(default_factory=set)
    foreign: set[str] = field(default_factory=set)
    gone: list[str] = field(default_factory=list)

    def compare(self, folder: str, entries: dict[str, os.DirEntry[str]], ours: set[str], subs: set[str]) -> None:
        """Compare a folder's entries with our files and subfolders in it, noting what differs."""
        # Most listed folders hold just what they held (their stamp was racy): nothing to record.
        if (
            entries.keys() == ours | subs
            and all(entries[name].is_file(follow_symlinks=False) for name in ours)
            and all(entries[name].is_dir(follow_symlinks=False) for name in subs)
        ):
            return
        prefix = f"{folder}/" if folder else ""
        for name in ours:
            entry = entries.pop(name, None)
            if entry is None or not entry.is_file(follow_symlinks=False):
                self.missing.add(prefix + name)
                if entry is not None:
                    self.foreign.add(prefix + name)
        for name in subs:
            entry = entries.pop(name, None)
            if entry is None or not entry.is_dir(follow_symlinks=False):
                self.gone.append(prefix + name + "/")
                if entry is not None:
                    self.foreign.add(prefix + name)
        if entries:
            self.foreign.update(prefix + name for name in entries)


def read_early(manifest: Path, live: Path) -> Background:
    """Start reading the live folder's recorded and current stamps in a second process."""
    from ..util.parallel import Background  # not imported by a build that finds nothing changed

    return Background(partial(_read_stamps, manifest, live))


def scan_changes(manifest: Manifest, live: Path, live_id: int, early: Background | None) -> Scan:
    """Find hand-placed entries and deleted files of ours in the live folder, listing only changed folders.

    `early` is the reader `read_early` started, if any: its stamps are taken instead of read again.
    """
    stamps, current = _live_stamps(manifest, live, live_id, early)
    folders = [folder for folder, _ in stamps]
    recorded_foreign = manifest.foreign(live_id)
    fresh = {
        folder: ctime for (folder, stamp), ctime in zip(stamps, current, strict=True) if ctime == 0 or ctime != stamp
    }
    changed = ["", *fresh]
    finds = _list_changed(manifest, live, changed, folders)
    changed_set = set(changed)
    foreign = {p for p in recorded_foreign if p.rpartition("/")[0] not in changed_set} | finds.foreign
    missing = finds.missing
    for folder in finds.gone:
        missing |= manifest.paths_under(folder)
    missing_groups = manifest.groups_holding(missing) if missing else set()
    # The new stamps are recorded by finish(), with what this scan found: a build refused before then
    # (a content error) must not leave stamps saying these folders were seen, and their finds unrecorded.
    # Whether a ctime is racy depends on when it was read: now.
    fresh = {folder: trusted(ctime) for folder, ctime in fresh.items()}
    manifest.commit()
    return Scan(
        frozenset(folders),
        frozenset(recorded_foreign),
        frozenset(foreign),
        frozenset(missing),
        frozenset(missing_groups),
        fresh,
    )


def _list_changed(manifest: Manifest, live: Path, changed: list[str], folders: list[str]) -> _Finds:
    """List the changed folders of the live site (the root first), comparing each with what the record says."""
    changed_set = set(changed)
    # Our subfolders of each changed folder: those of the root always (it has no stamp), others rarely.
    subfolders: dict[str, set[str]] = {"": {folder for folder in folders if "/" not in folder}}
    if len(changed_set) > 1:
        for folder in folders:
            parent, _, name = folder.rpartition("/")
            if parent in changed_set:
                subfolders.setdefault(parent, set()).add(name)
    # Our files in each changed folder, in one query (thousands of folders after a full build).
    files: dict[str, set[str]] = {}
    for folder, path in manifest.files_in(changed_set):
        files.setdefault(folder, set()).add(path.rpartition("/")[2])
    root = str(live)
    finds = _Finds()
    no_names: set[str] = set()
    for folder in changed:
        try:
            with os.scandir(os.path.join(root, folder) if folder else root) as listing:
                entries = {e.name: e for e in listing}
        except OSError:
            entries = {}
        finds.compare(folder, entries, files.get(folder, no_names), subfolders.get(folder, no_names))
    return finds


def _live_stamps(
    manifest: Manifest, live: Path, live_id: int, early: Background | None
) -> tuple[list[tuple[str, int]], list[int]]:
    """Return the live folder's recorded stamps and current ctimes: those read early, or read now."""
    if early is not None:
        from ..util.parallel import WorkerError

        try:
            found_id, stamps, current = early.result(timeout=EARLY_STAMPS_SECONDS)
            if found_id == live_id:
                return stamps, current
        except WorkerError:  # the reader died or is stuck: the stamps are read here instead
            pass
    stamps = manifest.recorded_stamps(live_id)
    return stamps, ctimes(live, [folder for folder, _ in stamps])


def _read_stamps(manifest: Path, live: Path) -> tuple[int, list[tuple[str, int]], list[int]]:
    """Return the live folder's inode, its folders' recorded stamps and their current ctimes (in a worker)."""
    live_id = inode(live)
    db = connect_read_only(manifest, immutable=False)
    try:
        stamps = recorded_stamps(db, live_id)
    finally:
        db.close()
    return live_id, stamps, ctimes(live, [folder for folder, _ in stamps])


def trusted(ctime_ns: int) -> int:
    """Return a ctime worth comparing later, or 0 when it is too recent to rule out an unseen change."""
    return 0 if ctime_ns >= time.time_ns() - RACY_NS else ctime_ns


def folder_stamps(tree: Path, folders: Iterable[str]) -> Iterator[tuple[str, int]]:
    """Read the ctime of folders of a tree (racy ones as 0: listed next time)."""
    root = str(tree)
    for folder in folders:
        if not folder:
            continue
        try:
            yield folder, trusted(os.stat(os.path.join(root, folder)).st_ctime_ns)
        except OSError:
            continue


# -- without a record: telling what this program made from what was placed by hand ---------------------


def walk_foreign(live: Path, old: set[str], own: OwnPaths, produced: set[str]) -> tuple[set[str], set[str]]:
    """Sort the live folder's entries that this build does not make and no recorded build made.

    `old` are the files the record lists, `own` the paths this program writes for the site. Return
    those kept as placed by hand (files, and whole folders outside our folders), and those this
    program may have made, to remove: entries at its own addresses (an old page of a deleted item,
    its search fragment) and pages or feeds carrying its mark (an old address's redirect page), with
    their compressed copies. Without a record it can trust, nothing else tells them apart.
    """
    kept: set[str] = set()
    unwanted: set[str] = set()
    folders = folders_of(produced) | folders_of(old)
    stack = [""]
    while stack:
        folder = stack.pop()
        for entry in os.scandir(live / folder if folder else live):
            rel = f"{folder}/{entry.name}" if folder else entry.name
            if entry.is_dir(follow_symlinks=False) and rel in folders:
                stack.append(rel)
            elif rel in produced or rel in old:
                continue
            elif rel in own or _marked(live, entry, rel, produced):
                unwanted.add(rel)
            elif entry.is_dir(follow_symlinks=False):
                # A folder placed by hand is kept, but not a page of ours inside it (an old address /about/).
                marked, whole = _marked_inside(live, rel)
                unwanted |= {rel} if whole else marked
                if not whole:
                    kept.add(rel)
            else:
                kept.add(rel)
    return kept, unwanted


def _marked(live: Path, entry: os.DirEntry[str], rel: str, produced: Container[str]) -> bool:
    """Tell whether a live file is a page or feed this program made, or a compressed copy of one or of its own."""
    source = uncompressed(rel)
    if source != rel:
        return source in produced or marked_file(live / source)
    return rel.endswith(MARKED_SUFFIXES) and entry.is_file(follow_symlinks=False) and marked_file(entry.path)


def _marked_inside(live: Path, folder: str) -> tuple[set[str], bool]:
    """Return the files of a folder of the live site that this program made, and whether that is all it holds."""
    marked: set[str] = set()
    other = False
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(live / current))
        except OSError:  # a folder that cannot be listed holds something of its own: kept whole
            entries, other = [], True
        for entry in entries:
            rel = f"{current}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                stack.append(rel)
            elif _marked(live, entry, rel, ()):
                marked.add(rel)
            else:
                other = True
    return marked, bool(marked) and not other


def marked_file(path: str | Path) -> bool:
    """Tell whether a file is a page or feed this program made (its generator mark), never following a link."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError:
        return False
    with open(fd, "rb") as handle:
        try:
            return stat.S_ISREG(os.fstat(fd).st_mode) and carries_mark(handle.read(MARK_WINDOW))
        except OSError:
            return False
