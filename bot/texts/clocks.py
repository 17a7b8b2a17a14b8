"""Clocks, the ladder (催办/督办/领导督办), 回访, returns, extensions."""

from __future__ import annotations

# -- clocks, ladder, callback, extensions (issue: clocks that never forget) -----------------------
STAGE = {"dispatch": "分派", "accept": "签收", "arrive": "到场报到", "resolve": "办结", "callback": "回访",
         "respond": "响应"}
DISPATCH_LADDER = {
    "remind": "【催办】待分派工单 {number} 请尽快分派（时限 {due}）：{text}",
    "escalate": "【督办】待分派工单 {number} 已超过分派时限（{due}）仍未分派：{text}",
    "escalate2": "【领导督办】工单 {number} 在指挥中心严重超时未分派（时限 {due}）：{text}",
}
LADDER_REMIND = "【催办】工单 {number}（{matter}）{stage}时限 {due} 即将到期，请抓紧办理。"
LADDER_REMIND_LATE = "【催办】工单 {number}（{matter}）{stage}时限 {due} 已过，已超时，请立即办理。"
LADDER_ESCALATE = "【督办】工单 {number}（{matter}）：【{dept}】已超过{stage}时限（{due}），请督促办理。"
LADDER_ESCALATE2 = "【领导督办】工单 {number}（{matter}）：【{dept}】{stage}严重超时（时限 {due}），请领导督办。"
CALLBACK_ASK = "【回访】工单 {number} 已办结。\n办理结果：{result}\n\n请问您反映的问题解决了吗？"
CALLBACK_ASK_AGAIN = "【回访提醒】工单 {number} 还在等您的评价：问题解决了吗？"
CALLBACK_SATISFACTION = "工单 {number}：您对办理结果满意吗？"
CALLBACK_THANKS = "感谢您的评价（{solved}，{satisfaction}）。"
CALLBACK_REOPENED = "感谢您的反馈（{solved}，{satisfaction}）。工单 {number} 已转回【{dept}】重新办理（重办），我们会继续跟进。"
CALLBACK_COMMENT = "如有补充意见，请回复本消息（可不填）。"
CALLBACK_COMMENT_SAVED = "您的意见已记录，谢谢！"
CALLBACK_CLOSED = "工单 {number} 因未收到评价已关闭（未评价）。如问题仍未解决，请重新反映。"
CALLBACK_ALREADY = "您已评价过这个工单，谢谢！"
BTN_SOLVED = "已解决"
BTN_UNSOLVED = "未解决"
SATISFACTION = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}
SOLVED = {True: "已解决", False: "未解决"}
N_COMMENT_TO_DEPARTMENT = "工单 {number} 群众补充意见：{comment}"
ASK_ARRIVAL = "{who}，请回复本消息发送现场位置完成报到（📎 → 位置）。"
ARRIVAL_NEEDS_LOCATION = "报到需要现场位置，请回复上面的提示消息发送位置（📎 → 位置）。"
DONE_ARRIVE = "已报到。"
DONE_ARRIVE_NEAR = "已报到（距反映地点约 {m} 米）。"
DONE_ARRIVE_FAR = "已报到。注意：报到位置距反映地点约 {m} 米，超出 {r} 米范围，已告知指挥中心核实。"
N_ARRIVED = "工单 {number}：【{dept}】工作人员已到达现场。"
CARD_ARRIVED = "已报到：{at}\n"
CARD_ARRIVED_DISTANCE = "报到位置距反映地点约 {m} 米{mark}\n"
ARRIVAL_INSIDE = "（在范围内）"
ARRIVAL_OUTSIDE = "（⚠ 超出 {r} 米范围）"
N_ARRIVAL_FAR = "⚠ 工单 {number}：【{dept}】报到位置距反映地点约 {m} 米，超出 {r} 米范围，请核实。"
LIMIT_ARRIVE = "到场 {due} 前"
ASK_EXTENSION = "{who}，请回复本消息填写新的办结期限和理由，例如：12-10 等待配件到货。"
EXTENSION_BAD = "请按“月-日 理由”填写，例如：12-10 等待配件到货。新期限须晚于当前期限（{due}），且不超过 {days} 天后。"
EXTENSION_PENDING = "该工单已有待审批的延期申请。"
DONE_EXTENSION = "延期申请已提交指挥中心审批。"
EXTENSION_CARD = "【延期申请 {number}】{matter}\n申请部门：{dept}\n现办结期限：{old}\n申请延至：{new}\n理由：{reason}"
BTN_APPROVE = "批准延期"
BTN_REFUSE = "不批准"
EXTENSION_DECIDED = "【延期申请 {number}】{decision}（{who}）"
EXTENSION_APPROVED = "已批准"
EXTENSION_REFUSED = "未批准"
EXTENSION_MOOT = "已失效（工单状态已变化）"
EXTENSION_OUTCOME = "审批结果：{decision}"
N_EXTENSION_APPROVED_DEPT = "工单 {number} 延期申请已批准，办结期限延至 {due}。"
N_EXTENSION_REFUSED_DEPT = "工单 {number} 延期申请未获批准，请按原期限 {due} 办结。"
N_EXTENSION_RESIDENT = "工单 {number}：经审批，办理期限延长至 {due}。原因：{reason}"
NO_EXTENSION = "没有待审批的延期申请。"
ASK_UPHOLD_NOTE = "{who}，请回复本消息填写维持原派单的意见（将转给【{dept}】）。"
RESOLVE_NEEDS_ARRIVAL = ("本事项须到场处置：请先点“报到”发送现场位置。"
                         "如确实无需到场（例如电话已解决），请回复本消息说明原因，记录在案后即可办结。")
WAIVE_REASON_EMPTY = "请填写未到场的原因。"
NO_ARRIVAL_NEEDED = "该工单无需说明未到场原因。"
DONE_WAIVED = "未到场原因已记录，现在可以点“办结”。"
ASK_WAIVER = "{who}，工单 {number} 须到场处置。已到场请点“报到”；确实无需到场请回复本消息说明原因（将记录在案）。"
