"""Bot API double: a local stand-in for Telegram's Bot API, for tests and the no-token sandbox.

``BotApiDouble`` serves the Bot API subset GridBot uses with Telegram's semantics and error
messages; point PTB at it with ``ApplicationBuilder().base_url(double.base_url)``.
"""

from bot.double.server import ApiError, BotApiDouble, DoubleError

__all__ = ["ApiError", "BotApiDouble", "DoubleError"]
