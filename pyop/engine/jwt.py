"""Engine API authentication: an HS256 JSON Web Token per request.

Spec: ethereum/execution-apis src/engine/authentication.md: the secret is 32 bytes, stored as hex
(``0x`` optional) in a file shared by the consensus and execution clients (op-node
``--l2.jwt-secret``, op-geth ``--authrpc.jwtsecret``); the token's header is
``{"alg":"HS256","typ":"JWT"}``, its claims carry ``iat`` (seconds; the EL rejects tokens more
than 60 s off its clock); it travels as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from os import PathLike

from pyop.primitives import PyopError

JWT_SECRET_LEN = 32


class JWTSecretError(PyopError):
    """The JWT secret file is missing or is not 32 bytes of hex."""


def parse_jwt_secret(text: str) -> bytes:
    """The 32-byte secret from the file's text (surrounding whitespace and ``0x`` ignored)."""
    t = text.strip()
    if t[:2] in ("0x", "0X"):
        t = t[2:]
    if len(t) != 2 * JWT_SECRET_LEN:
        raise JWTSecretError(f"JWT secret must be {2 * JWT_SECRET_LEN} hex digits, got {len(t)}")
    try:
        return bytes.fromhex(t)
    except ValueError:
        raise JWTSecretError("JWT secret is not hex") from None


def load_jwt_secret(path: str | PathLike[str]) -> bytes:
    """Read and parse a JWT secret file (:class:`JWTSecretError` if unreadable or malformed)."""
    try:
        with open(path, encoding="ascii") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise JWTSecretError(f"cannot read JWT secret {path}: {e}") from None
    return parse_jwt_secret(text)


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


_HEADER = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


def jwt_token(secret: bytes, *, now: float | None = None) -> str:
    """A compact HS256 JWT with claims ``{"iat": now}``."""
    if len(secret) != JWT_SECRET_LEN:
        raise JWTSecretError(f"JWT secret must be {JWT_SECRET_LEN} bytes, got {len(secret)}")
    iat = int(time.time() if now is None else now)
    claims = _b64url(json.dumps({"iat": iat}, separators=(",", ":")).encode())
    signing_input = f"{_HEADER}.{claims}".encode("ascii")
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{_HEADER}.{claims}.{_b64url(sig)}"
