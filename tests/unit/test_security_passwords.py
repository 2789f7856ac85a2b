"""security.passwords: passwordString rules, scrypt hashes, the caching verifier, Basic auth.

The passwordString rules are those of Part 2 and errata 2025-01 §2.1 (see the module
docstring); TC_A_01/02/03/09/10_CSMS exercise them through the websocket handshake.
Most hashes here use a low scrypt cost (`FAST`) so the suite stays quick; the default cost is
covered once.
"""

from __future__ import annotations

import base64
import threading
import time

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_csms.security import passwords
from trio_csms.security.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PASSWORD_CHARACTERS,
    SCRYPT_N,
    PasswordVerifier,
    PasswordVerifierStatistics,
    generate_password,
    hash_password,
    is_valid_password,
    needs_rehash,
    parse_basic_auth,
    verify_password,
)

FAST = {"n": 2**4, "r": 1, "p": 1}
"""A scrypt cost for tests only (microseconds instead of ~50 ms)."""


def basic(user_and_password: bytes) -> str:
    return "Basic " + base64.b64encode(user_and_password).decode("ascii")


# -- passwordString ----------------------------------------------------------------------


def test_password_character_set_is_the_part2_passwordstring_set() -> None:
    assert len(PASSWORD_CHARACTERS) == 26 + 26 + 10 + 9
    assert set("*-_=:+|@.") <= set(PASSWORD_CHARACTERS)


@pytest.mark.parametrize(
    "password",
    [
        "a" * 16,
        "A1*-_=:+|@.zZ9xy",
        "x" * 40,
        "y" * 64,  # errata 2025-01: a maxLimit of up to 64
    ],
)
def test_accepts_valid_password_strings(password: str) -> None:
    assert is_valid_password(password)


@pytest.mark.parametrize(
    "password",
    [
        "",
        "a" * 15,  # below the 16-character minimum (A00.FR.205)
        "a" * 65,
        "a" * 15 + " ",  # space is not in the set
        "a" * 15 + "#",
        "a" * 15 + "é",
        "a" * 15 + "\n",
    ],
)
def test_rejects_invalid_password_strings(password: str) -> None:
    assert not is_valid_password(password)


def test_max_length_follows_the_stations_max_limit() -> None:
    assert is_valid_password("a" * 41)
    assert not is_valid_password("a" * 41, max_length=40)


def test_wider_errata_charset_is_opt_in() -> None:
    password = "pässwörd with spaces!"
    assert not is_valid_password(password)
    assert is_valid_password(password, restricted_charset=False)
    assert not is_valid_password("a" * 16 + "\x00", restricted_charset=False)
    assert not is_valid_password("a" * 16 + "\ud800", restricted_charset=False)


@pytest.mark.parametrize("garbage", [None, 12345678901234567, b"a" * 20, ["a"] * 20])
def test_is_valid_password_never_raises(garbage: object) -> None:
    assert not is_valid_password(garbage)


@pytest.mark.parametrize("length", [MIN_PASSWORD_LENGTH, 32, 40, MAX_PASSWORD_LENGTH])
def test_generated_passwords_are_valid_and_distinct(length: int) -> None:
    passwords = {generate_password(length) for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) == length and is_valid_password(p) for p in passwords)


def test_generated_password_default_length_fits_every_station() -> None:
    assert is_valid_password(generate_password(), max_length=40)


@pytest.mark.parametrize("length", [0, 15, 65])
def test_generate_password_refuses_out_of_range_lengths(length: int) -> None:
    with pytest.raises(ValueError, match=r"16\.\.64"):
        generate_password(length)


# -- hashing -----------------------------------------------------------------------------


def test_hash_round_trip_at_default_cost() -> None:
    password = generate_password()
    hashed = hash_password(password)
    scheme, n, r, p, salt, digest = hashed.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, 8, 1)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert password not in hashed
    assert verify_password(password, hashed)
    assert not verify_password(password + "x", hashed)
    assert not needs_rehash(hashed)


def test_hashes_are_salted() -> None:
    assert hash_password("same password 123", **FAST) != hash_password("same password 123", **FAST)


def test_verify_is_case_sensitive_and_exact() -> None:
    hashed = hash_password("CaseSensitive-Pass", **FAST)
    assert verify_password("CaseSensitive-Pass", hashed)
    assert not verify_password("casesensitive-pass", hashed)
    assert not verify_password("CaseSensitive-Pass ", hashed)
    assert not verify_password("", hashed)


def test_non_ascii_passwords_hash_as_utf8() -> None:
    hashed = hash_password("pässwörd-ünïcode", **FAST)
    assert verify_password("pässwörd-ünïcode", hashed)
    assert not verify_password("passwort-unicode", hashed)


def test_unencodable_password_is_refused_when_hashing_and_never_matches() -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        hash_password("bad\ud800surrogate", **FAST)
    assert not verify_password("bad\ud800surrogate", hash_password("x" * 16, **FAST))


def test_lower_cost_hash_needs_rehash() -> None:
    assert needs_rehash(hash_password("x" * 16, **FAST))


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plaintext-password",
        "bcrypt$2b$12$abc",
        "scrypt$16384$8$1$c2FsdA==",
        "scrypt$16383$8$1$c2FsdHNhbHQ=$" + "A" * 44,  # n not a power of two
        "scrypt$1048576$64$1$c2FsdHNhbHQ=$" + "A" * 44,  # r above the bound
        "scrypt$16384$8$1$not base64!$" + "A" * 44,
        "scrypt$ 16384$8$1$c2FsdHNhbHQ=$" + "A" * 44,
        "scrypt$16384$8$1$c2FsdHNhbHQ=$QQ==",  # digest too short
    ],
)
def test_malformed_hash_raises_value_error(hashed: str) -> None:
    with pytest.raises(ValueError):
        verify_password("whatever-password", hashed)


@pytest.mark.parametrize("cost", [{"n": 3}, {"n": 2**21}, {"r": 0}, {"p": 17}])
def test_hash_password_refuses_bad_cost(cost: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="scrypt"):
        hash_password("x" * 16, **cost)


# -- PasswordVerifier --------------------------------------------------------------------


def test_verifier_caches_successes_only() -> None:
    verifier = PasswordVerifier()
    hashed = hash_password("right-password-16", **FAST)
    assert verifier.verify("right-password-16", hashed)
    assert verifier.verify("right-password-16", hashed)
    assert not verifier.verify("wrong-password-16", hashed)
    assert not verifier.verify("wrong-password-16", hashed)
    assert verifier.statistics() == PasswordVerifierStatistics(
        hits=1, misses=3, failures=2, cached_entries=1, max_entries=50_000
    )


def test_verifier_cache_is_keyed_by_hash_so_a_new_password_invalidates() -> None:
    verifier = PasswordVerifier()
    old = hash_password("old-password-1234", **FAST)
    new = hash_password("new-password-1234", **FAST)
    assert verifier.verify("old-password-1234", old)
    # The station's stored hash is now `new`: the cached success for `old` does not apply.
    assert not verifier.verify("old-password-1234", new)
    assert verifier.verify("new-password-1234", new)


def test_verifier_evicts_least_recently_used() -> None:
    verifier = PasswordVerifier(max_entries=2)
    hashes = [hash_password(f"password-number-{i}", **FAST) for i in range(3)]
    for i in (0, 1):
        assert verifier.verify(f"password-number-{i}", hashes[i])
    assert verifier.verify("password-number-0", hashes[0])  # hit: 0 is now most recent
    assert verifier.verify("password-number-2", hashes[2])  # evicts 1
    assert verifier.statistics().cached_entries == 2
    before = verifier.statistics()
    assert verifier.verify("password-number-0", hashes[0])
    assert verifier.verify("password-number-1", hashes[1])
    after = verifier.statistics()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 1)


def test_verifier_with_zero_capacity_never_caches() -> None:
    verifier = PasswordVerifier(max_entries=0)
    hashed = hash_password("right-password-16", **FAST)
    assert verifier.verify("right-password-16", hashed)
    assert verifier.verify("right-password-16", hashed)
    stats = verifier.statistics()
    assert (stats.hits, stats.misses, stats.cached_entries) == (0, 2, 0)


def test_verifier_clear_forgets_successes() -> None:
    verifier = PasswordVerifier()
    hashed = hash_password("right-password-16", **FAST)
    verifier.verify("right-password-16", hashed)
    verifier.clear()
    assert verifier.statistics().cached_entries == 0


def test_verifier_propagates_malformed_hash() -> None:
    with pytest.raises(ValueError):
        PasswordVerifier().verify("right-password-16", "not-a-hash")


def test_verifier_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        PasswordVerifier(-1)
    with pytest.raises(ValueError):
        PasswordVerifier(max_concurrent_hashes=0)


def test_verifier_is_thread_safe() -> None:
    verifier = PasswordVerifier(max_entries=8)
    hashes = [hash_password(f"password-number-{i}", **FAST) for i in range(16)]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(20):
                i = (offset + round_) % 16
                assert verifier.verify(f"password-number-{i}", hashes[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stats = verifier.statistics()
    assert stats.hits + stats.misses == 80 and stats.cached_entries <= 8


async def test_verify_async_hits_without_a_thread_and_misses_in_one() -> None:
    verifier = PasswordVerifier()
    hashed = hash_password("right-password-16", **FAST)
    with trio.fail_after(10):
        assert await verifier.verify_async("right-password-16", hashed)
        assert await verifier.verify_async("right-password-16", hashed)
        assert not await verifier.verify_async("wrong-password-16", hashed)
    stats = verifier.statistics()
    assert (stats.hits, stats.misses, stats.failures) == (1, 2, 1)


async def test_verify_async_bounds_concurrent_scrypt_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = threading.Lock()
    running = peak = 0

    def slow_verify(password: str, hashed: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return password.startswith("right")

    monkeypatch.setattr(passwords, "verify_password", slow_verify)
    verifier = PasswordVerifier(max_concurrent_hashes=2)
    results: list[bool] = []

    async def check(password: str) -> None:
        results.append(await verifier.verify_async(password, "hash"))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for i in range(8):
                nursery.start_soon(check, f"right-{i}" if i % 2 else f"wrong-{i}")
    assert sorted(results) == [False] * 4 + [True] * 4
    assert peak == 2


# -- Basic auth header -------------------------------------------------------------------


def test_parses_basic_credentials() -> None:
    assert parse_basic_auth(basic(b"CS001:secret-password-1")) == ("CS001", "secret-password-1")


def test_username_is_before_the_first_colon() -> None:
    # passwordString allows ':'; station identities never contain one (Part 4 §3.1.1).
    assert parse_basic_auth(basic(b"CS001:pa:ss:word")) == ("CS001", "pa:ss:word")


def test_tolerates_scheme_case_whitespace_bytes_and_missing_padding() -> None:
    token = base64.b64encode(b"CS001:abc").decode().rstrip("=")
    assert parse_basic_auth(f"  bAsIc   {token}  ") == ("CS001", "abc")
    assert parse_basic_auth(basic(b"CS001:abc").encode()) == ("CS001", "abc")


def test_decodes_utf8_credentials() -> None:
    assert parse_basic_auth(basic("CS001:pässwörd".encode())) == ("CS001", "pässwörd")


def test_empty_user_or_password_is_returned_for_the_caller_to_refuse() -> None:
    assert parse_basic_auth(basic(b":password")) == ("", "password")
    assert parse_basic_auth(basic(b"CS001:")) == ("CS001", "")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Basic",
        "Basic ",
        "Bearer abc.def.ghi",
        "Basic !!!notbase64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"CS001:\xff\xfe").decode(),  # not UTF-8
        "Basic " + base64.urlsafe_b64encode(b"CS001:>>>???").decode(),  # wrong alphabet
        "Basic a",  # impossible base64 length
        "Basic " + "QUFB" * 1000,  # over-long
        "Basic\tQ1MwMDE6YWJj",  # RFC 7617 wants a space
        "Basic QUJD QUJD",
        b"Basic \xff\xfe",
        "Basic Q1MwMDE6YWJj\x00",
    ],
)
def test_garbage_headers_give_none(header: str | bytes) -> None:
    assert parse_basic_auth(header) is None


@given(st.one_of(st.text(), st.binary()))
@settings(max_examples=300)
def test_parse_basic_auth_never_raises(header: str | bytes) -> None:
    result = parse_basic_auth(header)
    assert result is None or (isinstance(result[0], str) and isinstance(result[1], str))


@given(
    user=st.text(st.characters(exclude_characters=":", exclude_categories=["Cs"])),
    password=st.text(st.characters(exclude_categories=["Cs"])),
)
@settings(max_examples=300)
def test_parse_basic_auth_round_trips(user: str, password: str) -> None:
    encoded = basic(f"{user}:{password}".encode())
    if len(encoded) <= 1024:
        assert parse_basic_auth(encoded) == (user, password)
