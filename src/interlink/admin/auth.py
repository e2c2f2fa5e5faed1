"""Admin users and their sessions: Argon2id password hashes, lock-out after repeated failures, server-side
sessions whose cookie carries a random token (only its SHA-256 is stored), and a CSRF token per session.

Sign-in names the workspace, the email and the password. A wrong email and a wrong password get the same
answer, and take the same time (an unknown email is checked against a dummy hash), so the form does not
tell who has an account. After ``MAX_FAILED_ATTEMPTS`` wrong passwords the account is locked for
``LOCKOUT``; the right password does not open it early (``interlink users unlock`` does).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from interlink.admin.repository import AdminSessionRepo, AdminUserRepo
from interlink.errors import Conflict, InterlinkError, NotFound, ValidationFailed
from interlink.kit.time import utc_now
from interlink.models import AdminSession, AdminUser, Workspace
from interlink.workspaces.repository import WorkspaceRepo

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=4)
SESSION_ABSOLUTE = timedelta(hours=24)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 12
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Argon2id with the library's defaults (RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes).
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class SignInRefused(InterlinkError):
    status_code = 401
    code = "sign_in_refused"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_strength(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", details={"field": "password"}
        )
    if password.strip().lower() == email.strip().lower():
        raise ValidationFailed("the password cannot be the email address", details={"field": "password"})


def normalise_email(email: str) -> str:
    email = email.strip()
    if not EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed(f"{email!r} is not an email address", details={"field": "email"})
    return email


# -- users ---------------------------------------------------------------------------------------------------


def create_user(session: Session, workspace: Workspace, email: str, password: str) -> AdminUser:
    email = normalise_email(email)
    check_password_strength(password, email)
    repository = AdminUserRepo(session, workspace.id)
    if repository.by_email(email) is not None:
        raise Conflict(f"{email} can already sign in to workspace {workspace.slug}", details={"field": "email"})
    return repository.add(AdminUser(workspace_id=workspace.id, email=email, password_hash=hash_password(password)))


def list_users(session: Session, workspace_id: uuid.UUID) -> Sequence[AdminUser]:
    return AdminUserRepo(session, workspace_id).list_all()


def get_user(session: Session, workspace_id: uuid.UUID, email: str) -> AdminUser:
    user = AdminUserRepo(session, workspace_id).by_email(email.strip())
    if user is None:
        raise NotFound(f"no admin user {email!r} in this workspace")
    return user


def set_password(session: Session, user: AdminUser, password: str) -> None:
    """Change the password and end every session of the user (a stolen session dies with the old password)."""
    check_password_strength(password, user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = utc_now()
    user.failed_attempts, user.locked_until = 0, None
    AdminSessionRepo(session).delete_for_user(user.id)
    session.flush()


def unlock(session: Session, user: AdminUser) -> None:
    user.failed_attempts, user.locked_until = 0, None
    session.flush()


def set_disabled(session: Session, user: AdminUser, disabled: bool) -> None:
    user.disabled = disabled
    if disabled:
        AdminSessionRepo(session).delete_for_user(user.id)
    session.flush()


# -- signing in ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    session: AdminSession
    token: str  # goes into the cookie; never stored


WRONG_CREDENTIALS = "the workspace, email or password is not right"


def sign_in(
    session: Session, workspace_slug: str, email: str, password: str, *, user_agent: str | None = None
) -> SignedIn:
    """Check the password and open a session, or raise ``SignInRefused`` with a message for the form."""
    now = utc_now()
    workspace = WorkspaceRepo(session).get_by_slug(workspace_slug.strip().lower())
    user = AdminUserRepo(session, workspace.id).by_email(email.strip()) if workspace is not None else None
    if user is None or user.disabled:
        _verify(_DUMMY_HASH, password)  # the same work as a real check: timing does not tell who exists
        raise SignInRefused(WRONG_CREDENTIALS)
    if user.locked_until is not None:
        if user.locked_until > now:
            raise SignInRefused(_locked_message(user.locked_until, now))
        user.failed_attempts, user.locked_until = 0, None
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.locked_until = now + LOCKOUT
            session.flush()
            raise SignInRefused(_locked_message(user.locked_until, now))
        session.flush()
        raise SignInRefused(WRONG_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_attempts, user.locked_until, user.last_signed_in_at = 0, None, now
    token = secrets.token_urlsafe(32)
    sessions = AdminSessionRepo(session)
    sessions.delete_expired(now)
    record = sessions.add(
        AdminSession(
            token_hash=token_hash(token),
            user_id=user.id,
            workspace_id=user.workspace_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_ABSOLUTE,
            user_agent=(user_agent or "")[:300] or None,
            data={},
        )
    )
    return SignedIn(session=record, token=token)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, round((until - now).total_seconds() / 60))
    return (
        f"too many wrong passwords: this account is locked for {minutes} more minute{'s' if minutes != 1 else ''}. "
        "Another admin can unlock it at once with `interlink users unlock`."
    )


@dataclass(frozen=True)
class Principal:
    """Who is signed in: the session row, the user and the workspace (all loaded in the request's session)."""

    session: AdminSession
    user: AdminUser
    workspace: Workspace

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


def resolve_session(session: Session, token: str | None) -> Principal | None:
    """The principal behind a cookie token, or None when it is unknown, expired or idle too long."""
    if not token:
        return None
    record = AdminSessionRepo(session).by_token_hash(token_hash(token))
    if record is None:
        return None
    now = utc_now()
    if record.expires_at <= now or now - record.last_seen_at > SESSION_IDLE:
        AdminSessionRepo(session).delete(record)
        return None
    user = session.get(AdminUser, record.user_id)
    workspace = session.get(Workspace, record.workspace_id)
    if user is None or workspace is None or user.disabled or user.workspace_id != record.workspace_id:
        return None
    if now - record.last_seen_at > LAST_SEEN_RESOLUTION:
        record.last_seen_at = now
        session.flush()
    return Principal(session=record, user=user, workspace=workspace)


def sign_out(session: Session, token: str | None) -> None:
    if not token:
        return
    record = AdminSessionRepo(session).by_token_hash(token_hash(token))
    if record is not None:
        AdminSessionRepo(session).delete(record)


# -- per-session scratch data (flash messages, OAuth handshakes) ----------------------------------------------


def push_flash(session: Session, principal: Principal, kind: str, message: str) -> None:
    data = dict(principal.session.data or {})
    data["flash"] = [*data.get("flash", []), {"kind": kind, "message": message}]
    principal.session.data = data
    session.flush()


def pop_flash(session: Session, principal: Principal) -> list[dict[str, str]]:
    data = dict(principal.session.data or {})
    messages: list[dict[str, str]] = data.pop("flash", [])
    if messages:
        principal.session.data = data
        session.flush()
    return messages


def remember(session: Session, principal: Principal, key: str, value: object) -> None:
    principal.session.data = {**(principal.session.data or {}), key: value}
    session.flush()


def take(session: Session, principal: Principal, key: str) -> object:
    data = dict(principal.session.data or {})
    value = data.pop(key, None)
    principal.session.data = data
    session.flush()
    return value
