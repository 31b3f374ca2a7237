"""Alerts: rendering a verdict, and the channels (Slack, email, console) that carry it."""
