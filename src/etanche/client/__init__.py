"""The client of the service: how the CLI reaches the one process that holds keys.

Light on purpose (standard library, ``etanche.errors`` and ``etanche.settings``
only): every person command starts, sends one authenticated request over
loopback HTTP or a Unix socket, and prints the answer. It never reads a key,
a passphrase or the database.
"""

from etanche.client._session import forget_session, read_session, write_session
from etanche.client._transport import ServiceClient, connect

__all__ = ["ServiceClient", "connect", "forget_session", "read_session", "write_session"]
