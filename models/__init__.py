"""SQLAlchemy tables: source replica, derived tables, users and operations."""
from models.base import Base, get_engine, session_scope  # noqa: F401
from models import derived, ops, source  # noqa: F401  (register every table on Base.metadata)
from models.source import SOURCE_TABLES  # noqa: F401
