"""Delivery channels: SMTP email and Standard Webhooks (in-app needs no channel)."""


class DeliveryError(Exception):
    """A send failed; the outbox retries it later. The message never carries content."""
