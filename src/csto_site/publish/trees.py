"""Publish a build atomically: bring a standby copy of the site up to date, then swap the two folders.

The output folder (public/) has a twin, `.public.publish/standby/`, and the two share every unchanged
file as a hard link. A build writes only the files whose bytes changed into the standby, carries
over files that people placed in public/ by hand, then exchanges the two folders in one atomic
rename (renameat2 RENAME_EXCHANGE on Linux; three renames elsewhere). A web server reading public/
sees the old site or the new one, never a mix; an unchanged file keeps its inode and mtime; a
failed build never touches public/. `.public.publish/manifest.sqlite` records what each folder
holds, and the folder itself is locked while a build runs, so a second build is refused (serve waits).

Hand-placed files are found without listing the whole output: the manifest keeps the ctime of each
folder of the live site, and only folders whose ctime moved (an entry was added or removed) are
listed. A build that cannot trust the manifest (the first, --clean, after a crash) compares every
file with the bytes on disk instead.

This module holds `Trees`, the two folders as one build sees them (the build's Outbox): the lock,
writing the standby, completing it, the swap and its record. The record itself is manifest.py,
finding what changed by hand scan.py, and the file-system primitives util/fs.py.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import sqlite3
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..build.inputs import FastState
from ..build.outbox import Changes
from ..site.urls import OwnPaths, output_path_error
from ..util.digest import bytes_digest
from ..util.errors import ContentError, Problem, io_problem
from ..util.fs import (
    CannotExchange,
    exchange,
    file_inodes,
    folders_of,
    inode,
    link_or_copy,
    make_folder,
    recover_exchange,
    remove,
    write_file,
)
from ..util.store import BUSY_SECONDS, busy
from .manifest import FILE, Manifest, home
from .scan import Scan, folder_stamps, read_early, scan_changes, walk_foreign

if TYPE_CHECKING:
    from ..util.parallel import Background

# Scratch folders of a build (pages laid out for the search indexer) live in `.public.publish/`.
SCRATCH = "scratch-"


def swap(live: Path, standby: Path) -> None:
    """Exchange the live folder and its standby (atomically where the system can); refuse where they cannot be."""
    try:
        exchange(live, standby)
    except CannotExchange:
        raise ContentError(
            [
                Problem(
                    str(live),
                    0,
                    "cannot swap the new site in: the output folder is a mount "
                    "point, or on another file system than the folder that holds it",
                    "build into a folder inside it (--out public/site) and serve that",
                )
            ]
        ) from None


@dataclass(frozen=True)
class Outcome:
    """What a finishing build does with the two folders, decided before it completes the standby."""

    changes: Changes  # what the build drew; its `removed` filled in here
    dropped: set[str]  # the output groups the new site no longer has
    made: set[str]  # the files of the output groups the build rendered
    old: set[str]  # the recorded files of the groups it rendered or dropped (all of them, untrusted)
    foreign: set[str]  # entries placed by hand, carried over into the new site
    unwanted: set[str]  # entries of ours that no record lists, removed
    swaps: bool  # the standby is swapped in: something changed, or this is the first build


@dataclass(frozen=True)
class Swapped:
    """The two folders' inodes once the build swapped them (or did not), with the folder stamps to record."""

    ids: tuple[int, int]
    live: dict[str, int]
    standby: dict[str, int]


class OutputBusy(ContentError):
    """Raised when another build holds the lock on the output folder."""


def held_by_another(out: Path) -> bool:
    """Tell whether another build holds the lock on the output folder right now."""
    try:
        with Trees(out) as trees:
            trees.lock()
    except OutputBusy:
        return True
    return False


class Trees:
    """The output folder and its standby twin as one build sees them: locked, written, completed, swapped."""

    def __init__(self, out: Path) -> None:
        self.shown = str(out)
        self.live = out.resolve()
        self.home = home(out)
        self.standby = self.home / "standby"
        self.warnings: list[Problem] = []
        self.manifest = Manifest(self.home / FILE, self.warnings)
        self.lock_fd: int | None = None
        self.early: Background | None = None
        # What the record says of the two folders (`open`), and what the scan of the live one found.
        self.verify = True
        self.signatures: dict[str, str] = {}
        self.live_id = 0
        self.standby_id = 0
        self.scan = Scan()
        self.missing: set[str] = set()
        self.standby_foreign: set[str] = set()
        # What this build writes (`begin`).
        self.begun = False
        self.own = OwnPaths(frozenset())
        self.live_digests: dict[str, str] = {}
        self.safe_folders: set[str] = set()

    # -- locking -----------------------------------------------------------------------------

    def lock(self) -> None:
        """Lock the output against other builds; refuse with a clear problem when one is running."""
        if self.lock_fd is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home, os.O_RDONLY)
        try:
            import fcntl
        except ImportError:  # no advisory locks on this system (Windows): builds are not serialised
            pass
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputBusy(
                    [
                        Problem(
                            self.shown,
                            0,
                            "another build is writing this output folder right now",
                            "wait for it to finish, then build again",
                        )
                    ]
                ) from None
        self.lock_fd = fd
        # Where a swap takes three renames, a build killed between them left a folder aside: set right first.
        if recover_exchange(self.live, self.standby):
            self.warnings.append(
                Problem(
                    self.shown,
                    0,
                    f"the site was missing, moved aside into {self.home.name} by a build killed "
                    "while swapping it: put back",
                    "nothing to do",
                    warning=True,
                )
            )

    def lock_if_known(self) -> bool:
        """Lock now if an earlier build left its state here; return whether it did."""
        if not self.home.is_dir():
            return False
        self.lock()
        return True

    def close(self) -> None:
        """Stop the early reader if its result was not taken, close the manifest and release the lock."""
        if self.early is not None:
            self.early.close()
            self.early = None
        self.manifest.close()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def __enter__(self) -> Trees:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the record says ----------------------------------------------------------------------

    def fast_state(self) -> FastState | None:
        """Return the last build's quick-answer state if both folders are still as it left them."""
        return self.manifest.fast_state(self.live, self.standby)

    def open(self, verify: bool) -> None:
        """Read the manifest and decide whether the folders can be trusted or must be checked file by file."""
        self.signatures, ids, dirty = self.manifest.read()
        self.live_id, self.standby_id = inode(self.live), inode(self.standby)
        recorded_live = ids[0] if ids else 0
        # An unfinished build may have emptied or half-written the standby; the live folder it never touched.
        trusted = (
            not verify
            and self.live_id != 0
            and (ids == (self.live_id, self.standby_id) or (dirty and recorded_live == self.live_id))
        )
        self.verify = not trusted
        if self.live.exists() and not self.live.is_dir():
            raise ContentError(
                [Problem(self.shown, 0, "the output path is a file, not a folder", "choose another --out")]
            )
        if trusted and dirty:
            # A build stopped (killed, Ctrl+C, a full disk) after it began changing the standby and before
            # its swap: the live folder is as recorded, only the standby is not. Brought back to a copy of
            # the live folder, it is trusted, and this build renders what changed instead of every page.
            self._restandby()
        if not self.verify:
            early, self.early = self.early, None
            self.scan = scan_changes(self.manifest, self.live, self.live_id, early)
            self.missing = set(self.scan.missing)
            self.standby_foreign = self.manifest.foreign(self.standby_id)

    def _restandby(self) -> None:
        """Bring the standby back to a hard-link copy of the live folder's files of ours, as recorded.

        Only what the unfinished build changed is undone: every other file still shares its inode with
        the live one, and is left alone (a few hundred writes, not one per file of the site).
        """
        paths = self.manifest.paths()
        folders = folders_of(paths)
        if self.standby.is_symlink() or not self.standby.is_dir():
            if self.standby.exists() or self.standby.is_symlink():
                remove(self.standby)
            self.standby.mkdir(parents=True)
            self.standby_id = inode(self.standby)
        live = file_inodes(self.live, folders)
        shared: set[str] = set()
        stack = [""]
        while stack:
            folder = stack.pop()
            with os.scandir(os.path.join(self.standby, folder)) as entries:
                for entry in entries:
                    rel = f"{folder}/{entry.name}" if folder else entry.name
                    if rel in folders and entry.is_dir(follow_symlinks=False):
                        stack.append(rel)
                    elif rel in paths and entry.is_file(follow_symlinks=False) and entry.inode() == live.get(rel):
                        shared.add(rel)
                    else:
                        remove(Path(entry.path))
        standby = str(self.standby)
        for path in sorted(paths - shared):
            make_folder(os.path.dirname(os.path.join(standby, path)))
            # A file deleted from the live folder is found missing by the scan, and written again.
            with contextlib.suppress(FileNotFoundError):
                link_or_copy(os.path.join(self.live, path), os.path.join(standby, path))
        # The standby holds just what the live folder holds of ours; its folders are stamped when next swapped.
        self.manifest.reset_standby((self.live_id, self.standby_id), folders)

    def generation(self) -> str:
        """Return the generation of the build state the live site was published with ("" when unknown)."""
        return self.manifest.generation()

    def reusable(self, group: str, signature: str) -> bool:
        """Tell whether the published files of an output group were made from `signature` and are all there."""
        return self.signatures.get(group) == signature and self.intact(group)

    def intact(self, group: str) -> bool:
        """Tell whether an output group the last build published is still all there, whatever it was made from."""
        return not self.verify and group in self.signatures and group not in self.scan.missing_groups

    def read_stamps_early(self) -> None:
        """Start reading the live folder's recorded and current stamps in a second process (lock held).

        On a large site that is tens of thousands of system calls, done while this process parses and
        plans; `open` takes the result when it finds the folders trustworthy.
        """
        manifest = self.manifest.path
        if self.lock_fd is not None and self.early is None and manifest.is_file():
            self.early = read_early(manifest, self.live)

    # -- writing the standby ----------------------------------------------------------------------

    def begin(self, rendering: Iterable[str], own: OwnPaths) -> None:
        """Get the standby ready: marked unfinished, emptied when untrusted, clashes removed, digests at hand.

        `own` are the paths this program writes for this site: what a build that cannot trust its record
        removes when it does not make it.
        """
        self.own = own
        produced = set(rendering)
        if not self.begun:
            self.begun = True
            self.manifest.mark_unfinished()
            if self.verify:
                if self.standby.exists() or self.standby.is_symlink():
                    remove(self.standby)
                self.standby.mkdir(parents=True)
                self.standby_foreign = set()
        if self.standby_foreign:
            folders = folders_of(produced)
            for path in sorted(self.standby_foreign):
                if path in produced or path in folders:
                    remove(self.standby / path)
                    self.standby_foreign.discard(path)
        if not self.verify:
            self.live_digests.update(self.manifest.digests_of(produced))

    def settle(self, path: str, data: bytes, indexed: bool = False) -> tuple[str, bool]:
        """Return a file's digest, writing it into the standby unless the live folder holds the same bytes."""
        digest = bytes_digest(data)
        if self.verify:
            try:
                with open(os.path.join(self.live, path), "rb") as handle:
                    same = handle.read() == data
            except OSError:
                same = False
        else:
            same = self.live_digests.get(path) == digest and path not in self.missing
        if not same:
            self.write(path, data)
        return digest, not same

    def write(self, path: str, data: bytes) -> None:
        """Write one changed file into the standby without touching the copy the live folder shares."""
        reason = output_path_error(path)
        if reason:
            raise ContentError([Problem(path, 0, f"cannot write {path!r}: {reason}", "")])
        target = os.path.join(self.standby, path)
        self._ensure_folder(posixpath.dirname(path))
        if self.verify:
            # The standby was emptied for this build: no file here is shared with the live folder.
            write_file(target, data)
            return
        temporary = f"{target}.{os.getpid()}.tmp"
        write_file(temporary, data)
        os.replace(temporary, target)

    def link(self, path: str) -> None:
        """Make the standby's `path` the live folder's file, as a hard link."""
        target = os.path.join(self.standby, path)
        self._ensure_folder(posixpath.dirname(path))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        link_or_copy(os.path.join(self.live, path), target)

    def _ensure_folder(self, folder: str) -> None:
        """Create a folder of the standby, refusing to follow a link out of it."""
        if folder in self.safe_folders:
            return
        target = os.path.join(self.standby, folder)
        make_folder(target)
        # An emptied standby holds only what this build made; a kept one may hold hand-placed links.
        if not self.verify and not os.path.realpath(target).startswith(os.path.realpath(self.standby)):
            raise ContentError(
                [
                    Problem(
                        folder,
                        0,
                        "a link in the output folder leads out of it",
                        "remove the link from the output folder",
                    )
                ]
            )
        self.safe_folders.add(folder)

    @contextlib.contextmanager
    def laid_out(self, groups: Mapping[str, Iterable[str]], written: Container[str]) -> Iterator[dict[str, Path]]:
        """Yield a scratch folder per group beside the output, holding its paths as they will be published.

        Each file is a hard link to the standby's copy (if this build wrote it) or the live one: the
        folders are on the output's file system wherever TMPDIR is, and cost no space. All are removed after.
        """
        for left in self.home.glob(f"{SCRATCH}*"):  # left by a build that was killed (the lock is held)
            remove(left)
        # Named for this process: a Pagefind left running by a killed build writes only into its own.
        scratch = self.home / f"{SCRATCH}{os.getpid()}"
        scratch.mkdir()
        try:
            folders = {}
            for number, (group, paths) in enumerate(groups.items()):
                folder = folders[group] = scratch / str(number) / "site"
                for path in paths:
                    target = os.path.join(folder, path)
                    make_folder(os.path.dirname(target))
                    link_or_copy(os.path.join(self.standby if path in written else self.live, path), target)
            yield folders
        finally:
            remove(scratch)

    def indexed(self, dropped: set[str], changes: Changes) -> list[tuple[str, str]]:
        """Return (path, index key) of every indexed page of the new site (none of `dropped`), sorted."""
        found = (
            {
                path: dig
                for path, dig, group in self.manifest.indexed()
                if group not in dropped and group not in changes.rendered
            }
            if not self.verify
            else {}
        )
        for _, files in changes.rendered.values():
            found.update((f.path, f.index_key) for f in files if f.index_key)
        return sorted(found.items())

    def indexed_of(self, groups: Iterable[str]) -> list[tuple[str, str]]:
        """Return (path, index key) of the pages of these groups the live site has indexed for search."""
        found = self.manifest.indexed_of(groups)
        self.manifest.commit()
        return found

    def indexed_under(self, folder: str) -> list[tuple[str, str, str]]:
        """Return (path, index key, group) of the pages below a folder the live site has indexed for search."""
        return self.manifest.indexed_under(folder)

    # -- completing the standby and swapping it in ------------------------------------------------------

    def complete(
        self, changes: Changes, dropped: set[str], generation: str, before_swap: Callable[[], Problem | None]
    ) -> Problem | None:
        """Finish the build; a failure between the swap and its record (a full disk, Ctrl+C) swaps back.

        So a build that stops at any moment leaves the output folder as it was; the standby, marked
        unfinished since `begin`, is repaired by the next build (`_restandby`). `before_swap` is called
        once the standby is complete, just before it is swapped in (or would be): what must be on disk
        before the new site is (the record of the addresses it publishes). Its warning is returned.
        """
        try:
            return self.finish(changes, dropped, generation, before_swap)
        except BaseException:
            self._put_back()
            raise

    def _put_back(self) -> None:
        """Bring the old site back in place if this build swapped its own in."""
        if inode(self.live) == self.live_id:
            return
        if self.live_id == 0:  # a first build: there was no site, and the new one goes back to standing by
            if self.standby.exists():
                remove(self.standby)
            os.rename(self.live, self.standby)
        else:
            swap(self.live, self.standby)

    def finish(
        self, changes: Changes, dropped: set[str], generation: str, before_swap: Callable[[], Problem | None]
    ) -> Problem | None:
        """Complete the standby, swap it in when any file changed, and record what each folder holds."""
        outcome = self._outcome(changes, dropped)
        touched = self._complete_standby(outcome)
        ours = self._our_folders(outcome.made, touched)
        warning = before_swap()
        swapped = self._swap_in(outcome, touched, ours)
        self._record(outcome, swapped, ours, generation)
        changes.removed |= outcome.unwanted
        return warning

    def _outcome(self, changes: Changes, dropped: set[str]) -> Outcome:
        """Decide what the build removes, which entries placed by hand it keeps, and whether it swaps."""
        made = {f.path for _, files in changes.rendered.values() for f in files}
        old = self.manifest.paths() if self.verify else self.manifest.paths_of(dropped | set(changes.rendered))
        changes.removed = old - made
        foreign, unwanted = self._sort_live(made, old) if self.verify else (set(self.scan.foreign), set())
        foreign = self._drop_clashes(foreign, made)
        self._warn_placed_at_own_paths(foreign)
        swaps = bool(changes.written or changes.removed or unwanted) or self.live_id == 0
        return Outcome(changes, dropped, made, old, foreign, unwanted, swaps)

    def _sort_live(self, made: set[str], old: set[str]) -> tuple[set[str], set[str]]:
        """Return the live entries no record made, kept as placed by hand or removed as ours, warning of each."""
        if self.live_id == 0:
            return set(), set()
        foreign, unwanted = walk_foreign(self.live, old, self.own, made)
        if unwanted:
            shown = ", ".join(sorted(unwanted)[:3])
            self.warnings.append(
                Problem(
                    self.shown,
                    0,
                    f"removed {len(unwanted)} entries no recorded build made where this program writes: {shown}",
                    "after a build stopped while it swapped folders, nothing to do: it left them; "
                    "else place files by hand only outside the site's own addresses",
                    warning=True,
                )
            )
        if foreign and not self.signatures:
            shown = ", ".join(sorted(foreign)[:3])
            self.warnings.append(
                Problem(
                    self.shown,
                    0,
                    f"kept {len(foreign)} entries no recorded build made: {shown}",
                    "delete them by hand if they are left over",
                    warning=True,
                )
            )
        return foreign, unwanted

    def _drop_clashes(self, foreign: set[str], produced: set[str]) -> set[str]:
        """Return the hand-placed entries but those where the site now has a file or folder of its own (warned)."""
        if not foreign:
            return foreign
        folders = folders_of(produced)
        clashes = sorted(p for p in foreign if p in produced or p in folders)
        if clashes:
            more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
            self.warnings.append(
                Problem(
                    f"{self.shown}/{clashes[0]}",
                    0,
                    f"a file placed here by hand{more} is replaced by the site's own",
                    "move hand-placed files to addresses the site does not use",
                    warning=True,
                )
            )
        return foreign - set(clashes)

    def _warn_placed_at_own_paths(self, foreign: set[str]) -> None:
        """Warn about entries newly placed by hand where this program writes: a build without the record drops them."""
        placed = sorted(p for p in foreign - self.scan.recorded_foreign if p in self.own)
        if placed and not self.verify:
            more = f" and {len(placed) - 1} more" if len(placed) > 1 else ""
            self.warnings.append(
                Problem(
                    f"{self.shown}/{placed[0]}",
                    0,
                    f"a file placed here by hand{more} is where "
                    "the site writes its own files: a build that cannot trust its record "
                    "(--clean, or after a crash) removes it",
                    "put it under static/, or outside the site's own addresses",
                    warning=True,
                )
            )

    def _complete_standby(self, outcome: Outcome) -> set[str]:
        """Link, drop and carry over what the standby still lacks or has too much of; return the folders touched."""
        relink, drop = self._relink_and_drop(outcome)
        for path in sorted(relink):
            self.link(path)
        for path in sorted(drop):
            self._drop(path)
        carried = self._carry_foreign(outcome) if outcome.swaps or self.verify else set()
        touched = folders_of(outcome.changes.written | relink | drop | carried) | {""}
        self._prune(touched)
        return touched

    def _relink_and_drop(self, outcome: Outcome) -> tuple[set[str], set[str]]:
        """Return the files the standby must take from the live folder, and those it must lose."""
        changes = outcome.changes
        if self.verify:
            return (outcome.made - changes.written if self.live_id else set()), set()
        if not outcome.swaps:
            return set(), set()
        stale = self.manifest.stale()
        # A stale path is still published if its group was kept as it was, or rendered anew.
        stale_groups = self.manifest.groups_of(stale)
        current = {
            p
            for p in stale
            if p in outcome.made
            or ((g := stale_groups.get(p)) is not None and g not in outcome.dropped and g not in changes.rendered)
        }
        return current - changes.written, changes.removed | (stale - current)

    def _drop(self, path: str) -> None:
        """Remove a file of ours from the standby."""
        try:
            os.unlink(os.path.join(self.standby, path))
        except FileNotFoundError:
            return
        except IsADirectoryError:  # a folder of ours left by a build that could not trust its record
            shutil.rmtree(os.path.join(self.standby, path))

    def _carry_foreign(self, outcome: Outcome) -> set[str]:
        """Give the standby the live folder's hand-placed entries, and no other; return the entries it holds."""
        # A file the site publishes is never removed as hand-placed, whatever an old record says.
        leftover = self.standby_foreign - outcome.foreign
        ours = {p for p in leftover if p in outcome.made or self.manifest.published(p)}
        for path in sorted(leftover - ours):
            remove(self.standby / path)
        for path in sorted(outcome.foreign):
            self._carry(path, outcome.unwanted)
        return outcome.foreign | self.standby_foreign

    def _carry(self, path: str, unwanted: Container[str]) -> None:
        """Give the standby the live folder's hand-placed file or folder at `path` (without `unwanted` entries)."""
        source, target = self.live / path, self.standby / path
        self._ensure_folder(posixpath.dirname(path))
        if source.is_dir() and not source.is_symlink():
            if target.exists() or target.is_symlink():
                remove(target)
            shutil.copytree(
                source,
                target,
                symlinks=True,
                copy_function=link_or_copy,
                ignore=partial(_ignored, self.live, unwanted) if unwanted else None,
            )
            return
        try:
            if os.stat(target, follow_symlinks=False).st_ino == os.stat(source, follow_symlinks=False).st_ino:
                return
        except FileNotFoundError:
            pass
        if target.exists() or target.is_symlink():
            remove(target)
        link_or_copy(str(source), str(target))

    def _prune(self, folders: Iterable[str]) -> None:
        """Remove standby folders left empty, from the deepest up."""
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            if folder:
                try:
                    os.rmdir(os.path.join(self.standby, folder))
                except OSError:
                    continue

    def _our_folders(self, made: set[str], touched: set[str]) -> set[str]:
        """Return the folders of ours the new site has (of those `touched`, the ones still there)."""
        if self.verify:
            return folders_of(made)
        return (set(self.scan.folders) | folders_of(made)) - {f for f in touched if not (self.standby / f).is_dir()}

    def _swap_in(self, outcome: Outcome, touched: set[str], ours: set[str]) -> Swapped:
        """Stamp the standby's folders, and swap it in when the build changed anything (or is the first)."""
        restamp = touched & ours
        if outcome.swaps and not self.verify:
            # Folders of the standby left unstamped when last written (after a first build, all of them,
            # made a moment before): stamped now, or the next build would list every one of them.
            restamp |= self.manifest.unstamped(self.standby_id) & ours
        stamps = dict(folder_stamps(self.standby, ours if self.verify else restamp))
        if self.live_id == 0:
            os.rename(self.standby, self.live)
            self._mirror(outcome)
            return Swapped((inode(self.live), inode(self.standby)), stamps, dict(folder_stamps(self.standby, ours)))
        if outcome.swaps:
            swap(self.live, self.standby)
            other = dict(folder_stamps(self.standby, ours)) if self.verify else {}
            return Swapped((inode(self.live), inode(self.standby)), stamps, other)
        # Nothing changed: the standby stands by, with the stamps just read.
        live = dict(folder_stamps(self.live, ours)) if self.verify else {}
        return Swapped((self.live_id, inode(self.standby)), live, stamps)

    def _mirror(self, outcome: Outcome) -> None:
        """Create the standby as a hard-link copy of the live folder's files (after a first build)."""
        if self.standby.exists():
            remove(self.standby)
        self.standby.mkdir()
        made: set[str] = set()
        live, standby = str(self.live), str(self.standby)
        for path in sorted(outcome.made):
            folder = posixpath.dirname(path)
            if folder and folder not in made:
                make_folder(os.path.join(standby, folder))
                made.add(folder)
            link_or_copy(os.path.join(live, path), os.path.join(standby, path))
        for path in sorted(outcome.foreign):
            self._carry(path, outcome.unwanted)

    def _record(self, outcome: Outcome, swapped: Swapped, ours: set[str], generation: str) -> None:
        """Record what each folder holds now, in one transaction: the files, stale ones, stamps, hand-placed entries."""
        changes, manifest = outcome.changes, self.manifest
        renewed = outcome.swaps or self.verify
        with manifest.db:
            # Every folder of `fresh` has its row: an update in place, no delete and insert as a replace.
            manifest.restamp(self.live_id, self.scan.fresh)
            manifest.replace_files(changes.rendered, outcome.dropped, None if self.verify else outcome.old)
            if renewed:
                # The entries removed as ours are still in the old site, the next standby: gone from it next time.
                stale = changes.written | changes.removed | outcome.unwanted
                manifest.replace_stale(stale if outcome.swaps and self.live_id else ())
            gone = None if self.verify else self.scan.folders - ours
            manifest.replace_stamps(swapped.ids, swapped.live, swapped.standby, gone)
            if renewed or outcome.foreign != self.scan.recorded_foreign:
                standby = outcome.foreign if renewed else self.standby_foreign
                manifest.replace_foreign(swapped.ids, outcome.foreign, standby)
            manifest.finished(swapped.ids, generation)
            changes.files = manifest.count()

    def record_fast(self, fast: FastState) -> None:
        """Store what a later build that finds nothing changed may answer."""
        try:
            self.manifest.save_fast(fast)
        except sqlite3.OperationalError as exc:  # a full disk: the site is published and recorded all the same
            self.warnings.append(
                Problem(
                    str(self.home),
                    0,
                    f"the quick answer of the next build was not saved ({exc})",
                    "nothing to do: the next build looks for changes instead",
                    warning=True,
                )
            )


def _ignored(live: Path, unwanted: Container[str], folder: str, names: list[str]) -> set[str]:
    """Name the entries of a folder being carried over that this build removes as its own (copytree's ignore)."""
    rel = Path(folder).relative_to(live).as_posix()
    return {name for name in names if f"{rel}/{name}" in unwanted}


def stopped_by(exc: OSError | sqlite3.OperationalError, out: Path, cache: Path | None) -> Problem:
    """Describe what stopped a build: a build cache another build held too long, or a file it could not use."""
    if cache is not None and busy(exc):
        return Problem(
            str(cache),
            0,
            f"another build is using this build cache, and did not let go of it within {BUSY_SECONDS:g} s",
            "wait for it to finish and build again, or give this build a cache of its own with --cache DIR",
        )
    return io_problem(exc, f"{cache} or {home(out)}")
