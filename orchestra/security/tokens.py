"""Join tokens: what lets a new node ask the plane for a certificate.

Format (as K3s): `K10<sha256 of the CA certificate DER, hex>::<token id>.<secret>`. The agent
keeps the fingerprint part and uses it to check that it talks to the right plane *before*
it sends `<token id>.<secret>`. The plane stores only a hash of the secret, so reading the
store does not give working tokens. A token has an expiry (or none), labels that a node
joining with it receives, and can be revoked.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from orchestra.spec import names

if TYPE_CHECKING:       # the store is the plane's; an agent parsing its token does not load it
    from orchestra.store.records import JoinTokenRecord

PREFIX = "K10"
ID_LENGTH = 6
SECRET_LENGTH = 32
_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}$")
_ID_RE = re.compile(rf"^[0-9a-z]{{{ID_LENGTH}}}$")
_SECRET_RE = re.compile(rf"^[0-9a-z]{{{SECRET_LENGTH}}}$")
FORMAT_HINT = "K10<64 hex digits of the CA fingerprint>::<6-character id>.<32-character secret>"

class TokenError(ValueError):
    """A token that is malformed or refused; the message says why."""


@dataclass(frozen=True)
class ParsedToken:
    ca_fingerprint: str           # "" when the short form <id>.<secret> was given
    token_id: str
    secret: str

    @property
    def credential(self) -> str:
        """What the agent sends in JoinRequest.token: never the fingerprint."""
        return f"{self.token_id}.{self.secret}"


def token_state(record: JoinTokenRecord, now_ms: int) -> str:
    """valid | expired | revoked"""
    if record.revoked:
        return "revoked"
    if record.expires_at_ms and now_ms >= record.expires_at_ms:
        return "expired"
    return "valid"


def hash_secret(secret: str) -> str:
    # The secret holds over 160 bits of randomness, so a plain hash suffices (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def format_token(ca_fingerprint: str, token_id: str, secret: str) -> str:
    return f"{PREFIX}{ca_fingerprint}::{token_id}.{secret}"


def new_token(ca_fingerprint: str, now_ms: int, ttl_seconds: int = 86400,
              labels: Mapping[str, str] | None = None) -> tuple[str, JoinTokenRecord]:
    """A fresh token: (the full token string to hand to an operator, the record to store)."""
    if not _FINGERPRINT_RE.match(ca_fingerprint):
        raise TokenError(f"CA fingerprint must be 64 lowercase hex digits, got {ca_fingerprint!r}")
    if ttl_seconds < 0:
        raise TokenError("a token's ttl cannot be negative")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    token_id = "".join(secrets.choice(alphabet) for _ in range(ID_LENGTH))
    secret = "".join(secrets.choice(alphabet) for _ in range(SECRET_LENGTH))
    from orchestra.store.records import JoinTokenRecord
    record = JoinTokenRecord(id=token_id, secret_hash=hash_secret(secret), created_at_ms=now_ms,
                             expires_at_ms=now_ms + ttl_seconds * 1000 if ttl_seconds else 0,
                             labels=dict(labels or {}))
    return format_token(ca_fingerprint, token_id, secret), record


def parse_token(text: str, *, require_fingerprint: bool = True) -> ParsedToken:
    """Parse the full form (agent side) or, with require_fingerprint=False, also `<id>.<secret>`."""
    text = text.strip()
    fp = ""
    rest = text
    if text.startswith(PREFIX) and "::" in text:
        fp, rest = text[len(PREFIX):].split("::", 1)
        if not _FINGERPRINT_RE.match(fp):
            raise TokenError(f"the token's CA fingerprint is not 64 lowercase hex digits; expected {FORMAT_HINT}")
    elif require_fingerprint:
        raise TokenError(f"malformed join token: expected {FORMAT_HINT}")
    tid, dot, secret = rest.partition(".")
    if not dot or not _ID_RE.match(tid) or not _SECRET_RE.match(secret):
        raise TokenError(f"malformed join token: expected {FORMAT_HINT}")
    return ParsedToken(fp, tid, secret)


def check_token(credential: str, record: JoinTokenRecord | None, now_ms: int) -> JoinTokenRecord:
    """Plane side: accept `<id>.<secret>` against the stored record, or raise TokenError saying why."""
    parsed = parse_token(credential, require_fingerprint=False)
    if record is None or record.id != parsed.token_id:
        raise TokenError(f"join token {parsed.token_id} is unknown")
    if not hmac.compare_digest(record.secret_hash, hash_secret(parsed.secret)):
        raise TokenError(f"join token {parsed.token_id}: the secret does not match")
    state = token_state(record, now_ms)
    if state == "revoked":
        raise TokenError(f"join token {parsed.token_id} was revoked")
    if state == "expired":
        raise TokenError(f"join token {parsed.token_id} expired at {format_ms(record.expires_at_ms)}")
    return record


def format_ms(ms: int) -> str:
    if not ms:
        return "never"
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_duration(text: str) -> int:
    """'90s', '30m', '24h', '7d' -> seconds; '0' means no expiry."""
    if text.strip() == "0":
        return 0
    from orchestra.spec.quantities import QuantityError, parse_duration_ms   # decimal: not for agents
    try:
        ms = parse_duration_ms(text)
    except QuantityError as e:
        raise TokenError(f"{e}; 0 means no expiry") from None
    if ms < 1000 or ms % 1000:
        raise TokenError(f"invalid duration {text!r}: a token lives whole seconds (e.g. 90s, 24h), or 0 for no expiry")
    return ms // 1000


def parse_labels(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """['zone=a', 'tier=web'] or ['zone=a,tier=web'] -> {'zone': 'a', 'tier': 'web'}."""
    try:
        return names.parse_labels(items)
    except ValueError as e:
        raise TokenError(f"invalid {e}") from None
