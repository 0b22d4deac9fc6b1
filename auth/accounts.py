"""Users and API tokens in the store. Passwords are hashed (werkzeug scrypt); tokens are stored as sha256."""
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

    # flask-login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _account(user: User) -> Account:
    return Account(id=user.id, email=user.email, role=user.role)


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
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"Password must be at least {MIN_PASSWORD} characters.")
    with engine.begin() as conn:
        done = conn.execute(update(User).where(User.email == normalise_email(email))
                            .values(password_hash=generate_password_hash(password))).rowcount
    if not done:
        raise AccountError(f"No user with email {email}.")


def authenticate(engine: Engine, email: str, password: str) -> Account | None:
    """The account when email and password match an active user, else None (same answer for both)."""
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == email, User.active.is_(True))).first()
        if user is None or not check_password_hash(user.password_hash, password or ""):
            return None
        user.last_login_at = utcnow()
        session.commit()
        return _account(user)


def load_account(engine: Engine, user_id: str) -> Account | None:
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    with Session(engine) as session:
        user = session.get(User, uid)
        return _account(user) if user is not None and user.active else None


def list_users(engine: Engine) -> list[dict]:
    with Session(engine) as session:
        users = session.scalars(select(User).order_by(User.email)).all()
        return [{"id": u.id, "email": u.email, "role": u.role, "active": u.active,
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
