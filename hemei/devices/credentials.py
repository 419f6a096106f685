"""Per-device credentials: one random secret, shown once, never stored in clear.

- The MQTT password is the secret; the register keeps it as Mosquitto 2's PBKDF2-SHA512 hash
  (`$7$<iterations>$<salt>$<hash>`, the format `mosquitto_passwd` writes), so `hemei mqtt acl`
  can write the broker's password file without knowing any secret.
- The webhook signing key is derived from the secret (SHA-256 of "hemei-webhook:" + secret):
  a camera vendor signs with it; the register must keep it to check signatures, and a leak of
  it lets no one log in to the broker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101  # mosquitto_passwd's default for $7$
SALT_BYTES = 12


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def mosquitto_hash(secret: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        _empty, seven, iterations, salt, _digest = stored.split("$")
        if seven != "7":
            return False
        expected = mosquitto_hash(secret, salt=base64.b64decode(salt), iterations=int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, stored)


def signing_key(secret: str) -> str:
    return hashlib.sha256(f"hemei-webhook:{secret}".encode()).hexdigest()
