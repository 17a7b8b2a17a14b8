"""Reports for the command center: charts (PNG), workbooks (xlsx) and the schedule of pushed reports.

Nothing here knows Telegram; the handlers and the scheduled reports put these bytes into messages."""
