"""The command center's tools: 无效工单, 并单, 改派, /open and /overdue lists, department heads' views."""

from __future__ import annotations

# 无效工单
INVALID_REASON_EMPTY = "请写明标记为无效工单的理由（会告知反映人）。"
ASK_INVALID_REASON = "{who}，请回复本消息写明工单 {number} 为无效工单的理由（会告知反映人）："
N_INVALID = "您的工单 {number} 经指挥中心核实为无效工单，已关闭。理由：{reason}\n如有误，请重新反映。"
DONE_INVALID = "工单 {number} 已标记为无效工单，已告知反映人。"

# 并单
ASK_MERGE_TARGET = "{who}，请回复本消息写出要把工单 {number} 并入的工单号（例如 20261126-0003）："
MERGE_TARGET_EMPTY = "请写出要并入的工单号。"
MERGE_TARGET_UNKNOWN = "没有找到工单 {number}，请核对工单号。"
MERGE_SELF = "不能把工单并入它自己。"
MERGE_TARGET_CLOSED = "工单 {number} 当前状态为“{state}”，只能并入未办结的工单。"
N_MERGED = "您反映的问题已有人反映过：工单 {number} 已并入工单 {into} 一并办理，进展会同步通知您（发送 /t {into} 查看）。"
N_MERGED_OWN = "您的工单 {number} 与您的工单 {into} 反映的是同一问题，已合并到 {into} 一并办理，进展会同步通知您（发送 /t {into} 查看）。"
DONE_MERGED = "工单 {number} 已并入 {into}，反映人已转为该工单的附议人。"

# 改派
ASK_REASSIGN_REASON = "{who}，请回复本消息写明把工单 {number} 改派给【{dept}】的理由（新部门会看到）："
REASSIGN_REASON_EMPTY = "请写明改派理由。"
NOTE_REASSIGNED = "改派原因"
N_REASSIGNED = "工单 {number} 已由指挥中心改派至【{lead}】办理。"
DONE_REASSIGN = "已改派。"
REASSIGN_PICK = "改派工单 {number}：请选择正确的事项（将派给该事项的主办部门）\n\n{text}"

# cards
DISPATCH_ENDED = {"invalidated": "🚫 已标记为无效工单：{note}", "merged": "🔗 已并入工单 {note}"}
CARD_ENDED = {"invalid": "本卡片已失效（工单已被指挥中心标记为无效工单）",
              "merged": "本卡片已失效（工单已并入其他工单办理）"}
BTN_INVALID = "🚫 无效工单"
BTN_MERGE = "🔗 并单"
BTN_REASSIGN = "↪ 改派"

# /t for the command center
T_ACTIONS = "调度操作："

# /open and /overdue
OPEN_USAGE = "用法：/open 查看未办结工单；/overdue 查看超时工单（按部门、镇街分组，可翻页）。"
LIST_SUMMARY = "{title}：共 {n} 件。请选择查看方式："
LIST_TITLE = {"o": "未办结工单", "v": "超时工单"}
LIST_BY = {"d": "按部门", "t": "按镇街", "a": "全部"}
LIST_UNITS = "{title}（{by}）：点击查看清单"
LIST_UNIT_BUTTON = "{name}（{n}）"
LIST_PAGE = "{title} · {unit}（第 {page}/{pages} 页，共 {n} 件）\n\n{lines}"
LIST_LINE = "{number} {state} · {matter} · {lead}{waiting}"
LIST_WAITING = "\n    待{stage}，时限 {due}{late}"
LIST_LATE = "（已超时）"
LIST_EMPTY = "{title}：没有。"
LIST_ALL = "全县"
LIST_NO_DEPARTMENT = "未派单"
BTN_PREV = "◀ 上一页"
BTN_NEXT = "下一页 ▶"
BTN_UNITS = "↩ 返回"
COMMAND_ONLY = "只有指挥中心调度员、管理员和部门负责人可以查看工单清单和统计。"
