"""网格呼叫、部门报到: calls, their cards, the caller's questions, the ladder of a late call."""

from __future__ import annotations

# -- 网格呼叫、部门报到 (calls) --------------------------------------------------------------------------
CALL_STATE = {
    "called": "已呼叫（待响应）", "responded": "已响应（赶赴现场）", "arrived": "已报到（现场处置中）",
    "disputed": "报到有异议（待指挥中心核定）", "resolved": "已办结（待网格员确认）", "closed": "已完成",
    "cancelled": "已撤回",
}
URGENCY = {"urgent": "🚨紧急", "normal": "一般"}
CALL_BUTTON = {"respond": "响应", "arrive_call": "报到", "resolve_call": "办结"}
CALL_CARD = (
    "📣【呼叫 {number}】{urgency} · {state}\n"
    "被呼叫部门：{dept}\n"
    "{matter}"
    "网格：{grid}（网格员 {caller}）\n"
    "现场：{place}\n"
    "情况：{text}"
)
CALL_PLACE = "{lat:.5f}, {lon:.5f}（位置见上方）"
CALL_NO_PLACE = "未附位置，请与网格员联系"
CALL_RESPONDER = "响应：{who}（{at}）"
CALL_ARRIVED = "报到：{at}，{where}"
ARRIVAL_DISTANCE = "距呼叫地点约 {m} 米{ok}"
WITHIN = {True: "（在范围内）", False: "（超出范围）"}
ARRIVAL_PHOTO = "以现场照片报到"
ARRIVAL_NO_DISTANCE = "呼叫未附位置，未核对距离"
CALL_LIMITS = "时限：{limits}"
CALL_LIMIT_RESPOND = "响应 {due} 前{late}"
CALL_LIMIT_ARRIVE = "到场 {due} 前{late}"
CALL_ARRIVED_LATE = "到场已超时"
LATE = "（已超时）"
CALL_WAITING_RESPONSE = "待响应（{due} 前）"
CALL_WAITING_ARRIVAL = "待到场（{due} 前）"
CALL_SENT_INLINE = "📣 呼叫已发出：{number}\n情况：{text}"
CALL_SENT = "📣 呼叫已发出：{number}\n已通知【{dept}】，要求 {due} 前到场报到。部门响应、报到和办结都会告诉您。"
CALL_ONLY_GRID_WORKERS = ("网格呼叫只供网格员使用。\n如需反映问题，请直接发一句话描述，例如：“小区门口路灯坏了”，"
                          "我们会派给负责的部门。")
CALL_NOT_CALLER = "只有发起这次呼叫的网格员可以这样操作。"
CALL_EMPTY = "请写明要呼叫的事情，例如：“呼叫城管 人民路菜市场门口占道经营”。"
CALL_USAGE = ("网格呼叫的写法：呼叫 + 部门（可不写）+ 情况，例如：\n"
              "“呼叫城管 人民路菜市场门口占道经营”\n“呼叫 河道里有人倾倒建筑垃圾”（由系统判断部门）\n"
              "可先发现场照片或位置，再发呼叫。")
CALL_UNKNOWN_DEPARTMENT = "没有找到“{name}”。您是不是要呼叫："
CALL_NO_CHAT = "【{dept}】尚未绑定工作群，暂时无法呼叫。请改为反映问题（直接发一句话），由指挥中心分派。"
CALL_NOT_FOUND = "没有找到这次呼叫。"
CALL_CONFIRM = (
    "📣 将发出网格呼叫：\n"
    "被呼叫部门：{dept}\n"
    "{cooperate}"
    "{matter}"
    "紧急程度：{urgency}（{limit}）\n"
    "网格：{grid}\n"
    "{evidence}"
    "情况：{text}\n\n"
    "确认请点“发送呼叫”。"
)
CALL_CONFIRM_COOP = "协办：{names}（可另行呼叫）\n"
CALL_CONFIRM_EVIDENCE = "附：{what}\n"
CALL_PICK_DEPARTMENT = "情况：{text}\n\n请选择要呼叫的部门："
CALL_LIMIT_URGENT = "{respond} 内响应、{arrive} 内到场"
BTN_SEND_CALL = "📣 发送呼叫"
BTN_URGENT = "🚨 改为紧急"
BTN_NORMAL = "改为一般"
BTN_OTHER_DEPARTMENT = "换部门"
BTN_CONFIRM_ARRIVAL = "✅ 确认到场"
BTN_DISPUTE = "❗ 有异议"
BTN_CONFIRM_DONE = "✅ 确认办结"
BTN_NOT_DONE = "↩ 还没办完"
BTN_UPHOLD_ARRIVAL = "认可报到"
BTN_REJECT_ARRIVAL = "要求重新报到"
ASK_RESPONDER = "{who}，请回复本消息：谁去现场、预计几点到？例如：“张三、李四，15分钟后到”。"
ASK_CALL_ARRIVAL = "{who}，请回复本消息发送现场位置完成报到（📎 → 位置）；无法发送位置时，可回复现场照片。"
ASK_CALL_RESULT = "{who}，请回复本消息填写呼叫 {number} 的处置结果。"
ASK_DISPUTE = "请回复本消息说明异议（例如：现场没有看到人）。将转指挥中心核定。"
ASK_NOT_DONE = "请回复本消息说明还有什么没办完。部门会继续处置（事不完、人不走）。"
CALL_RESPONDER_EMPTY = "请写明谁去现场、预计几点到。"
DISPUTE_EMPTY = "请说明异议的理由。"
NOT_DONE_EMPTY = "请说明还有什么没办完。"
DONE_RESPOND = "已响应，网格员已收到。"
DONE_CALL_ARRIVE = "已报到。"
DONE_CALL_RESOLVE = "已办结，等待网格员确认。"
DONE_DISPUTE = "异议已转指挥中心。"
DONE_NOT_DONE = "已转告部门继续处置。"
DONE_CONFIRMED = "已确认。"
CONFIRMED_MARK = {"confirm_arrival": "✅ 您已确认到场。", "confirm_done": "✅ 您已确认办结。"}
DONE_CALL_NOTE = "已转告网格员。"
N_CALL_RESPONDED = "📣 呼叫 {number}：【{dept}】已响应——{who}"
N_CALL_ARRIVED = "📣 呼叫 {number}：【{dept}】已报到。{where}\n请确认是否已到场。"
N_CALL_NOTE = "📣 呼叫 {number} 处置进展（{dept}）：\n{text}"
N_CALL_RESOLVED = "📣 呼叫 {number}：【{dept}】已办结。\n处置结果：{result}\n请确认。"
N_CALL_ARRIVAL_CONFIRMED = "呼叫 {number}：网格员已确认到场。"
N_CALL_DISPUTED = "呼叫 {number}：网格员对报到有异议（{reason}），已转指挥中心核定。"
N_DISPUTE_UPHELD = "呼叫 {number}：指挥中心认可【{dept}】的报到。"
N_DISPUTE_REJECTED = "呼叫 {number}：指挥中心要求【{dept}】重新到场报到，时限 {due}。"
N_CALL_CLOSED = "呼叫 {number}：网格员已确认办结。"
N_CALL_NOT_DONE = "呼叫 {number}：网格员反映还没办完——{reason}。请继续处置（事不完、人不走）。"
N_CALL_CANCELLED = "呼叫 {number}：网格员已撤回。"
DISPUTE_CARD = (
    "【报到异议】呼叫 {number}\n"
    "被呼叫部门：{dept}\n"
    "网格：{grid}（网格员 {caller}）\n"
    "{arrival}\n"
    "网格员异议：{reason}"
)
DISPUTE_DONE = "（已核定）"
DISPUTE_DONE_UPHELD = "（已核定：认可报到）"
DISPUTE_DONE_REJECTED = "（已核定：要求重新到场报到）"
CALL_LADDER = {
    "remind": "【催办】呼叫 {number}：请【{dept}】抓紧{stage}（时限 {due}）。情况：{text}",
    "escalate": "【督办】呼叫 {number}：【{dept}】超过{stage}时限（{due}）仍未{stage}。情况：{text}",
    "escalate2": "【领导督办】呼叫 {number}：【{dept}】{stage}严重超时（时限 {due}）。情况：{text}",
}
RATE_ASPECTS = ("响应速度", "到场情况", "处置结果")
CALL_RATE_ASK = "呼叫 {number} 已完成。请为部门的{aspect}打分（一哨一考核）："
CALL_RATED = "评价已记录：响应速度 {speed}，到场 {arrival}，处置结果 {outcome}。谢谢！"
WAITING = "待{what}（{due} 前）"
OVERDUE_MARK = " ⏰已超时"
GRID_HEAD = "📋 {grid}：未办结的工单 {tickets} 件、呼叫 {calls} 件"
GRID_TICKET = "工单 {number}｜{state}｜{matter}｜{clock}"
GRID_CALL = "呼叫 {number}｜{dept}｜{clock}"
GRID_EMPTY = "目前没有未办结的工单和呼叫。"
GRID_ONLY = "/grid 只供网格员查看本网格的工单和呼叫。"
GRID_NONE = "您还没有绑定网格，请联系管理员。"
PROXY_ASK_PHONE = "代办需要居民的手机号（只在系统内留存，不会出现在部门卡片上）。请按“代办 手机号 诉求”重新发送，例如：\n代办 13912345678 东关路口的路灯坏了"
PROXY_BAD_PHONE = "手机号“{phone}”不对，请核对后重新发送。"
PROXY_ONLY = "代办只供网格员使用。"
PROXY_UNDERSTOOD = "（代居民 {who} 反映）\n"
N_PROXY_FILED = "网格员 {grid_worker} 已代您反映的问题已受理，工单号：{number}\n诉求：{excerpt}\n可发送 /t {number} 查看进展。"
LOCATION_NOTHING_WAITING = "位置已收到，会附在您下一条诉求里。请用一句话描述问题。"
