"""Admin pages: data health and users."""
