"""Writing an output file whole or not at all: :func:`replace_file`, after :func:`destination_problem`.

:func:`skvae.save` and the command line's CSV outputs both write through a
temporary file beside the destination and rename it at the end, so that a
write that fails or is interrupted half-way leaves no truncated file, and an
existing file stays as it was until the new one is complete. Two kinds of
destination are not replaced by the rename:

- a symbolic link is written through, as the shell's ``>`` writes through
  it: renaming onto the link would replace the link itself with a regular
  file and leave the file it points to unchanged;
- a destination that exists but is not a regular file (a named pipe, a
  terminal, ``/dev/stdout``, ``/dev/null``) is written into directly: a
  rename would replace the device or pipe itself (as root, even
  ``/dev/null``), and the reader waiting on the pipe would wait forever.

A file replaced keeps its permission bits (not its other names: a hard
link to the old file still reads the old contents).
"""

import errno
import os
import stat
import uuid


def replace_file(path, write):
    """Have ``write(target)`` write the file at `path`, whole or not at all.

    Parameters
    ----------
    path : str
        The destination; its folder must exist.
    write : callable
        Called once with the path to write: a temporary file in the
        destination's folder (renamed onto the destination once `write`
        returns), or the destination itself where it is not a regular file.
        It must create the file it is given.
    """
    try:
        mode = os.stat(path).st_mode  # through symbolic links
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # By the name given: /dev/stdout on a pipe resolves to "/proc/<pid>/fd/pipe:[...]", no path at all.
        write(path)
        return
    real = os.path.realpath(path)  # through symbolic links: the file the user means, not the link
    # Not tempfile.mkstemp: its files are private (0600) whatever the umask,
    # and an output file is usually meant to be shared.
    # The name's start only: a name near the file system's limit (255 bytes) left no room for the suffix,
    # and a valid --out failed with "File name too long" naming the temporary file.
    temporary = os.path.join(os.path.dirname(real), f".{os.path.basename(real)[:64]}.{uuid.uuid4().hex}.tmp")
    try:
        write(temporary)
        if mode is not None:
            # The file replaced keeps its permissions: a model made private (0600) must not become readable
            # by everyone (the umask's 0644) because it was saved again.
            os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, real)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def destination_problem(path):
    """What stops a file being written at `path`, known before any work: (problem, folder), or None.

    `problem` is ``"folder"`` (`path` is a folder), ``"separator"`` or
    ``"dot"`` (it ends with a path separator, or with ``.`` or ``..``, so it
    names a folder, and none is there: the write
    would make a file of that name without the separator), ``"folder is a
    file"`` or ``"no folder"`` (its folder, given as `folder`, is a file or
    does not exist), ``"link loop"`` (`path` is a symbolic link in a loop of
    links, given as `folder`), ``"link to no folder"`` (a symbolic link
    whose target lies in `folder`, which does not exist), ``"read-only
    file"`` (an existing file, given as `folder`, that this process may not
    write), ``"folder not writable"`` (the folder the file would be
    written in, given as `folder`, forbids it) or ``"another's file in a
    sticky folder"`` (an existing file, given as `folder`, that the sticky
    bit of its folder lets only its owner replace). :func:`skvae.save`
    and the command line's ``--out`` each phrase these in their own terms.

    A symbolic link is written through (:func:`replace_file`), so the folder
    that must exist is its target's. Hostile sweep 18: a link whose target
    lay in a missing folder, or a loop of links, passed this check (the
    link's own folder exists), so ``skvae fit`` trained first and then failed
    naming the temporary file (``/gone/.f.skvae.<hex>.tmp``), and the other
    commands failed after their work with pandas' "Cannot save file into a
    non-existent directory".
    """
    if os.path.isdir(path):
        return "folder", path
    if path.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)):
        return "separator", path
    if os.path.basename(path) in (os.curdir, os.pardir):
        # "keep.csv/." or "new/..": a folder by its last component, which abspath and realpath drop (hostile
        # sweep 18): "keep.csv/." was written as "keep.csv", replacing that file with a model, and
        # "new.csv/." made a file "new.csv".
        parent = os.path.dirname(path)
        if os.path.exists(parent) and not os.path.isdir(parent):
            return "folder is a file", parent
        return "dot", path
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                return "link loop", path
            # A broken link: the file written is its target, in the target's folder.
            target = os.path.realpath(path)
            folder = os.path.dirname(target)
            if not os.path.isdir(folder):
                return "link to no folder", folder
            return _permission_problem(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        return "folder is a file", folder
    if not os.path.isdir(folder):
        return "no folder", folder
    return _permission_problem(path)


def _permission_problem(path):
    """What permissions forbid at `path`, as :func:`destination_problem` says it, or None.

    :func:`replace_file` writes a temporary file in the folder of the file
    meant (a link's target's) and renames it over the destination, which
    needs the folder's permission only. Hostile sweep 28: so a file made
    read-only (``chmod a-w``) to keep it was replaced without a word by
    ``skvae.save`` and every ``--out``, where ``open(path, "w")``, the
    shell's ``>``, ``torch.save``, ``joblib.dump`` and pandas' ``to_csv``
    all refuse it; and a folder without write permission failed in the
    write, naming the temporary file (``.model.skvae.<hex>.tmp``), a name
    the user never gave. Decided: a read-only file is refused, as ``open``
    refuses it (``os.access`` answers as ``open`` would, so the superuser,
    whom ``open`` lets write it, may replace it too).
    A destination that is not a regular file (a pipe, ``/dev/stdout``) is
    written into directly, so its own permissions answer when it is opened.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        return None
    if mode is not None and not os.access(path, os.W_OK):
        return "read-only file", path
    folder = os.path.dirname(os.path.realpath(path))
    if not os.access(folder, os.W_OK | os.X_OK):
        return "folder not writable", folder
    if mode is not None and _kept_by_sticky_folder(os.path.realpath(path), folder):
        return "another's file in a sticky folder", path
    return None


def _kept_by_sticky_folder(real, folder):
    """Whether the file `real` in `folder` may be written but not replaced: another's, in a sticky folder.

    Hostile sweep 28: in a folder with the sticky bit (``/tmp``, a shared
    drop folder) only a file's owner (or the folder's) may rename over it, so
    a file of another user's that this process may write was refused only at
    the rename, after the work: "Operation not permitted" naming the
    temporary file (``skvae.save``) or nothing (``--out``). Refused before
    the work (decided: not written into in place, which would give up the
    whole-or-nothing write).
    """
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return False
    try:
        folder_stat, file_stat = os.stat(folder), os.stat(real)
    except OSError:
        return False
    euid = os.geteuid()
    return bool(folder_stat.st_mode & stat.S_ISVTX) and euid not in (folder_stat.st_uid, file_stat.st_uid)


def home_unexpanded(path):
    """Whether `path` starts with a ``~`` that names no file: a home folder only a shell would have expanded.

    Hostile sweep 28: ``skvae.save(model, "~/models/m.skvae")`` was told
    that the folder ``/current/folder/~/models`` does not exist, "create it
    first", advice that makes a folder named ``~`` (one ``rm -r ~`` from a
    disaster), and ``load("~/m.skvae")`` or ``--out=~/m.skvae`` (the shell
    expands ``~`` only unquoted at the start of a word) said only "no such
    file". Python's ``open`` does not expand ``~`` and neither does skvae
    (decided: a folder may really be named so, and ``torch.save`` and
    ``joblib.dump`` do not expand it either); where the path does not exist
    the messages say why.
    """
    if not isinstance(path, str) or not path.startswith("~"):
        return False
    first = path.split(os.sep, 1)[0]
    return not os.path.lexists(first)
