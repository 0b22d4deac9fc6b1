"""What `python app.py` does before serving: schema, demo admin, the embedded scheduler, the banner."""
from __future__ import annotations

import secrets

from config import Settings, write_private
from models.schema import upgrade
from auth import accounts
from workers.embedded import EmbeddedScheduler


def demo_admin(settings: Settings) -> tuple[str, str] | None:
    """Create the demo admin when there is no user yet; its password is kept under var/ and printed at start."""
    engine = upgrade(settings.db_url)
    path = settings.var_dir / "demo-admin-password"
    email = settings.demo_admin_email
    if accounts.user_count(engine) == 0:
        password = settings.demo_admin_password or secrets.token_urlsafe(9)
        accounts.create_user(engine, email, "admin", password)
        write_private(path, password)
        return email, password
    if path.exists():
        return email, path.read_text().strip()
    return None


def prepare_embedded(settings: Settings) -> None:
    creds = demo_admin(settings)
    if settings.embedded and settings.embedded_scheduler:
        EmbeddedScheduler(settings).start()
    url = f"http://{settings.host}:{settings.port}/"
    print("\n" + "=" * 64)
    print(f"  Marketplace Ops is serving at {url}")
    if creds:
        print(f"  Sign in as {creds[0]} with password {creds[1]}")
        print(f"  (kept in {settings.var_dir / 'demo-admin-password'}; add users with manage.py create-user)")
    else:
        print("  Sign in with an account made by: python manage.py create-user --email E --role admin")
    print("=" * 64 + "\n", flush=True)
