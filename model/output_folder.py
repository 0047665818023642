"""Output folders written whole or not at all, checked before any simulation, safe against concurrent writers.

A command that writes a folder of results (``run.py run``, ``compare``,
``report``) first *claims* it with ``claim_output_folder``, before anything runs:

- the path is checked: not a system folder (``/proc``, ``/sys``, ``/dev``), not
  under a file, the folder absent or empty, and the place it goes writable
  (tried, not guessed);
- a hidden working folder ``.NAME.partial`` is made beside it and locked
  (``flock``); a second writer to the same folder finds it locked and is
  refused at once with the same "not empty" message it would get later;
- files are written into the working folder, which ``commit`` renames onto the
  output folder in one step (``rename`` replaces an empty folder atomically and
  fails on a non-empty one, so a writer that loses a race is refused cleanly
  instead of crashing or mixing files);
- any failure, Ctrl-C or SIGTERM removes the working folder (``release``); a
  working folder left by a killed process (SIGKILL, power loss) holds no lock,
  and the next claim in the same place removes it.

The lock is the kernel's: it goes away with the process however it ends, so a
stale working folder is never mistaken for a live one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

from model.commands import CommandError

PARTIAL_SUFFIX = ".partial"
SYSTEM_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
# A working folder younger than this may belong to a writer that made it a moment ago and has not locked it yet
# (microseconds in practice; ten seconds leave room for a loaded machine).
STALE_AFTER_SECONDS = 10.0


class OutputFolderError(CommandError):
    """An output folder that cannot be written: names the folder, the option, the reason and what is accepted."""

    def __init__(self, folder: str | Path, reason: str, option: str = "--out"):
        self.folder = str(folder)
        self.option = option
        self.reason = reason
        super().__init__(f"{option} {folder}: {reason}")


def _not_empty(out: Path, option: str, extra: str = "") -> OutputFolderError:
    return OutputFolderError(out, f"output folder exists and is not empty{extra}; choose another {option} "
                                  "(a new or empty folder; nothing was changed)", option)


def check_output_folder(out: str | Path, option: str = "--out") -> Path:
    """Check that ``out`` can be created (or is an empty folder) and written, without writing anything there.

    Returns:
        The folder as an absolute path.

    Raises:
        OutputFolderError: a system folder, a path under a file, a non-empty folder or file, or a place this
            user cannot write.
    """
    out = Path(os.path.abspath(os.fspath(out)))
    for root in SYSTEM_ROOTS:
        if out == root or root in out.parents:
            raise OutputFolderError(out, f"is inside {root}, a system folder; choose a folder of your own for {option}",
                                    option)
    if out == Path(out.anchor):
        raise OutputFolderError(out, f"is the root folder; choose a folder of your own for {option}", option)
    for ancestor in reversed(out.parents):
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputFolderError(out, f"cannot write under {ancestor}: it is a file; choose another {option}", option)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise _not_empty(out, option)
    # Try it: permissions, read-only mounts and full disks all show here.
    _check_writable_place(next(p for p in (out, *out.parents) if p.exists()), option)
    return out


def check_output_file(path: str | Path, option: str = "--out", replace: bool = False) -> Path:
    """Check that a single output file can be written (not a system path, not under a file, its folder writable).

    Args:
        path: the file.
        option: the command-line option that named it, for messages.
        replace: whether an existing file may be replaced (else it is refused).

    Raises:
        OutputFolderError: the file cannot be written there, or exists and may not be replaced.
    """
    path = Path(os.path.abspath(os.fspath(path)))
    if path.is_dir():
        raise OutputFolderError(path, f"is a folder; give a file name for {option}", option)
    if path.exists() and not replace:
        raise OutputFolderError(path, f"file exists; choose another {option} (a new file; nothing was changed)", option)
    if path.parent.exists():
        _check_writable_place(path.parent, option)
    else:
        check_output_folder(path.parent, option)
    return path


def _check_writable_place(folder: Path, option: str) -> None:
    for root in SYSTEM_ROOTS:
        if folder == root or root in folder.parents:
            raise OutputFolderError(folder, f"is inside {root}, a system folder; choose a folder of your own for "
                                            f"{option}", option)
    try:
        probe = tempfile.mkdtemp(prefix=".write-check-", dir=folder)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputFolderError(folder, f"cannot write in {folder} ({exc.strerror or exc}); choose a folder you can "
                                        f"write for {option}", option) from None


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def clean_stale(parent: Path, keep: Path | None = None) -> list[Path]:
    """Remove working folders in ``parent`` left by writers that died; returns what was removed.

    A working folder is stale when nobody holds its lock and it is older than ten seconds (a younger,
    unlocked one may be a moment away from being locked by the writer that made it).
    """
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for path in entries:
        if path == keep or not (path.name.startswith(".") and path.name.endswith(PARTIAL_SUFFIX)):
            continue
        try:
            if not path.is_dir() or path.is_symlink() or time.time() - path.stat().st_mtime < STALE_AFTER_SECONDS:
                continue
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            if _lock(fd) and os.path.samestat(os.fstat(fd), os.stat(path)):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


class OutputFolder:
    """A claimed output folder: write into ``work``, then ``commit`` (or ``release`` on failure).

    Use as a context manager: leaving the block by an exception releases it; ``commit`` must be called
    on success.

    Attributes:
        out: the output folder (absolute).
        work: the locked working folder beside it, where files are written.
        option: the command-line option that named it, for messages.
    """

    def __init__(self, out: Path, work: Path, fd: int, option: str):
        self.out = out
        self.work = work
        self.option = option
        self._fd: int | None = fd

    def commit(self) -> Path:
        """Move the working folder onto the output folder in one step; returns the output folder.

        Raises:
            OutputFolderError: the output folder was filled by someone else meanwhile (the working folder is removed).
        """
        try:
            os.replace(self.work, self.out)
        except OSError as exc:
            self.release()
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise _not_empty(self.out, self.option, " (another run wrote it meanwhile)") from None
            raise OutputFolderError(self.out, f"cannot move the results into place ({exc.strerror or exc})",
                                    self.option) from None
        self._close()
        return self.out

    def release(self) -> None:
        """Remove the working folder and everything in it (after a failure)."""
        if self._fd is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or self._fd is not None:
            self.release()


def claim_output_folder(out: str | Path, option: str = "--out") -> OutputFolder:
    """Check ``out`` and take it for this process, before any simulation (see the module docstring).

    Raises:
        OutputFolderError: the folder cannot be written (``check_output_folder``), or another run is writing it now.
    """
    out = check_output_folder(out, option)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(out, f"cannot make {out.parent} ({exc.strerror or exc})", option) from None
    clean_stale(out.parent)
    work = out.parent / f".{out.name}{PARTIAL_SUFFIX}"
    for _ in range(5):
        try:
            work.mkdir(exist_ok=True)
            fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # removed between mkdir and open by a cleaner: make it again
            continue
        except OSError as exc:
            raise OutputFolderError(out, f"cannot write beside it ({exc.strerror or exc})", option) from None
        if not _lock(fd):
            os.close(fd)
            raise _not_empty(out, option, " (another run is writing it now)")
        if not work.exists() or not os.path.samestat(os.fstat(fd), os.stat(work)):
            os.close(fd)  # a cleaner removed it after we opened it: make it again
            continue
        for leftover in work.iterdir():  # a dead writer's files
            shutil.rmtree(leftover) if leftover.is_dir() and not leftover.is_symlink() else leftover.unlink()
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            os.close(fd)
            shutil.rmtree(work, ignore_errors=True)
            raise _not_empty(out, option)
        return OutputFolder(out, work, fd, option)
    raise OutputFolderError(out, "could not take the working folder beside it; try again", option)


def write_folder(out: str | Path, write, option: str = "--out") -> Path:
    """Claim ``out``, call ``write(work_folder)`` and commit; a failure leaves nothing behind."""
    with claim_output_folder(out, option) as folder:
        write(folder.work)
        return folder.commit()
