"""The command center's figures in chat (bot/statistics.py, bot/export.py): /stats, /rank, /export, the daily
brief and the monthly ranking. Indicator labels and periods are in stats.py."""

from __future__ import annotations

STATS_REFUSED = "统计指标仅供指挥中心、调度员和部门负责人查看。"
RANK_REFUSED = "排名仅供指挥中心和调度员查看（每月排名会推送到指挥中心和领导群）。"
EXPORT_REFUSED = "导出仅供指挥中心、调度员和部门负责人使用。"
STATS_OWN_ONLY = "部门负责人只能查看本部门（{dept}）的指标。"
STATS_UNKNOWN_UNIT = "没有找到“{name}”。"
STATS_NEITHER = "没看懂“{text}”：它既不是时间段，也不是部门、镇街或网格的名称。"
STATS_USAGE = ("用法：/stats [期间] [单位]\n期间：今天、昨天、本周、本月、上月、2026-11 或 2026-11-01..2026-11-15\n"
               "单位：部门（如 城管、住建局）、镇街或网格的名称；不写则为全县。")
STATS_TITLE = "📊 {unit} · {period}"
STATS_NOTHING = "本期间暂无工单和呼叫。"
STATS_CALLS_LINE = "网格呼叫：{made} 次，按时响应率 {respond}，按时到场率 {arrive}，考核得分 {rating}"
STATS_CHART_TITLE = "{unit} 主要指标 · {period}"
CHART_UNAVAILABLE = "（服务器缺少中文字体，图表暂不可用，以下为文字版。）"
RANK_TITLE = "🏆 {group}排名 · {period}"
RANK_CHART_TITLE = "{group}综合得分排名 · {period}"  # drawn: no emoji (the CJK font has none)
RANK_LINE = "{n}. {unit}  {score:.1f} 分（{orders} 件）"
RANK_BELOW_MINIMUM = "不足 {minimum} 件或暂无可评指标、不参与排名：{units}"
RANK_NO_ORDERS = "本期无工单：{units}"
RANK_RED = "🔴 红榜：{entries}"
RANK_BLACK = "⚫ 黑榜：{entries}"
RANK_ENTRY = "{unit}（{indicator} {value}）"
RANK_EMPTY = "{group}：本期暂无达到排名条件的单位。"
RANK_NOTHING = "本期间还没有任何单位有工单，暂无排名。"
EXPORT_CAPTION = "{scope} · 工单明细与指标 · {period}（明细 {tickets} 件，含无效工单和并单）"
EXPORT_PRIVATE = "部门导出含工单明细，请在与机器人的私聊中发送 /export。"
EXPORT_FILENAME = "gridbot-{scope}-{start}.xlsx"
BRIEF_TITLE = "🗞 每日简报 · {period}"
BRIEF_OPEN = "截至目前：未办结 {open} 件，其中超时 {overdue} 件（/open /overdue 查看）。"
MONTHLY_TITLE = "🏆 月度排名 · {period}（明细：/export 上月）"

# the workbook (a department's copy carries no personal data: no reporter columns)
SHEET_TICKETS = "工单明细"
SHEET_UNITS = {"department": "部门指标", "township": "镇街指标", "grid": "网格指标"}
SHEET_CALLS = "网格呼叫"
SHEET_CALL_UNITS = "呼叫指标"
UNIT_COLUMN = "单位"
PERCENT_COLUMN = "{label}（%）"
TICKET_COLUMNS = ["工单号", "受理时间", "来源", "事项", "主办部门", "镇街", "网格", "状态", "派单时间", "签收时限", "签收时间",
                  "到场时限", "到场时间", "办结时限", "办结时间", "结案时间", "是否解决", "满意度", "重办次数", "诉求内容"]
REPORTER_COLUMNS = ["反映人", "联系电话"]
CALL_COLUMNS = ["呼叫号", "呼叫时间", "部门", "网格", "紧急程度", "状态", "响应时限", "响应时间", "到场时限", "报到时间",
                "报到距离（米）", "办结时间", "内容"]
TICKET_SOURCE = {"resident": "居民", "grid_worker": "网格员巡查", "proxy": "网格员代办"}
