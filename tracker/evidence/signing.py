"""Ed25519 keys and signatures, through the ``cryptography`` library (pyca: maintained, audited,
OpenSSL underneath); nothing here is home-made but the file layout.

- The private key is a PEM file (PKCS#8, unencrypted, written with mode 0600) whose place is a
  setting (``JOURNEY_CHECKPOINT_KEY``); the database never holds it.
- The public keys that verification trusts are PEM blocks in a *keyring* file (one or more
  ``-----BEGIN PUBLIC KEY-----`` blocks, ``JOURNEY_CHECKPOINT_PUBLIC_KEYS``): rotating the key
  appends the new public key, so older checkpoints still verify. The public key is all a verifier
  needs.
- A key is named by its id: the first 16 hex digits of SHA-256 of its 32 raw bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PEM_PUBLIC_BEGIN = "-----BEGIN PUBLIC KEY-----"


class KeyProblem(Exception):
    """A key file is missing, unreadable or not an Ed25519 key; the message says which and why."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class Signer:
    """The private key that signs checkpoints, and its id."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> str:
        """The signature, base64."""
        return base64.b64encode(self.private.sign(message)).decode()


class Keyring:
    """The public keys a verifier trusts, by id."""

    def __init__(self, keys: list[Ed25519PublicKey] | None = None) -> None:
        self.keys: dict[str, Ed25519PublicKey] = {key_id(k): k for k in keys or []}

    def __bool__(self) -> bool:
        return bool(self.keys)

    def with_key(self, public: Ed25519PublicKey) -> Keyring:
        return Keyring([*self.keys.values(), public])

    def verify(self, kid: str, message: bytes, signature: str) -> str | None:
        """None if ``signature`` is the signature of ``message`` by trusted key ``kid``; else why not."""
        public = self.keys.get(kid)
        if public is None:
            return f"it is signed with key {kid}, which is not among the trusted public keys"
        try:
            public.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return f"its signature does not verify with key {kid}: it was altered or forged"
        return None


def generate(private_file: Path, public_file: Path) -> str:
    """A new key pair: the private key in ``private_file`` (mode 0600, never overwritten), the
    public key in ``public_file``; the key's id."""
    for file in (private_file, public_file):
        if file.exists():
            raise KeyProblem(f"{file} already exists; keys are never overwritten (choose another name).")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    private_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(pem)
    public_file.parent.mkdir(parents=True, exist_ok=True)
    public_file.write_bytes(public_pem(private.public_key()))
    return key_id(private.public_key())


def load_signer(private_file: Path) -> Signer:
    try:
        data = private_file.read_bytes()
    except OSError as e:
        raise KeyProblem(f"The checkpoint signing key {private_file} cannot be read "
                         f"({e.strerror}).") from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise KeyProblem(f"{private_file} is not an unencrypted PEM private key ({e}).") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyProblem(f"{private_file} is not an Ed25519 key (make one with `journey checkpoint keygen`).")
    return Signer(private)


def load_keyring(*files: Path) -> Keyring:
    """The public keys in these files (each may hold several PEM blocks, oldest first)."""
    keys: list[Ed25519PublicKey] = []
    for file in files:
        try:
            text = file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as e:
            raise KeyProblem(f"The public key file {file} cannot be read ({e}).") from None
        blocks = [PEM_PUBLIC_BEGIN + b for b in text.split(PEM_PUBLIC_BEGIN)[1:]]
        if not blocks:
            raise KeyProblem(f"{file} holds no public key ({PEM_PUBLIC_BEGIN} ...).")
        for block in blocks:
            try:
                public = serialization.load_pem_public_key(block.encode())
            except ValueError as e:
                raise KeyProblem(f"{file} holds a public key that cannot be read ({e}).") from None
            if not isinstance(public, Ed25519PublicKey):
                raise KeyProblem(f"{file} holds a public key that is not Ed25519.")
            keys.append(public)
    return Keyring(keys)
