"""Every user-visible string, in one place (this package), so wording can be reviewed and changed in one place:
people.py (residents, departments, the command center, admins), clocks.py (the ladder, 回访, extensions),
calls.py (网格呼叫), command.py (the command center's tools), help.py (/help and menus per role), stats.py
(indicators, periods, rankings), reports.py (/stats /rank /export and the scheduled reports). Plain text (no
parse_mode): user text is never interpreted as markup, so nothing needs escaping.
"""

from bot.texts.calls import *  # noqa: F403
from bot.texts.clocks import *  # noqa: F403
from bot.texts.command import *  # noqa: F403
from bot.texts.help import *  # noqa: F403
from bot.texts.help import role_key  # noqa: F401
from bot.texts.people import *  # noqa: F403
from bot.texts.people import hotlines, local  # noqa: F401  (functions, named for readers)
from bot.texts.reports import *  # noqa: F403
from bot.texts.stats import *  # noqa: F403
