"""Secret and state files created private (0600) from the first byte, and Mosquitto password hashes.

A file written with the default umask and tightened afterwards is readable by every local user
for a moment (and for ever if the process dies in between). :func:`write_private` creates a new
file with mode 0600 in the same folder and renames it over the target, so no reader ever sees
the content under another mode, and a crash leaves the old file or the new one, never half.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import stat
from pathlib import Path

# Mosquitto 2.0's own default (mosquitto_passwd); the strength comes from 16-byte random passwords.
PBKDF2_ITERATIONS = 101


def write_private(path: Path | str, data: str | bytes, mode: int = 0o600) -> Path:
    """Write ``data`` to ``path`` through a new file created with ``mode`` (never chmod afterwards).

    :param path: the file to (re)place
    :param data: its whole content (str is written as UTF-8)
    :param mode: permission bits the file is created with
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def private_dir(path: Path | str) -> Path:
    """Make ``path`` a folder only its owner can enter (0700), whatever mode it had before.

    ``mkdir(mode=0o700, exist_ok=True)`` leaves a folder that already existed as it was (often
    0755): then InfluxDB's password hashes in ``meta/`` were readable by every local user. A
    symlink is refused rather than followed: the mode would land on whatever it points to.
    """
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{path}: a private folder must be a real folder, not a link or a file")
    if stat.S_IMODE(st.st_mode) != 0o700:  # only then: a fresh folder was created 0700 already
        os.chmod(path, 0o700)
    return path


def create_private(path: Path | str, mode: int = 0o600) -> Path:
    """Create ``path`` empty with ``mode`` unless it exists (for files another library then opens, e.g. SQLite)."""
    path = Path(path)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    return path


def mosquitto_hash(password: str, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None) -> str:
    """Mosquitto 2.0's ``$7$`` hash: PBKDF2-HMAC-SHA512, ``$7$<iterations>$<base64 salt>$<base64 hash>``.

    This is the format ``mosquitto_passwd`` writes (12-byte salt, 64-byte hash, standard base64),
    made here so that no password is ever passed to a process on its command line.

    :param password: the clear-text password
    :param iterations: PBKDF2 rounds
    :param salt: random 12 bytes if None
    """
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_file(users: dict[str, str]) -> str:
    """The content of a Mosquitto ``password_file`` for ``users`` (name -> clear-text password)."""
    for user in users:
        if not user or ":" in user or any(c.isspace() for c in user):
            raise ValueError(f"broker account {user!r}: a name must be non-empty, without ':' or spaces")
    return "".join(f"{user}:{mosquitto_hash(pw)}\n" for user, pw in users.items())
