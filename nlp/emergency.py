"""Is a message a call for help *now*? A small rule-based detector of present danger, independent of routing.

An emergency alerts the command centre the moment the message arrives, so a false flag costs a duty officer's
attention and a missed one can cost a life. Matching emergency *words* (the former approach) fails both ways:
"被电" occurs in "宽带被电信垄断", "火灾" in "万一发生火灾", "浓烟" in a chimney complaint, while
"配电箱冒烟还有火花" or "桥塌了有车掉下去" contain no single tell-tale word. So the detector matches *situations*
(a danger pattern: what is happening to what) and then checks the clause for what turns it into routine work:

* a hypothetical, a risk or a rule (万一, 如果, 一旦, 会不会, 可能, 隐患, 预防, 禁止 ...): a hazard report;
* the past (去年, 以前, 曾经, 上次, 着过火, 身亡 ...): it happened, it is over;
* money (费, 价格, 涨价, 收费 ...): 煤气费涨价 is about a bill;
* a habit or a duration (经常, 每天, 一直, 好几天 ...): a standing nuisance, not an incident (except a gas smell,
  which is dangerous however long it has lasted);
* what followed an incident (推责, 调查, 赔偿, 投诉 ...) anywhere in the message: the incident is over;
* for smoke and smells, pollution anywhere in the message (烟囱, 排放, 污染, 油烟, 焚烧 ...): a factory's smoke
  is an environmental complaint, not a fire.

Patterns describe the situation, not a vocabulary list, so they carry over to phrasings not seen. The detector
returns a *kind* (a short code); texts for people live in ``bot/texts.py``. :data:`HOTLINES` tells which
emergency numbers fit a kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.segment import normalise

#: characters of a message the detector reads: a call for help leads with the danger, while a letter that mentions
#: a fire in its third paragraph recounts one (on govmsg, every flag raised beyond the first sentences was such)
LEAD_CHARS = 80

# Building blocks, plain alternations so that a reader can check each one.
_GAS = r"(?:煤气|燃气|天然气|液化气|沼气|瓦斯)"
_WIRING = (
    r"(?:电线|电缆|线路|配电箱|配电柜|配电房|电箱|电表箱|变压器|插座|插排|插线板|电闸|电路|电瓶|电池|充电器|充电桩|电表)"
)
_SPARK = r"(?:冒烟|起火|着火|冒火|打火|火花|冒火星|火星|烧起来|烧着|烧焦|爆炸|炸了)"
_WATER = r"(?:水里|水中|河里|河中|湖里|湖中|江里|海里|塘里|池塘|水塘|水池|泳池|井里|水井|水库|河道|水沟|粪池|化粪池)"
_FALL_IN = r"(?:掉|落|跌|摔|滑|栽|掉落|跌落)(?:进|入|到|下)?了?"
_STRUCTURE = (
    r"(?:楼|楼房|房子|房屋|墙|围墙|桥|大桥|天桥|塔吊|吊车|脚手架|棚|屋顶|楼板|阳台|广告牌|电线杆|隧道|山体|堤|河堤|"
    r"大坝|路基|挡土墙|工棚|厂房|门头|架子)"
)
_CHILD = r"(?:孩子|小孩|婴儿|宝宝|儿童|小朋友|娃)"
_PERSON = r"(?:有人|一个人|一名|老人|小孩|孩子|工人|行人|路人|司机|人)"
_CHEMICAL = r"(?:化学品|危化品|化工原料|氯气|氨气|液氨|硫化氢|毒气|有毒气体|硫酸|盐酸)"

#: (kind, danger pattern over a normalised clause, whether smoke/smell only (then pollution words defuse it),
#: trigger characters: every match of the pattern contains one, so a text with none of them is not searched)
_DANGER: tuple[tuple[str, re.Pattern[str], bool, str], ...] = (
    ("gas", re.compile(
        rf"{_GAS}(?:味|的味道|气味)|闻到{_GAS}|{_GAS}(?:管道?|罐|瓶|阀门?|表)?(?:泄漏|泄露|漏气|漏了|在漏|破裂|爆了|爆炸)|"
        rf"{_GAS}(?:罐|瓶)\w?(?:着火|起火)"), False, "气斯"),
    ("electric", re.compile(
        rf"{_WIRING}\w{{0,6}}{_SPARK}|电线\w{{0,4}}(?:掉|断|垂|耷拉)(?:下来|在地|到地)|{_PERSON}\w{{0,3}}触电|触电了|"
        r"被电(?:击|打|到|伤)|漏电\w{0,4}(?:电到|伤人|电人)"), False, "电烟火烧炸"),
    ("fire", re.compile(
        r"着火了|着火啦|起火了|失火了|在着火|正在着火|着大火|烧起来了|火烧起来|火很大|火势|大火|火灾了|"
        r"(?:家|楼|屋|房|店|车|仓库|楼道|厨房|山|林|棚)\w{0,4}(?:着火|起火|失火)|火苗|明火|火光"), False, "火烧"),
    ("fire", re.compile(r"冒烟|冒出浓烟|浓烟|满屋子?都?是?烟"), True, "烟"),
    ("water", re.compile(
        rf"{_FALL_IN}{_WATER}|{_PERSON}\w{{0,2}}落水|落水了|落水者|溺水|被(?:水|洪水|河水|大水|洪水)冲走|在{_WATER}(?:挣扎|呼救|喊救命)|快淹死|"
        r"被(?:水|洪水)(?:困住|围困)"), False, "水河湖江海塘池井淹"),
    ("collapse", re.compile(
        rf"{_STRUCTURE}\w{{0,3}}(?:塌了|倒塌|坍塌|垮塌|垮了|要倒了|快倒了|要塌了|快塌了|倒了|断了)|塌方了|山体滑坡|泥石流|"
        r"(?:车|人)\w{0,2}掉(?:下去|下来|进去)了?"), False, "塌垮倒断坡泥掉"),
    ("trapped", re.compile(
        r"被困(?!扰|惑)|困在\w{0,6}里|关在电梯|卡在电梯|电梯\w{0,4}(?:困|关|卡)(?:了|住了?|着)?人|电梯\w{0,2}困住|被压在|"
        r"有人被埋|压住了人|人被压"), False, "困梯压埋"),
    ("person", re.compile(
        rf"(?:要|想|准备)(?:跳楼|跳河|轻生|自杀)|{_PERSON}\w{{0,4}}(?:跳楼|跳河|轻生)|"
        rf"{_PERSON}\w{{0,4}}(?:晕倒|昏倒|昏迷|倒地不起|不省人事|没有呼吸|没呼吸|口吐白沫|抽搐|快不行了)|"
        r"大出血|血流不止|心脏骤停|喊救命|救命啊|快救人"), False, "跳轻杀晕昏倒省吸沫搐行血骤救"),
    ("violence", re.compile(
        r"持刀|拿刀|拿着刀|提刀|砍人|捅人|砍伤|捅伤|行凶|杀人了|打起来了|正在打架|在打架|群殴|(?:正在|在)(?:打人|殴打|抢劫)|"
        r"抢劫了|被绑架|劫持|拿枪|开枪"), False, "刀砍捅凶杀打殴抢绑劫枪"),
    ("child_in_car", re.compile(rf"{_CHILD}\w{{0,6}}(?:锁|关|困|反锁)在?\w{{0,2}}车(?:里|内|上)"), False, "车"),
    ("chemical", re.compile(
        rf"{_CHEMICAL}\w{{0,4}}(?:泄漏|泄露|外泄|漏了|着火|爆炸)|(?:罐车|槽罐车|危化品车)\w{{0,6}}(?:泄漏|泄露|侧翻)"), False, "泄漏火炸翻"),
    ("chemical", re.compile(
        r"(?:闻到|一股)\w{0,6}(?:刺鼻|有毒)\w{0,6}(?:头晕|晕倒|呕吐|喘不过气|睁不开眼)"), True, "鼻毒"),
)

_TRIGGERED = tuple((kind, pattern, smoke, frozenset(triggers)) for kind, pattern, smoke, triggers in _DANGER)
#: every trigger character: a text with none of them (most messages) is done after one set test
_ANY_TRIGGER = frozenset().union(*(triggers for *_, triggers in _TRIGGERED))

#: which emergency numbers fit a kind (119 fire and rescue, 110 police, 120 ambulance)
HOTLINES: dict[str, tuple[str, ...]] = {
    "gas": ("119",),
    "electric": ("119", "120"),
    "fire": ("119",),
    "water": ("110", "119"),
    "collapse": ("119", "120"),
    "trapped": ("119",),
    "person": ("120", "110"),
    "violence": ("110",),
    "child_in_car": ("110", "119"),
    "chemical": ("119", "120"),
}
KINDS = tuple(HOTLINES)

# A danger pattern in a clause with one of these is a risk, a wish, a rule or a question, not an incident.
_HYPOTHETICAL = re.compile(
    r"万一|如果|假如|假若|假设|要是|一旦|倘若|若是|会不会|是否|是不是|会否|能否|可能|恐怕|担心|害怕|隐患|风险|预防|防范|"
    r"防止|防溺|以防|以免|避免|演练|宣传|培训|教育|排查|检查|整改|预案|容易|极易|随时|迟早|早晚|差点|险些|差一点|禁止|严禁|"
    r"不准|不得|谁负责|安全吗|标准|规定|视频|新闻|报道|电影|游戏|模拟"
)
# ... or it happened before and is over.
_PAST = re.compile(
    r"去年|前年|以前|曾经|上次|上回|上个月|上周|当年|那年|那次|多年前|年前|月前|之前|过去|历史上|前几年|前些年|"
    r"[着起失塌倒发]过|事故后|事后|死亡|身亡|遇难|丧生|淹死了|烧死|去世|后来"
)
# ... or it is about money.
_MONEY = re.compile(r"费|价格|价钱|涨价|降价|收费|缴费|交费|账单|多少钱|退款|补偿|赔偿|报销")
# ... or it is a habit or has lasted for days (not applied to a gas smell: dangerous however long it lasts).
_STANDING = re.compile(
    r"经常|总是|天天|每天|整天|常常|时常|时有|屡次|屡屡|多次|频发|频繁|不断|反复|老是|动不动|长期|一直|好几天|几天了|多天|多年|"
    r"几个月|常年|每到|每逢|一到|至今|很久|年久"
)
# Smoke or a smell in a message that speaks of pollution is an environmental complaint.
_POLLUTION = re.compile(
    r"烟囱|排放|污染|油烟|废气|排污|焚烧|秸秆|烧垃圾|烧树叶|烧轮胎|黑烟|熏|扰民|环保|臭味|异味|气味|厂|企业|烧烤"
)
# A message about what followed an incident (blame, investigation, compensation) recounts it: it is over.
_AFTERMATH = re.compile(r"推责|推诿|扯皮|追责|问责|维权|索赔|赔偿|调查|处理结果|事故原因|责任人|谁来负责|谁负责|投诉|事故频发")
# Clause boundaries: a guard applies to its own clause only.
_CLAUSES = re.compile(r"[。！？!?；;，,、\n\r\t]+|\s{2,}")


@dataclass(frozen=True)
class Emergency:
    """A present danger found in a message: its kind (a key of :data:`HOTLINES`) and the words that showed it."""

    kind: str
    evidence: str


def detect(text: str) -> Emergency | None:
    """The first present danger in the first :data:`LEAD_CHARS` characters of a message, or None.

    ``text`` may be raw (it is normalised here). Give it the message itself (for a letter: its title), not a
    long detail: see :data:`LEAD_CHARS`.
    """
    return detect_normalised(normalise(text))


def detect_normalised(text: str) -> Emergency | None:
    """:func:`detect` for a text already normalised (:func:`nlp.segment.normalise`): the classifier's path."""
    text = text[:LEAD_CHARS]
    chars = set(text)
    if chars.isdisjoint(_ANY_TRIGGER):
        return None
    # The usual case, cheaply: no danger pattern matches (each is searched only when one of its trigger
    # characters occurs). The guards below only ever clear a match, so they run after one.
    dangers = [
        (kind, pattern, smoke)
        for kind, pattern, smoke, triggers in _TRIGGERED
        if not triggers.isdisjoint(chars) and pattern.search(text)
    ]
    if not dangers or _AFTERMATH.search(text):
        return None
    pollution = _POLLUTION.search(text) is not None
    for clause in _CLAUSES.split(text):
        if not clause or _HYPOTHETICAL.search(clause) or _PAST.search(clause) or _MONEY.search(clause):
            continue
        standing = _STANDING.search(clause) is not None
        for kind, pattern, smoke_or_smell in dangers:
            match = pattern.search(clause)
            if match is None or (smoke_or_smell and pollution) or (standing and kind != "gas"):
                continue
            return Emergency(kind, match.group(0))
    return None
