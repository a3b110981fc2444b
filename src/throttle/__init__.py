"""Policies in front of every send: rate limits, quiet hours, dedup and opt-out, with their stores."""
