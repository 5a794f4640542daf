"""Reminder scheduling: APScheduler jobs derived from the settings in the database."""
