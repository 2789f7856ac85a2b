"""Station authentication for OCPP 2.0.1 security profiles 1-3 (Part 2 block A).

- `passwords`: HTTP Basic auth (profiles 1 and 2): passwordString rules, scrypt hashes, a
  caching verifier, the Authorization header parser.
- `tls`: the TLS server context (profiles 2 and 3) and the client certificate's CN.
- `ca`: a built-in CA that signs station CSRs and issues certificates for labs and tests.

Nothing here touches sockets; `PasswordVerifier.verify_async` is the one Trio-aware call.
"""

from .ca import CertificateAuthority, CsrRejectedError, KeyType
from .passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PASSWORD_CHARACTERS,
    PasswordVerifier,
    PasswordVerifierStatistics,
    generate_password,
    hash_password,
    is_valid_password,
    needs_rehash,
    parse_basic_auth,
    verify_password,
)
from .tls import CIPHERS, REQUIRED_CIPHERS, peer_common_name, server_context

__all__ = [
    "CIPHERS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_CHARACTERS",
    "REQUIRED_CIPHERS",
    "CertificateAuthority",
    "CsrRejectedError",
    "KeyType",
    "PasswordVerifier",
    "PasswordVerifierStatistics",
    "generate_password",
    "hash_password",
    "is_valid_password",
    "needs_rehash",
    "parse_basic_auth",
    "peer_common_name",
    "server_context",
    "verify_password",
]
