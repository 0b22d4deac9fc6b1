"""Admin pages' callbacks: data health and users."""
