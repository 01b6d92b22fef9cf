"""Write the ``.env`` that compose.yaml reads: real secrets and a fresh JWT key pair (``make env``).

It copies ``.env.example`` line by line and fills every empty ``NAME=`` with a value of its
own: random secrets (``secrets.token_urlsafe``) and an RSA key pair (``common.keys``), the
PEMs on one line with ``\\n`` (the settings turn it back into newlines) and single-quoted, so
compose takes them literally. It refuses to overwrite a ``.env`` (new secrets would lock out
an existing database and broker) unless ``--force``; the file is readable by its owner only.

``--kubernetes`` prints instead a Secret manifest of the same generated values for
``kubectl apply -f -`` (deploy/k8s/README.md); nothing is written to disk then.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"
EMPTY = re.compile(r"^([A-Z][A-Z0-9_]*)=$")
# What Kubernetes takes from the generated values: the rest of .env is compose's own
# (its database and broker passwords; a cluster's come from the managed services).
KUBERNETES_KEYS = ("DJANGO_SECRET_KEY", "JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY")


def generated_values(names: list[str]) -> dict[str, str]:
    """Return a fresh value for every name: the JWT pair where asked, else a random secret."""
    from common.keys import generate_keypair

    private_pem, public_pem = generate_keypair()
    keys = {"JWT_PRIVATE_KEY": private_pem, "JWT_PUBLIC_KEY": public_pem}
    # 50 random bytes: 67 characters, above Django's own deployment check (50).
    return {name: keys.get(name) or secrets.token_urlsafe(50 if name == "DJANGO_SECRET_KEY" else 32) for name in names}


def empty_names(example: str) -> list[str]:
    return [match.group(1) for line in example.splitlines() if (match := EMPTY.match(line))]


def one_line(value: str) -> str:
    return value.strip().replace("\n", "\\n")


def env_text(example: str, values: dict[str, str]) -> str:
    """Return ``example`` with each empty ``NAME=`` filled (PEMs single-quoted: compose keeps them as they are)."""
    lines = []
    for line in example.splitlines():
        match = EMPTY.match(line)
        if match:
            value = one_line(values[match.group(1)])
            line = f"{match.group(1)}='{value}'" if "\\n" in value else f"{match.group(1)}={value}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def kubernetes_secret(values: dict[str, str], *, name: str, namespace: str) -> str:
    """Return a Secret manifest (YAML) of the values Kubernetes takes, for ``kubectl apply -f -``."""
    import yaml

    wanted = [key for key in KUBERNETES_KEYS if key in values]
    wanted += sorted(key for key in values if key.startswith("SERVICE_SECRET_"))
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "erp"}},
        "stringData": {key: one_line(values[key]) for key in wanted},
    }
    return yaml.safe_dump(manifest, sort_keys=False, width=1_000_000)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=ROOT / ".env", help="where to write (default: .env beside compose.yaml)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file (new secrets for everything)")
    parser.add_argument("--kubernetes", action="store_true", help="print a Secret manifest to stdout instead")
    parser.add_argument("--secret-name", default="erp-secrets")
    parser.add_argument("--namespace", default="erp")
    args = parser.parse_args(argv)

    example = EXAMPLE.read_text()
    values = generated_values(empty_names(example))
    if args.kubernetes:
        sys.stdout.write(kubernetes_secret(values, name=args.secret_name, namespace=args.namespace))
        return 0
    if args.output.exists() and not args.force:
        print(f"{args.output} exists; keeping it (its secrets are in use). --force replaces it.", file=sys.stderr)
        return 1
    # Created private: the secrets are never readable by another user, not even for a moment.
    descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(env_text(example, values))
    args.output.chmod(0o600)
    print(f"wrote {args.output} ({len(values)} secrets and keys); next: docker compose up --build")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
