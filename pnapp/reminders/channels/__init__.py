"""Channels: the small transports a delivery goes out through, one module each.

A channel's `send` delivers one message to one address and returns, or raises
TransportError saying whether trying again can help. It keeps no state between messages and
writes nothing: retries, leases and the bookkeeping of deliveries and addresses belong to
the delivery loop (pnapp/reminders/delivery.py), the same for every channel.
"""

from __future__ import annotations


class TransportError(Exception):
    """A message that did not arrive.

    permanent: sending the same message again cannot help (our configuration or our bug).
    gone: the address itself is dead (the device unsubscribed); retire it. Implies permanent.
    Otherwise retry later, no sooner than retry_after seconds when the service said so.
    """

    def __init__(
        self,
        detail: str,
        *,
        permanent: bool,
        gone: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent or gone
        self.gone = gone
        self.retry_after = retry_after
        self.status = status
