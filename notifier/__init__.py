"""Moves messages: a durable outbox, scheduling, channels (SMS, email, console) and rendering.

Knows nothing of cuts or faults; the domain (`outages`) tells it what to send to whom, how
notices rank against each other, and reads the outbox only through `notifier.outbox`.
"""
