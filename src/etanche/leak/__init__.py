"""Leak scan, trace, severity, incidents and letters (DESIGN.md, leak room)."""
