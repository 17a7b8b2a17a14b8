"""/help and the command menus, per role (a department head is staff with its department's figures)."""

from __future__ import annotations

_TICKETS = "/t 工单号 查看工单进展\n/help 使用说明"
HELP = {
    "resident": (
        "直接用一句话告诉我您遇到的问题（可附照片、位置，也可以发语音），例如：\n"
        "“小区门口路灯坏了一个星期了”\n"
        "我会识别事项、派给负责的部门，并给您一个工单号，每个环节都会通知您。\n\n"
        "/my 查看我的工单\n" + _TICKETS
    ),
    "grid_worker": (
        "您是网格员。可以像居民一样直接发送问题（可附照片、位置）巡查上报，我会派给负责的部门。\n"
        "· 呼叫城管 人民路菜市场门口占道经营 —— 网格呼叫，部门须响应并到场报到（也可用 /call）\n"
        "· 代办 手机号 诉求 —— 替没有 Telegram 的群众上报\n\n"
        "/grid 本网格的未办结工单和呼叫\n/my 我上报的工单\n" + _TICKETS
    ),
    "staff": (
        "您是部门工作人员。工单卡片会发到本部门工作群：\n"
        "· 签收 —— 确认接单；退回 —— 不属于本部门职责时退回指挥中心（须填理由，签收前可退回）\n"
        "· 报到 —— 到场后发送现场位置；办结 —— 填写办理结果（可附处置后照片），群众会收到通知并回访\n"
        "· 申请延期 —— 填写新期限和理由，由指挥中心审批\n"
        "· 回复卡片 —— 写办理进展，确认“转告群众”后才会发给群众，也可“仅内部备注”\n\n" + _TICKETS
    ),
    "head": (
        "您是部门负责人。除部门工作人员的全部操作外，还可以查看本部门的清单和统计：\n"
        "/open 本部门未办结工单 · /overdue 本部门超时工单\n"
        "/stats [期间] 本部门指标 · /export [期间] 本部门工单明细（xlsx）\n\n" + _TICKETS
    ),
    "dispatcher": (
        "您是指挥中心调度员。待分派、被退回的工单和延期申请会发到指挥中心群：\n"
        "· 点系统建议的事项或“按类别选择事项”派单；被退回的工单可“维持原派单”（须填意见）\n"
        "· 回复待分派卡片 —— 向群众提问；🚫 无效工单 / 🔗 并单 —— 关闭无效诉求、合并重复诉求\n"
        "· 批准延期 / 不批准 —— 审批部门的延期申请；超时工单的督办也会发到指挥中心群\n"
        "/t 工单号 查看任一工单（可派单、改派、标记无效、并单）\n"
        "/open 未办结工单 · /overdue 超时工单（按部门、镇街）\n"
        "/stats [期间] [单位] 指标 · /rank [期间] 排名 · /export [期间] 导出 xlsx\n/help 使用说明"
    ),
    "admin": (
        "您是管理员，可以在私聊中：\n"
        "/invite group 部门代码 —— 生成把工作群绑定到部门的链接\n"
        "/invite staff 部门代码 · /invite head 部门代码 · /invite grid_worker 网格代码 · /invite dispatcher · "
        "/invite admin —— 邀请人员\n"
        "/departments 部门代码 · /grids 网格代码\n"
        "调度员的全部操作（/t /open /overdue /stats /rank /export）您也可以使用。\n\n/help 使用说明"
    ),
    "command_group": (
        "这是指挥中心群。待分派、被退回的工单、延期申请和督办会发到这里：点卡片上的事项派单，"
        "“维持原派单”须填意见，🚫 无效工单 / 🔗 并单 关闭无效、合并重复诉求，回复待分派卡片可向群众提问。\n"
        "/t 工单号 查看任一工单（可派单、改派、标记无效、并单）\n/open 未办结工单 · /overdue 超时工单\n"
        "/stats [期间] [单位] 指标 · /rank [期间] 排名 · /export [期间] 导出 xlsx\n"
        "每日 8:30 推送简报，每月 1 日推送月度排名。"
    ),
    "group": (
        "这是部门工作群。工单卡片会发到这里，请用卡片下方的按钮签收、退回、报到、办结或申请延期；"
        "回复卡片可写办理进展（确认后才转告群众）。/t 工单号 查看本部门的工单。"
    ),
}

_T = ("t", "查看工单：/t 工单号")
_COMMAND_CENTER = [_T, ("open", "未办结工单"), ("overdue", "超时工单"), ("stats", "统计指标"), ("rank", "排名"),
                   ("export", "导出 xlsx")]
COMMANDS = {
    "resident": [("my", "我的工单"), _T, ("help", "使用说明")],
    "grid_worker": [("call", "网格呼叫：/call 城管 事由"), ("grid", "本网格工单和呼叫"), ("my", "我上报的工单"), _T,
                    ("help", "使用说明")],
    "staff": [_T, ("help", "部门工作人员使用说明")],
    "head": [_T, ("open", "本部门未办结工单"), ("overdue", "本部门超时工单"), ("stats", "本部门指标"),
             ("export", "本部门工单明细"), ("help", "部门负责人使用说明")],
    "dispatcher": [*_COMMAND_CENTER, ("help", "调度员使用说明")],
    "admin": [*_COMMAND_CENTER, ("invite", "生成邀请链接"), ("departments", "部门代码"), ("grids", "网格代码"),
              ("help", "管理员使用说明")],
    "group": [_T, ("help", "工作群使用说明")],
}


def role_key(member) -> str:
    """Which help and menu a member gets: their role, or "head" for staff heading their department."""
    return "head" if member.role == "staff" and getattr(member, "head", False) else member.role
