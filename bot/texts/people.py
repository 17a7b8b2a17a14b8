"""What residents, departments, the command center and admins read: states, buttons, drafts, notices,
cards, errors, help and command menus."""

from __future__ import annotations

from datetime import datetime

from bot.calendar import TZ  # the county's time zone: one definition

BOT_NAME = "网格通"

STATE = {
    "received": "受理（待分派）",
    "dispatched": "已派单",
    "accepted": "已签收",
    "returned": "已退回（待重新分派）",
    "resolved": "已办结（待回访）",
    "reopened": "重办",
    "rated": "已评价",
    "closed": "已关闭（未评价）",
    "invalid": "无效工单（已关闭）",
    "merged": "已并单",
}

ROLE = {
    "resident": "居民",
    "grid_worker": "网格员",
    "staff": "部门工作人员",
    "head": "部门负责人",
    "dispatcher": "调度员",
    "admin": "管理员",
}

EVENT = {
    "submitted": "受理",
    "dispatched": "派单",
    "accepted": "签收",
    "cooperate_accepted": "协办签收",
    "returned": "退回",
    "upheld": "维持原派单",
    "rerouted": "重新派单",
    "note": "进展",
    "resolved": "办结",
    "co_reporter": "附议",
    "emergency": "紧急预警",
    "arrived": "到场报到",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_refused": "不批准延期",
    "reminded": "催办",
    "escalated": "督办",
    "escalated2": "领导督办",
    "callback_asked": "回访",
    "callback_reminded": "回访提醒",
    "rated": "评价",
    "reopened": "重办",
    "comment": "群众意见",
    "closed": "关闭（未评价）",
    "internal_note": "内部备注",
    "arrival_waived": "未到场说明",
    "asked_reporter": "调度员询问",
    "reporter_answered": "群众答复",
    "invalidated": "无效工单",
    "merged": "并单",
    "absorbed": "并入其他工单",
    "reassigned": "改派",
}

# -- buttons ------------------------------------------------------------------------------------
BTN_SUBMIT = "✅ 提交"
BTN_OTHER = "🔄 换一类"
BTN_CANCEL = "✖ 取消"
BTN_HUMAN = "🙋 交给人工分派"
BTN_UPHOLD = "维持原派单"
BTN_BROWSE = "📂 按类别选择事项"
BTN_BACK = "↩ 返回类别"
BTN_JOIN = "➕ 加入该工单"
BTN_NEW = "🆕 仍然新建"

# -- resident -----------------------------------------------------------------------------------
START = f"您好，这里是{BOT_NAME}——县乡“属地管理”一端受理平台。"
UNDERSTOOD = (
    "我理解您反映的是：\n"
    "事项：{matter}\n"
    "主办部门：{lead}\n"
    "{cooperate}"
    "{grid}"
    "\n您的描述：{text}\n\n"
    "确认无误请点“提交”。"
)
# instead of the last line above when open tickets of the same matter and grid exist (附议 instead of a duplicate)
DUPLICATE_NOTE = ("附近已有同类工单正在办理：{numbers}。\n是同一件事请点“加入该工单”，一起跟进办理进度；"
                  "不是同一件事请点“仍然新建”。")
UNDERSTOOD_COOP = "协办：{names}\n"
NOT_SURE = (
    "{grid}"
    "您的描述：{text}\n\n"
    "我还不能确定这属于哪一类事项。您可以点“换一类”自己选择，或直接提交，由指挥中心调度员人工分派。"
)
CHOOSE_OTHER = "请选择最接近的事项："
DRAFT_CANCELLED = "已取消，没有提交任何内容。"
DRAFT_GONE = "这条诉求已处理过或已过期，请重新发送您的问题。"
SUBMITTED = ("已提交。工单号：{number}\n诉求：{excerpt}\n当前状态：{state}\n\n"
             "我们会在每个环节通知您，也可以随时发送 /t {number} 查看进展。")
SUBMITTED_TO_HUMAN = "已提交。工单号：{number}\n诉求：{excerpt}\n将由指挥中心调度员人工分派，请留意后续通知。"
EXCERPT = 40  # characters of the request shown back with its ticket number
EMERGENCY = "⚠️ 您反映的情况（{what}）可能危及人身安全！\n请立即拨打：{hotlines}。\n{tip}\n我们已同时通知指挥中心。{where}"
EMERGENCY_NO_CENTER = "⚠️ 您反映的情况（{what}）可能危及人身安全！\n请立即拨打：{hotlines}。\n{tip}{where}"
EMERGENCY_ASK_WHERE = "\n请发送现场位置（📎 → 位置）或写明详细地址，再点“提交”，以便尽快到场。"
EMERGENCY_TIP = {  # what to do until help arrives, per kind of danger (nlp.emergency's kinds)
    "gas": "请勿开关电灯电器、勿用明火，立即开窗通风，能安全操作时关闭燃气阀门，人员撤到室外后再打电话。",
    "fire": "请立即撤离到安全地带，不要乘坐电梯；烟大时用湿毛巾捂住口鼻，低姿前进。",
    "electric": "请远离冒烟的电器和电线，不要用手或湿物触碰；能安全操作时先拉下电闸。",
    "water": "请不要贸然下水施救，可抛投救生圈、绳索、木板等漂浮物。",
    "collapse": "请远离倒塌区域，不要进入危险建筑。",
    "chemical": "请远离气味来源，往上风方向撤离，用湿毛巾捂住口鼻。",
    "child_in_car": "请守在车旁；情况危急时可砸开离孩子最远的车窗施救。",
}
EMERGENCY_TIP_DEFAULT = "请先确保自身安全，远离危险。"
HOTLINE_NAMES = {"119": "消防救援 119", "120": "急救 120", "110": "报警 110"}
EMERGENCY_KIND = {  # nlp.emergency's kinds, as the command center reads them
    "gas": "燃气泄漏", "electric": "电线电器冒烟起火或触电", "fire": "火情", "water": "有人落水",
    "collapse": "倒塌坍塌", "trapped": "有人被困", "person": "人身危险", "violence": "暴力伤人",
    "child_in_car": "儿童被困车内", "chemical": "危化品泄漏", "danger": "紧急危险",
}
EMPTY_TEXT = "请用文字描述您遇到的问题，例如：“小区门口的路灯坏了”。"
TOO_SHORT = "描述太短了，请多写几个字，说明是什么问题、在哪里。"
NOT_UNDERSTOOD = "没看懂您的意思。请用一句话说明遇到了什么问题、在哪里，例如：“小区门口的路灯坏了”。"
GREETING_REPLY = "您好！需要反映问题，请直接用一句话描述遇到了什么问题、在哪里，例如：“小区门口的路灯坏了”。/my 查看我的工单。"
THANKS_REPLY = "不客气！还有需要反映的问题，请随时直接发送文字描述。"
TOO_LONG = "描述太长了（{length} 字），请精简到 {limit} 字以内后重新发送。"
EDITED_IGNORED = "修改过的消息不会更新已发送的诉求。如需更正，请直接发送一条新消息说明。"
UNSUPPORTED = "暂时只能处理文字、照片、语音和位置。请用一句话描述您遇到的问题。"
UNKNOWN_COMMAND = "没有这个命令。"
WHICH_QUESTION = "您有 {n} 个待回复的问题，请直接“回复”对应的提示消息作答，以免弄混工单。"
# a plain message in a private chat taken as the answer to the one open question: the way back if it was not
BTN_AS_REQUEST = "📝 作为新诉求"
ANSWER_TAKEN_PLAIN = "以上内容已作为您对刚才问题的回复。如果这其实是一条新的诉求，请点“作为新诉求”。"
AS_REQUEST_GONE = "这条消息已经按新诉求处理过了；如有其他诉求，请直接发送文字。"
AS_REQUEST_NOT_YOURS = "这是别人的消息，您没有权限操作。"
NOTE_NOT_YOURS = "只有写这条回复的人可以决定是否转告群众。"
PHOTO_SAVED = "照片已收到。请简单描述一下问题（一句话即可），照片会附在您的诉求里。"
VOICE_TEXT = "【语音 {seconds} 秒，待调度员听取】"
VIDEO_TEXT = "【视频 {seconds} 秒，待调度员查看】"
VOICE_RECEIVED = ("已收到您的语音，工单号：{number}\n指挥中心调度员会在 {due} 前听取并分派给负责的部门，"
                  "每个环节都会通知您。也可以用文字再补充说明。")
FILE_TOO_BIG = "文件太大（{mb} MB），请压缩到 {limit} MB 以内后重新发送，或改用文字和照片描述。"
DOCUMENT_REFUSED = "暂不接收文件。请用文字、照片或语音描述您遇到的问题。"
CONTACT_REPLY = "已收到联系人。办理诉求不需要您提供联系方式；如需反映问题，请直接用文字描述。"
STICKER_REPLY = "收到！如需反映问题，请用一句话描述，例如：“小区门口路灯坏了”。"
LOCATION_INVALID = "这个位置无效（手机可能还没有定位成功）。请稍后重新发送位置，或直接写明地点。"
LOCATION_OFF_MAP = "这个位置不在本县的网格范围内。请确认位置，或在描述里写明社区、小区或路名。"
PLACE_SET = "已记录位置，属于：{grid}。确认无误请点诉求下方的“提交”。"
RESULT_PHOTO_KEPT = "已收到处置后照片 {n} 张。请回复上面的办结提示消息，写明办理结果。"
GROUP_PHOTO_HINT = "如需作为办结的处置后照片：请先点工单卡片上的“办结”，再“回复”提示消息发送照片，并在照片说明里写办理结果。"
UNDERSTOOD_GRID = "地点：{grid}\n"
PLACE_ASK = "为了派给正确的社区，请问问题发生在哪里？可以发送位置（📎 → 位置），或选择所在社区："
PLACE_WHICH = "“{place}”有几处，请问是哪一个网格？"
PLACE_PICK_GRID = "{township}：请选择网格"
PLACE_CHOSEN = "已选择：{grid}。确认无误请点诉求下方的“提交”。"
BTN_TOWNSHIPS = "↩ 返回镇街"
BTN_MORE_GRIDS = "更多网格 ▶"
LOCATION_SAVED = "位置已收到（{lat:.5f}, {lon:.5f}），会附在您下一条诉求里。请用一句话描述问题。"
T_PHOTOS = "诉求照片（{n} 张）"
T_RESULT_PHOTOS = "处置后照片（{n} 张）"
NO_TICKETS = "您还没有提交过工单。直接发一句话描述问题即可。"
MY_TICKETS_HEAD = "您的工单（最近 {n} 件）："
MY_TICKET_LINE = "{number}｜{state}｜{matter}"
T_USAGE = "请发送 /t 加工单号，例如：/t 20261126-0007"
T_NOT_FOUND = "没有找到工单 {number}，或您无权查看。"
TICKET_VIEW = "工单 {number}\n状态：{state}\n事项：{matter}\n主办：{lead}\n诉求：{text}{result}\n\n办理记录：\n{history}"
TICKET_RESULT = "\n办理结果：{result}"
HISTORY_LINE = "{at} {kind}{who}{note}"
UNCLASSIFIED = "待分派"

# -- notices to the reporter --------------------------------------------------------------------
N_DISPATCHED = "工单 {number} 已派至【{lead}】办理。"
N_ACCEPTED = "工单 {number} 已由【{dept}】签收，正在办理。"
N_NOTE = "工单 {number} 办理进展（{dept}）：\n{text}"
N_RESOLVED = "工单 {number} 已办结（{dept}）。\n办理结果：{result}"

# -- department group ---------------------------------------------------------------------------
CARD = (
    "{urgent}【工单 {number}】{state}\n"
    "事项：{matter}\n"
    "主办：{lead}{cooperate}\n"
    "网格：{grid}\n"
    "诉求：{text}\n"
    "{extra}"
    "时限：{limits}"
)
CARD_COOP_LINE = "\n协办：{names}"
CARD_ROLE_COOP = "（本部门为协办单位）\n"
CARD_PHOTOS = "附照片 {n} 张（见上方）\n"
CARD_RECORDING = "附{what}（见上方），请收听后处置\n"
RECORDING = {"voice": "语音", "video": "视频"}
VENUE_ADDRESS = "工单 {number} 的诉求地点"
GRID_SOURCE = {"location": "（按定位）", "near": "（按定位，在网格边界外附近）", "place": "（按地名）",
               "grid_worker": "（网格员上报）", "home": "（按登记住址）", "chosen": "（群众选择）"}
CARD_RESULT_PHOTOS = "处置后照片 {n} 张\n"
RESULT_PHOTO_REQUIRED = "本事项办结须附处置后照片：请回复上面的提示消息，发送现场照片并在照片说明里写办理结果。"
CARD_URGENT = "🚨【紧急】"
CARD_WITHDRAWN = "本卡片已失效（工单已改派或转入重办，请以最新卡片为准）"
CARD_NOTE = "{label}：{note}\n"
NOTE_FROM_DISPATCHER = "调度员意见"
NOTE_FROM_RESIDENT = "群众反馈"
RESIDENT_FEEDBACK = "【重办】群众回访：{solved}，{satisfaction}"
PREVIOUS_RESULT = "\n上次办理结果：{result}"
CARD_BUTTON = {"accept": "签收", "return": "退回", "arrive": "报到", "resolve": "办结", "extend": "申请延期"}
CARD_BUTTON_COOP = {"accept": "协办签收"}  # a cooperating department acknowledges its share (no clock of its own)
ALREADY_ACCEPTED = "工单 {number} 本部门已签收过了。"
CARD_LOCATION = "位置：{lat:.5f}, {lon:.5f}\n"
CARD_RESULT = "办理结果：{result}\n"
LIMIT_ACCEPT = "签收 {due} 前"
LIMIT_RESOLVE = "办结 {due} 前"
LIMIT_DONE = "已办结 {at}"
NO_GRID = "未指定"
TOWNSHIP_LABEL = "属地镇街"
ASK_RETURN_REASON = "{who}，请回复本消息填写退回工单 {number} 的理由（必填）。"
ASK_RESULT = "{who}，请回复本消息填写工单 {number} 的办理结果（可回复处置后照片，并在照片说明里写结果）。"
ASK_RESULT_WITH_PHOTO = "{who}，本事项办结须附处置后照片：请回复本消息发送照片，并在照片说明里写工单 {number} 的办理结果。"
RETURN_REASON_EMPTY = "退回理由不能为空，请回复上面的提示消息填写理由。"
RESULT_EMPTY = "办理结果不能为空，请回复上面的提示消息填写结果。"
RESULT_TOO_SHORT = "办理结果太简略了，群众会看到这段话：请写明怎么处理的，例如“已更换路灯灯泡，恢复照明”。请再回复上面的提示消息。"
DONE_ACCEPT = "已签收。"
DONE_RETURN = "已退回指挥中心，等待调度员决定。"
DONE_RESOLVE = "已办结，已通知群众。"
DONE_NOTE = "已转告群众。"
DONE_INTERNAL_NOTE = "已记为内部备注，不会发给群众。"
NOTE_CONFIRM = "要把这段话作为办理进展转告群众吗？\n“{text}”"
BTN_RELAY = "📨 转告群众"
BTN_INTERNAL = "📝 仅内部备注"
NOTE_GONE = "这条回复已处理过或已过期。"
NOT_YOUR_DEPARTMENT = "您不是本部门工作人员，不能操作此工单。"
GROUP_NOT_BOUND = "本群尚未绑定部门。请管理员发送邀请链接完成绑定。"

# -- command center ------------------------------------------------------------------------------
DISPATCH_CARD = (
    "{urgent}【待分派 {number}】\n"
    "诉求：{text}\n"
    "网格：{grid}\n"
    "{evidence}"
    "{reason}"
    "系统建议：{suggestion}\n"
    "{talk}"
)
DISPATCH_PROMPT = "请选择事项；回复本卡片可向群众提问。"
TALK_ASKED = "调度员询问：{text}\n"
TALK_ANSWERED = "群众答复：{text}\n"
DISPATCH_CLOSED = "（已处理）"
DISPATCH_UPHELD = "✅ 已维持原派单：仍由【{lead}】办理"
DISPATCH_REASON_LOW = "原因：识别把握不足\n"
DISPATCH_REASON_RECORDING = "原因：{what}诉求，需人工听取后分派\n"
DISPATCH_REASON_RETURN = "原因：【{dept}】退回——{reason}\n"
DISPATCH_REASON_NO_LEAD = "原因：主办部门【{dept}】尚未绑定工作群\n"
DISPATCH_DONE = "✅ 已分派：{matter} → 【{lead}】"
EMERGENCY_ALERT = "🚨 紧急预警：{what}（群众尚未提交工单）\n群众刚刚反映：{text}\n网格：{grid}\n已提示群众拨打{hotlines}，请立即核实处置。"
EMERGENCY_GRID_WORKER = ("🚨 您的网格（{grid}）有群众刚刚反映紧急情况：{what}\n“{text}”\n已提示群众拨打{hotlines}，"
                         "指挥中心已收到预警。请尽快联系核实，注意自身安全。")
EMERGENCY_FILED = "🚨 紧急预警续报：群众已提交工单 {number}，{where}\n诉求：{text}\n地点：{place}"
EMERGENCY_POINT = "定位 {latitude:.5f}, {longitude:.5f}（WGS-84）"
EMERGENCY_NO_POINT = "群众未发送定位，网格：{grid}，请电话联系群众核实地址"
EMERGENCY_WHERE_LEAD = "已派至主办部门。"
EMERGENCY_WHERE_CENTER = "正在等待调度员分派。"
DONE_DISPATCH = "已派单。"
DONE_UPHOLD = "已维持原派单，工单已退回原部门办理。"
N_UPHELD = "工单 {number}：经指挥中心核定，仍由【{lead}】负责办理，我们会继续跟进。"
QUESTION_TO_REPORTER = "指挥中心就工单 {number} 向您了解情况：\n{question}\n\n请直接回复本消息作答。"
DONE_ASKED = "问题已转给群众，回复会显示在卡片上。"
N_REPORTER_ANSWERED = "工单 {number} 群众答复：{text}"
DONE_ANSWERED = "您的答复已转给指挥中心，谢谢！"
BROWSE_CATEGORIES = "【待分派 {number}】\n诉求：{text}\n\n请选择类别："
BROWSE_MATTERS = "【待分派 {number}】\n诉求：{text}\n\n{category}——请选择事项："
NOT_DISPATCHER = "只有调度员可以分派工单。"

# -- admin ---------------------------------------------------------------------------------------
ADMIN_ONLY = "只有管理员可以使用这个命令。"
INVITE_USAGE = (
    "用法：\n"
    "/invite group 部门代码 —— 生成把工作群绑定到部门的链接\n"
    "/invite staff 部门代码 —— 生成部门工作人员邀请链接\n"
    "/invite head 部门代码 —— 生成部门负责人邀请链接（可看本部门统计和未办结清单）\n"
    "/invite grid_worker 网格代码 —— 生成网格员邀请链接\n"
    "/invite dispatcher —— 生成调度员邀请链接\n"
    "/invite admin —— 生成管理员邀请链接\n"
    "/departments 查看部门代码，/grids 查看网格代码"
)
INVITE_UNKNOWN_DEPARTMENT = "没有代码为 {code} 的部门。发送 /departments 查看。"
INVITE_UNKNOWN_GRID = "没有代码为 {code} 的网格。发送 /grids 查看。"
INVITE_LINK = "邀请链接（{what}，{hours} 小时内有效，可用 {uses} 次）：\n{link}"
INVITE_WHAT_GROUP = "把工作群绑定到【{dept}】：请把机器人拉进该群后，在群里打开此链接"
INVITE_WHAT_ROLE = "{role}{where}"
INVITE_INVALID = "邀请码无效或已过期，请向管理员重新索取。"
BOUND_GROUP = "本群已绑定为【{dept}】工作群。工单卡片将发到这里。"
BOUND_ROLE = "您已登记为：{role}{where}。"
DEPARTMENTS_LIST = "部门代码：\n{lines}"
GRIDS_LIST = "网格代码：\n{lines}"
NOTHING = "（无）"

# -- errors --------------------------------------------------------------------------------------
ERR_ILLEGAL = "工单 {number} 当前状态为“{state}”，不能{action}。"
ERR_NOT_FOUND = "没有找到这个工单。"
ERR_FORGED = "这个按钮已失效，请刷新后重试。"
ERR_NOT_ALLOWED = "您没有权限执行这个操作。"
OPS_ALERT = "⚙️ 网格通运行故障：{error}\n请求：{request}\n详情见日志。"
ALREADY_DONE = "这个操作已经完成了。"
ERR_INTERNAL = "抱歉，系统暂时出了点问题，请稍后再试。已经提交的诉求不会丢失，可发送 /my 查看。"
ACTION = {
    "dispatch": "派单",
    "accept": "签收",
    "return": "退回",
    "resolve": "办结",
    "note": "补充进展",
    "uphold": "维持原派单",
    "arrive": "报到",
    "extend": "申请延期",
    "decide_extension": "审批延期",
    "rate": "评价",
    "reopen": "重办",
    "close": "关闭",
    "join": "附议",
    "route": "派单",
    "accept_share": "协办签收",
    "waive_arrival": "说明未到场原因",
    "rate_late": "评价",
    "comment": "补充意见",
    "ask_reporter": "向群众提问",
    "answer_dispatcher": "答复",
    "respond": "响应",
    "arrive_call": "报到",
    "confirm_arrival": "确认到场",
    "dispute": "提出异议",
    "uphold_arrival": "认可报到",
    "reject_arrival": "要求重新报到",
    "call_note": "补充进展",
    "resolve_call": "办结",
    "confirm_done": "确认办结",
    "reject_done": "退回继续处置",
    "rate_call": "评价",
    "cancel_call": "撤回呼叫",
    "invalidate": "标记无效工单",
    "merge": "并单",
    "reassign": "改派",
}


def safety_tip(kind: str | None) -> str:
    """What to do until help arrives, for a kind of danger."""
    return EMERGENCY_TIP.get(kind or "", EMERGENCY_TIP_DEFAULT)


def hotlines(kind: str | None) -> str:
    """"消防救援 119、急救 120" for a kind of danger (all three when the kind is unknown)."""
    from nlp.emergency import HOTLINES

    return "、".join(HOTLINE_NAMES[n] for n in HOTLINES.get(kind or "", ("119", "120", "110")))


def local(dt: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """Display a UTC datetime in county local time."""
    return dt.astimezone(TZ).strftime(fmt) if dt else ""

# -- command menus, per role ---------------------------------------------------------------------

SANDBOX_GUEST = "新居民"
SUPERVISOR_CHAT = "{dept}·分管领导"

