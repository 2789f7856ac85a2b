"""HTTP Basic-auth credentials of security profiles 1 and 2: format, storage, checking.

What lives here:

- `is_valid_password` / `generate_password`: the OCPP `passwordString` rules for
  `SecurityCtrlr.BasicAuthPassword` (see "Which characters" below).
- `hash_password` / `verify_password`: the CSMS keeps only a salted, slow hash of each
  password (scrypt), never the password itself (A01: store salted hashes only; the variable is
  write-only on the station, so the CSMS cannot read it back and must keep what it set).
- `PasswordVerifier`: `verify_password` plus a bounded cache of successful checks, so that a
  reconnect storm (every station logging in again after a CSMS restart or a network outage)
  does not run scrypt once per reconnect.
- `parse_basic_auth`: the `Authorization: Basic ...` header of the websocket upgrade (RFC 7617).

Which characters (checked against the PDFs in ``/work/shared/ocpp/spec``):

- OCPP 2.0.1 Part 2, Table "Primitive Datatypes", as reproduced (struck through) in errata
  2025-01 §2.1, page 5: passwordString is a case-sensitive UTF-8 string that may only
  contain ``a-z``, ``A-Z``, ``0-9`` and the symbols ``* - _ = : + | @ .``. A00.FR.205/304
  and the Part 2 appendices v1.4 (SecurityCtrlr.BasicAuthPassword) add: 16 to 40
  characters.
- Errata 2025-01 §2.1 strikes the character-set sentence (passwordString becomes any UTF-8
  string) and replaces "maximum 40" by "the maxLimit of BasicAuthPassword, which is at least 40
  and at most 64".
- Part 6 (Edition 3) TC_A_01_CS still checks 16-40 characters from "the special characters
  allowed by identifierString"; identifierString (Part 2, not in spec/) has, as far as we
  know, the same symbols.

This module accepts 16..64 characters by default (the errata's ceiling) and, also by default,
only the original character set: a station built before the errata may reject anything else,
and the errata does not oblige a CSMS to use the wider set. `restricted_charset=False` admits
the errata's wider set. A password longer than the station's maxLimit (often 40) is answered
with SetVariables ``Rejected``; the CSMS then keeps the old password (A01.FR.04, TC_A_10).
Only the CSMS-chosen password is validated: `verify_password` takes any string, since a login
is a comparison, not a format check.

Nothing here logs a password (A01: passwords never go to logs in clear text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

import trio

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_CHARACTERS",
    "PasswordVerifier",
    "PasswordVerifierStatistics",
    "generate_password",
    "hash_password",
    "is_password_hash",
    "is_valid_password",
    "needs_rehash",
    "parse_basic_auth",
    "verify_password",
]

MIN_PASSWORD_LENGTH: Final = 16
"""A00.FR.205/304: a BasicAuthPassword has at least 16 characters."""

MAX_PASSWORD_LENGTH: Final = 64
"""Errata 2025-01 §2.1: at most the station's maxLimit, which is between 40 and 64."""

PASSWORD_CHARACTERS: Final = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@."
)
"""The passwordString character set of Part 2 before errata 2025-01 (71 characters)."""

_PASSWORD_CHARACTER_SET: Final = frozenset(PASSWORD_CHARACTERS)

# scrypt cost. n=2**14, r=8, p=1 is the classic interactive-login setting: 16 MiB of memory
# (128 * r * n bytes) and about 50 ms of one core per check. The cache in `PasswordVerifier`
# keeps that cost away from reconnecting stations that already proved their password.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SALT_BYTES: Final = 16
_HASH_BYTES: Final = 32
_SCHEME: Final = "scrypt"

# Bounds on parameters read back from a stored hash: a corrupt or hostile value must not make
# one check take gigabytes or minutes.
_MAX_N: Final = 2**20
_MAX_R: Final = 32
_MAX_P: Final = 16

# A Basic-auth header for a 48-character identity and a 64-character password is ~170
# characters (base64 of 113 bytes plus "Basic "); anything much longer is not ours to decode.
_MAX_BASIC_AUTH_HEADER: Final = 1024


def is_valid_password(
    password: object,
    *,
    max_length: int = MAX_PASSWORD_LENGTH,
    restricted_charset: bool = True,
) -> bool:
    """Whether `password` may be set as a station's `SecurityCtrlr.BasicAuthPassword`.

    Args:
        password: the candidate password (anything else gives False).
        max_length: the upper length limit; 64 (errata 2025-01) by default. Pass 40 for a
            station whose BasicAuthPassword maxLimit is 40 (the pre-errata limit).
        restricted_charset: True (default) admits only `PASSWORD_CHARACTERS`, the original
            passwordString set that every station accepts. False admits what errata 2025-01
            allows (any UTF-8 string), except control characters and lone surrogates, which
            cannot travel safely in a JSON attributeValue and an HTTP header.

    Returns:
        True when the length is within ``MIN_PASSWORD_LENGTH..max_length`` characters and
        every character is admitted. Never raises, whatever it is given.
    """
    if not isinstance(password, str):
        return False
    if not MIN_PASSWORD_LENGTH <= len(password) <= max_length:
        return False
    if restricted_charset:
        return _PASSWORD_CHARACTER_SET.issuperset(password)
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return not any(unicodedata.category(c) == "Cc" for c in password)


def generate_password(length: int = 32) -> str:
    """A random passwordString for `SetVariablesRequest(SecurityCtrlr.BasicAuthPassword)`.

    Characters come from `PASSWORD_CHARACTERS` via `secrets` (A01: passwords are random with
    sufficient entropy). 32 characters carry about 197 bits; 16 still carry 98.

    Args:
        length: number of characters, 16..64. Keep it at 40 or below for a station whose
            BasicAuthPassword maxLimit is 40.

    Returns:
        A password for which `is_valid_password` is true.

    Raises:
        ValueError: `length` is outside 16..64.
    """
    if not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
        raise ValueError(
            f"password length must be {MIN_PASSWORD_LENGTH}..{MAX_PASSWORD_LENGTH}, got {length}"
        )
    return "".join(secrets.choice(PASSWORD_CHARACTERS) for _ in range(length))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Salted scrypt hash of `password`, self-describing, for the station store.

    The result reads ``scrypt$<n>$<r>$<p>$<base64 salt>$<base64 hash>`` (16-byte random salt,
    32-byte hash, standard base64 with padding), so the cost can be raised later without
    invalidating stored hashes (see `needs_rehash`). The password is hashed as UTF-8, exactly
    as the station sends it: no normalisation, because passwordString is case-sensitive and
    compared byte for byte.

    This takes about 50 ms of CPU and 16 MiB at the default cost; from Trio, run it in a
    thread (`trio.to_thread.run_sync`).

    Args:
        password: the clear-text password.
        n, r, p: scrypt cost parameters; n a power of two, 2..2**20; r 1..32; p 1..16.
            Lower values are for tests only.

    Returns:
        The encoded hash.

    Raises:
        ValueError: the password cannot be encoded as UTF-8 (a lone surrogate), or a cost
            parameter is out of range.
    """
    _check_cost(n, r, p)
    try:
        secret = password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the password is not encodable as UTF-8") from None
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, n, r, p, _HASH_BYTES)
    return "$".join((_SCHEME, str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, hashed: str) -> bool:
    """Whether `password` is the one `hashed` was made from (constant-time comparison).

    Runs scrypt at the cost recorded in `hashed` (about 50 ms at the default); from Trio, use
    `PasswordVerifier.verify_async`, which caches successes and runs scrypt in a thread.

    Args:
        password: the password a station presented; any string (a lone surrogate simply
            does not match).
        hashed: a value from `hash_password`.

    Returns:
        True when the password matches.

    Raises:
        ValueError: `hashed` is not a well-formed `hash_password` value. That is a store or
            configuration fault, not a wrong password, so it is not hidden behind False.
    """
    n, r, p, salt, expected = _parse_hash(hashed)
    try:
        secret = password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    actual = _scrypt(secret, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


def is_password_hash(value: object) -> bool:
    """Whether `value` is a well-formed `hash_password` value, its cost within the bounds
    `verify_password` accepts (for hashes made elsewhere, e.g. a bulk import's `passwordHash`).
    Never raises."""
    try:
        _parse_hash(value)  # type: ignore[arg-type]  # it checks the type itself
    except ValueError:
        return False
    return True


def needs_rehash(hashed: str) -> bool:
    """Whether `hashed` was made with a cost other than the current default.

    Args:
        hashed: a value from `hash_password`.

    Returns:
        True when (n, r, p) differ from (`SCRYPT_N`, `SCRYPT_R`, `SCRYPT_P`); rehash the
        password the next time the station logs in successfully.

    Raises:
        ValueError: `hashed` is not well formed.
    """
    n, r, p, _salt, _digest = _parse_hash(hashed)
    return (n, r, p) != (SCRYPT_N, SCRYPT_R, SCRYPT_P)


def parse_basic_auth(header_value: str | bytes) -> tuple[str, str] | None:
    """The (user name, password) of an HTTP ``Authorization: Basic`` header (RFC 7617).

    The user name is everything before the first colon and the password everything after it,
    colons included: a station identity never contains ':' (Part 4 §3.1.1), while the
    passwordString set does. Credentials are decoded as UTF-8, which OCPP mandates for the
    password (A00.FR.205).

    Error handling: anything that is not a well-formed Basic credential (another scheme, bad
    base64, no colon, invalid UTF-8, over-long header, not a string at all) gives None; this
    function never raises. Missing base64 padding is tolerated, as some HTTP clients omit it.

    Args:
        header_value: the header's value, e.g. ``"Basic Q1MwMDE6c2VjcmV0..."``; bytes are
            decoded as ASCII.

    Returns:
        ``(user, password)``, or None when the header is unusable. An empty user name or
        password is returned as such; comparing it is the caller's business.
    """
    try:
        if isinstance(header_value, bytes | bytearray):
            header_value = bytes(header_value).decode("ascii")
        if not isinstance(header_value, str) or len(header_value) > _MAX_BASIC_AUTH_HEADER:
            return None
        scheme, _, token = header_value.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        token = token.strip(" \t")
        if not token or len(token) % 4 == 1:
            return None
        token += "=" * (-len(token) % 4)
        decoded = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon:
        return None
    return user, password


@dataclass(frozen=True, slots=True)
class PasswordVerifierStatistics:
    """A snapshot of a `PasswordVerifier`'s counters.

    Attributes:
        hits: checks answered from the cache (no scrypt run).
        misses: checks that ran scrypt.
        failures: misses whose password was wrong (a subset of `misses`).
        cached_entries: successful (hash, password) pairs currently cached.
        max_entries: the cache's capacity.
    """

    hits: int
    misses: int
    failures: int
    cached_entries: int
    max_entries: int


class PasswordVerifier:
    """`verify_password` with a bounded LRU cache of successful checks.

    Why only successes are cached: a check is a pure function of (stored hash, password), so
    a cached True stays correct for as long as that hash is the station's hash; setting a new
    password stores a new hash, which is a different key, and the stale entry simply ages out.
    A cache hit needs the right password, so the cache gives nothing to someone guessing. If
    failures were cached as well, a guesser (who varies the password anyway, so never hits)
    would fill the cache with junk and push out the entries of real stations, bringing back
    the scrypt storm the cache exists to prevent.

    The trade-off: every wrong password costs one scrypt run (~50 ms, 16 MiB). `verify_async`
    therefore bounds concurrent scrypt runs with its own `trio.CapacityLimiter`, so a flood
    of bad logins queues instead of exhausting memory and the thread pool; throttling
    repeated failures per station or address belongs to the caller. A station that keeps
    reconnecting with an outdated password also pays scrypt each time.

    The cache key is the stored hash plus HMAC-SHA256(per-process random key, password): the
    clear-text password is never kept, and the fast digest cannot serve as an offline oracle
    that bypasses scrypt, because the key never leaves the process. One entry is roughly
    300 bytes, so the default 50 000 entries use about 15 MB.

    Thread safety: `verify` may be called from several threads; the cache is guarded by a lock
    that is never held while scrypt runs.

    Args:
        max_entries: cache capacity (least recently used entries are evicted); 0 disables
            caching.
        max_concurrent_hashes: scrypt runs `verify_async` allows at once; default
            ``min(os.cpu_count(), 8)``.

    Raises:
        ValueError: a negative `max_entries` or a `max_concurrent_hashes` below 1.
    """

    def __init__(
        self, max_entries: int = 50_000, *, max_concurrent_hashes: int | None = None
    ) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        if max_concurrent_hashes is None:
            max_concurrent_hashes = min(os.cpu_count() or 1, 8)
        if max_concurrent_hashes < 1:
            raise ValueError("max_concurrent_hashes must be >= 1")
        self._max_entries = max_entries
        # Keys: (stored hash, HMAC of the password). Values are unused: presence means "this
        # password matched this hash". Most recently used last.
        self._cache: OrderedDict[tuple[str, bytes], None] = OrderedDict()
        self._lock = threading.Lock()
        # Per-process key for the cache digests; regenerated on every start, never stored.
        self._key = secrets.token_bytes(32)
        self._limiter = trio.CapacityLimiter(max_concurrent_hashes)
        self._hits = 0
        self._misses = 0
        self._failures = 0

    def verify(self, password: str, hashed: str) -> bool:
        """Check `password` against `hashed`, from the cache when it matched before.

        Blocking: a cache miss runs scrypt in the calling thread.

        Args:
            password: the password a station presented.
            hashed: the station's stored `hash_password` value.

        Returns:
            True when the password matches.

        Raises:
            ValueError: `hashed` is malformed (see `verify_password`).
        """
        key = self._cache_key(password, hashed)
        if key is not None and self._lookup(key):
            return True
        return self._compute(password, hashed, key)

    async def verify_async(self, password: str, hashed: str) -> bool:
        """`verify` for Trio code: a hit answers at once, a miss runs scrypt in a thread.

        At most `max_concurrent_hashes` scrypt runs proceed at once; further checks wait for a
        slot.

        Cancellation: a check still waiting for a slot is cancelled at once; a running scrypt
        (~50 ms) is not interrupted, and the cancellation is delivered when it finishes. Its
        result is then discarded but a success is still cached.

        Args:
            password: the password a station presented.
            hashed: the station's stored `hash_password` value.

        Returns:
            True when the password matches.

        Raises:
            ValueError: `hashed` is malformed (see `verify_password`).
        """
        key = self._cache_key(password, hashed)
        if key is not None and self._lookup(key):
            await trio.lowlevel.checkpoint()
            return True
        return await trio.to_thread.run_sync(
            self._compute, password, hashed, key, limiter=self._limiter
        )

    def clear(self) -> None:
        """Forget every cached success (e.g. after credentials were revoked in bulk)."""
        with self._lock:
            self._cache.clear()

    def statistics(self) -> PasswordVerifierStatistics:
        """The counters so far and the cache occupancy, as a frozen record."""
        with self._lock:
            return PasswordVerifierStatistics(
                hits=self._hits,
                misses=self._misses,
                failures=self._failures,
                cached_entries=len(self._cache),
                max_entries=self._max_entries,
            )

    def _cache_key(self, password: str, hashed: str) -> tuple[str, bytes] | None:
        if self._max_entries == 0:
            return None
        try:
            secret = password.encode("utf-8")
        except UnicodeEncodeError:
            return None  # cannot match anything; verify_password says False
        return hashed, hmac.digest(self._key, secret, "sha256")

    def _lookup(self, key: tuple[str, bytes]) -> bool:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                self._hits += 1
                return True
            return False

    def _compute(self, password: str, hashed: str, key: tuple[str, bytes] | None) -> bool:
        ok = verify_password(password, hashed)
        with self._lock:
            self._misses += 1
            if not ok:
                self._failures += 1
            elif key is not None:
                self._cache[key] = None
                self._cache.move_to_end(key)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return ok


def _check_cost(n: int, r: int, p: int) -> None:
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0):
        raise ValueError(f"scrypt n must be a power of two in 2..{_MAX_N}, got {n}")
    if not 1 <= r <= _MAX_R:
        raise ValueError(f"scrypt r must be in 1..{_MAX_R}, got {r}")
    if not 1 <= p <= _MAX_P:
        raise ValueError(f"scrypt p must be in 1..{_MAX_P}, got {p}")


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL refuses work above `maxmem` (32 MiB by default); allow what these parameters
    # need (128 * r * (n + p) bytes) plus slack, which `_check_cost` has already bounded.
    maxmem = 128 * r * (n + p) + (1 << 20)
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def _parse_hash(hashed: str) -> tuple[int, int, int, bytes, bytes]:
    parts = hashed.split("$") if isinstance(hashed, str) else []
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise ValueError("not a trio-csms scrypt password hash")
    if not all(x.isascii() and x.isdigit() for x in parts[1:4]):
        raise ValueError("malformed scrypt password hash")
    n, r, p = (int(x) for x in parts[1:4])
    try:
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("malformed scrypt password hash") from None
    _check_cost(n, r, p)
    if len(salt) < 8 or not 16 <= len(digest) <= 64:
        raise ValueError("malformed scrypt password hash (salt or hash length)")
    return n, r, p, salt, digest


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
