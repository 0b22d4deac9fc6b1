"""Users and API tokens in the store. Passwords are hashed (werkzeug scrypt); tokens are stored as sha256.

A session names the user and their session generation ("id:generation"); signing out, a password change or
reset, deactivation and a role change bump the generation, so every session issued before stops working.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models.ops import ROLES, ApiToken, User
from infra.clock import utcnow

MIN_PASSWORD = 8


class AccountError(ValueError):
    """A refused account operation, with a message fit to show the user."""


@dataclass(frozen=True)
class Account:
    """What the web layer knows of a user (never the hash)."""
    id: int
    email: str
    role: str
    generation: int = 0

    # flask-login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.generation}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _account(user: User) -> Account:
    return Account(id=user.id, email=user.email, role=user.role, generation=user.session_generation or 0)


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 255 or " " in email:
        raise AccountError("Enter a valid email address.")
    return email


def create_user(engine: Engine, email: str, role: str, password: str) -> Account:
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"Password must be at least {MIN_PASSWORD} characters.")
    with Session(engine, expire_on_commit=False) as session:
        if session.scalar(select(User.id).where(User.email == email)):
            raise AccountError(f"A user with email {email} already exists.")
        user = User(email=email, role=role, password_hash=generate_password_hash(password),
                    active=True, created_at=utcnow())
        session.add(user)
        session.commit()
        return _account(user)


def set_password(engine: Engine, email: str, password: str) -> None:
    """A new password; the user's existing sessions end."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"Password must be at least {MIN_PASSWORD} characters.")
    _change(engine, email, password_hash=generate_password_hash(password))


def _change(engine: Engine, email: str, **values) -> None:
    """Update a user and end their sessions (bump the generation); AccountError when there is no such user."""
    with engine.begin() as conn:
        done = conn.execute(update(User).where(User.email == normalise_email(email))
                            .values(session_generation=User.session_generation + 1, **values)).rowcount
    if not done:
        raise AccountError(f"No user with email {email}.")


def end_sessions(engine: Engine, email: str) -> None:
    """Every session of the user stops working (sign-out ends the session everywhere it was copied to)."""
    _change(engine, email)


def set_role(engine: Engine, email: str, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    _change(engine, email, role=role)


def set_active(engine: Engine, email: str, active: bool) -> None:
    """Deactivate (sessions and tokens stop working at once) or reactivate a user."""
    _change(engine, email, active=bool(active))


def reset_password(engine: Engine, email: str) -> str:
    """A generated password, set now and returned once (only its hash is kept); sessions end."""
    password = secrets.token_urlsafe(12)
    set_password(engine, email, password)
    return password


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked for unknown emails so they take as long as known ones."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def authenticate(engine: Engine, email: str, password: str) -> Account | None:
    """The account when email and password match an active user, else None (same answer and the same
    time for both: an unknown email still pays one scrypt check)."""
    try:
        email = normalise_email(email)
    except AccountError:
        email = ""
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == email, User.active.is_(True))).first() if email else None
        ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
        if user is None or not ok:
            return None
        user.last_login_at = utcnow()
        session.commit()
        return _account(user)


def load_account(engine: Engine, session_id: str) -> Account | None:
    """The active account a session names ("id:generation"), None when the generation has moved on."""
    uid, _, generation = str(session_id or "").partition(":")
    try:
        uid_n, generation_n = int(uid), int(generation)
    except (TypeError, ValueError):
        return None
    if not (0 < uid_n < 2**31 and 0 <= generation_n < 2**31):
        return None
    with Session(engine) as session:
        user = session.get(User, uid_n)
        if user is None or not user.active or (user.session_generation or 0) != generation_n:
            return None
        return _account(user)


def list_users(engine: Engine) -> list[dict]:
    with Session(engine) as session:
        users = session.scalars(select(User).order_by(User.email)).all()
        return [{"id": u.id, "email": u.email, "role": u.role, "active": bool(u.active),
                 "created_at": u.created_at, "last_login_at": u.last_login_at} for u in users]


def user_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, email: str) -> str:
    """A new API token for the user; only its hash is stored, so it is shown once."""
    email = normalise_email(email)
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == email)).first()
        if user is None:
            raise AccountError(f"No user with email {email}.")
        token = secrets.token_urlsafe(32)
        session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=utcnow(), revoked=False))
        session.commit()
        return token


def list_tokens(engine: Engine) -> list[dict]:
    """Every API token (never the token: it is not stored), with its owner, newest first."""
    with Session(engine) as session:
        rows = session.execute(select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
                               .order_by(ApiToken.id.desc())).all()
        return [{"id": t.id, "email": email, "created_at": t.created_at, "last_used_at": t.last_used_at,
                 "revoked": bool(t.revoked)} for t, email in rows]


def revoke_token(engine: Engine, token_id: int) -> str:
    """Revoke token `token_id`; returns its owner's email. AccountError when unknown or already revoked."""
    with Session(engine) as session:
        row = session.execute(select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
                              .where(ApiToken.id == token_id)).first()
        if row is None or row[0].revoked:
            raise AccountError(f"No active token {token_id}.")
        row[0].revoked = True
        session.commit()
        return row[1]


def account_for_token(engine: Engine, token: str) -> Account | None:
    if not token:
        return None
    with Session(engine) as session:
        row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False), User.active.is_(True))).first()
        if row is None:
            return None
        api_token, user = row
        api_token.last_used_at = utcnow()
        session.commit()
        return _account(user)
