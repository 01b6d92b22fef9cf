"""The local run's RSA key pair: ``python -m common.keys [FOLDER]`` makes it once.

Settings only read keys (``JWT_PUBLIC_KEY[_FILE]``, ``JWT_PRIVATE_KEY[_FILE]``; in DEBUG
also this pair when it exists). The local run (scripts/run.py) calls this; ``make env``
(scripts/make_env.py) puts a fresh pair in compose's .env. FOLDER defaults to ``<data dir>/keys``.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .settings.env import local_key_paths


def generate_keypair() -> tuple[str, str]:
    """Return a fresh RSA-2048 pair as PEM text: (private PKCS#8, public SubjectPublicKeyInfo)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem.decode(), public_pem.decode()


def ensure_keypair(folder: Path | None = None) -> tuple[Path, Path]:
    """Make the pair in ``folder`` unless it is there; return (private path, public path).

    Several processes may start at once on a fresh data dir: an exclusive lock makes
    one of them generate the pair and the others wait for it, so a private key of
    one process never lands beside the public key of another.
    """
    private_path, public_path = local_key_paths(folder)
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    private_path.parent.mkdir(parents=True, exist_ok=True)
    with open(private_path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (private_path.exists() and public_path.exists()):
            _write(private_path, public_path, *generate_keypair())
    return private_path, public_path


def _write(private_path: Path, public_path: Path, private_pem: str, public_pem: str) -> None:
    # Write to temporary names and rename so concurrent starters never see half a key.
    for path, pem, mode in ((private_path, private_pem, 0o600), (public_path, public_pem, 0o644)):
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(pem)
        tmp.chmod(mode)
        tmp.replace(path)


def main(argv: list[str]) -> int:
    private_path, public_path = ensure_keypair(Path(argv[0]) if argv else None)
    print(f"{private_path}\n{public_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
