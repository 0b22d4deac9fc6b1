"""WSGI entry for gunicorn: `gunicorn wsgi:server` (production settings come from the environment)."""
from app import create_app
from infra.logs import setup_logging
from config import get_settings

setup_logging(get_settings())
server = create_app().server
