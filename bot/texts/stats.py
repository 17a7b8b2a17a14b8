"""The command center's figures (bot/indicators): periods, indicator labels, rankings."""

from __future__ import annotations

# periods (/stats [period], /rank [period], /export [period])
PERIOD_TODAY = "今天（{date}）"
PERIOD_YESTERDAY = "昨天（{date}）"
PERIOD_WEEK = "本周（{start} 至 {last}）"
PERIOD_MONTH_TO_DATE = "本月（{start} 至 {last}）"
PERIOD_MONTH = "{year}年{month}月"
PERIOD_RANGE = "{start} 至 {last}"
PERIOD_DAY = "{date}"
PERIOD_BAD = ("看不懂时间段“{text}”。可以写：今天、昨天、本周、本月、上月、2026-11（某月）、2026-11-05（某天）"
              "或 2026-11-01..2026-11-15（起止日期）。")
PERIOD_BACKWARDS = "时间段“{text}”的结束日期早于开始日期，请检查。"
PERIOD_TOO_LONG = "时间段“{text}”太长了（最长 {days} 天），请缩短。"

# units
UNIT_COUNTY = "全县"
UNIT_KIND = {"county": "全县", "department": "部门", "township": "镇街", "grid": "网格"}
PEER_GROUP = {"county": "县直部门", "utility": "公用事业单位", "township": "镇街"}

# indicators: (label, value) rows for captions and sheets; a rate without a denominator shows NO_VALUE
NO_VALUE = "—"
RATE = "{value:.1f}%"
MINUTES = "{value:.0f} 分钟"
SCORE = "{value:.1f}"
IND_RECEIVED = "受理量"
IND_DISPATCHED = "派单量"
IND_ACCEPT_RATE = "及时签收率"
IND_RESOLVE_RATE = "按时办结率"
IND_CLOSE_RATE = "结案率"
IND_DUE = "应办结量"
IND_RESOLVED = "办结量"
IND_ARRIVE_RATE = "按时到场率"
IND_RESPONSE = "响应时长（中位/90%）"
IND_ARRIVAL = "到场时长（中位/90%）"
IND_CALLBACK_RATE = "回访率"
IND_SOLVE_RATE = "解决率"
IND_SATISFY_RATE = "满意率"
IND_UNRATED = "未评价"
IND_RETURN_RATE = "退单率"
IND_RETURNS = "退单（维持原派/改派他处）"
IND_REOPEN_RATE = "重办率"
IND_EXTEND_RATE = "延期率"
IND_ESCALATED = "督办（督办/领导督办）"
IND_INVALID = "无效工单"
IND_MERGED = "并单"
IND_SCORE = "综合得分"
PAIR = "{a} / {b}"
RETURNS = "{total}（{upheld}/{rerouted}）"

# calls (网格呼叫)
IND_CALLS = "呼叫量"
IND_CALLS_CANCELLED = "已撤回呼叫"
IND_CALL_RESPOND_RATE = "按时响应率"
IND_CALL_ARRIVE_RATE = "按时到场率"
IND_CALL_RESPONSE = "响应时长（中位/90%）"
IND_CALL_ARRIVAL = "到场时长（中位/90%）"
IND_CALL_RATED = "已评价呼叫"
IND_CALL_RATING = "一哨一考核得分"

# the composite score's weights (GRIDBOT_SCORE_WEIGHTS): key → the indicator it stands for
SCORE_KEYS = {"响应": IND_ACCEPT_RATE, "签收": IND_ACCEPT_RATE, "办结": IND_RESOLVE_RATE, "结案": IND_CLOSE_RATE,
              "到场": IND_ARRIVE_RATE, "回访": IND_CALLBACK_RATE, "解决": IND_SOLVE_RATE, "满意": IND_SATISFY_RATE}
