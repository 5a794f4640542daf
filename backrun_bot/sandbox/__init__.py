"""Backrun."""
