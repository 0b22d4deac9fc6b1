"""Widgets and formatting shared by every page (layouts/ and callbacks/)."""
