"""Language detection and Chinese script conversion.

Replies go out in the customer's own script, so the decision is per message, not per account:
any Chinese character makes the message Chinese (mixed zh/en customers read Chinese); the script
is whichever of traditional or simplified has more characters that exist only in that script.
The author's platform language is only a tie-breaker.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

LANGUAGES = ("zh-Hans", "zh-Hant", "en")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_LATIN_LOWER = re.compile(r"[a-z]")

_t2s = opencc.OpenCC("t2s")
_s2t = opencc.OpenCC("s2twp")
_s2t_chars = opencc.OpenCC("s2t")  # character level only: tells which script a character belongs to


def to_simplified(text: str) -> str:
    """Traditional -> simplified (character and phrase level); other text passes through."""
    return _t2s.convert(text) if text else text


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """Simplified -> traditional with Taiwan phrasing (OpenCC s2twp). Cached: answers repeat."""
    return _s2t.convert(text) if text else text


@lru_cache(maxsize=65536)
def _script_of(char: str) -> int:
    """+1 traditional-only character, -1 simplified-only, 0 shared by both scripts."""
    if _t2s.convert(char) != char:
        return 1
    if _s2t_chars.convert(char) != char:
        return -1
    return 0


def normalise_hint(hint: str | None) -> str | None:
    """Map a platform locale ("zh-TW", "zh_CN", "en-US", "zh-hant") to one of LANGUAGES, or None."""
    if not hint:
        return None
    h = hint.strip().lower().replace("_", "-")
    if h.startswith("zh"):
        if any(tag in h for tag in ("hant", "tw", "hk", "mo")):
            return "zh-Hant"
        return "zh-Hans"
    if h.startswith("en"):
        return "en"
    return None


def detect_language(text: str, hint: str | None = None) -> str:
    """Return "zh-Hans", "zh-Hant" or "en" for a customer message.

    Chinese wins over English in mixed messages; text with neither (emoji, digits) takes the hint,
    else English.
    """
    norm_hint = normalise_hint(hint)
    text = unicodedata.normalize("NFKC", (text or "")[:4096])  # the first lines tell; a book costs time
    han = _HAN.findall(text)
    if not han:
        if _LATIN.search(text):
            return "en"
        return norm_hint or "en"
    balance = sum(_script_of(c) for c in han)
    if balance > 0:
        return "zh-Hant"
    if balance < 0:
        return "zh-Hans"
    return norm_hint if norm_hint in ("zh-Hans", "zh-Hant") else "zh-Hans"


# --- matching terms -----------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['’`´]")
_MENTION = re.compile(r"(?<![\w.])@\w+")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*|[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z]+")
_DOMAIN_WORDS = ("OKPay", "2FA", "二次验证", "双重验证", "交易编号", "交易号", "订单号", "实名认证", "转人工",
                 "人工客服", "客服小姐姐", "谷歌验证器", "身份证", "护照", "提现", "到账", "冻结", "被盗")
STOPWORDS = frozenset(
    """a an the i me my mine we our us you your yours he she it its they them this that these those is are am
    was were be been being do does did done to of in on at for from with by and or but so if then than as
    there here just please pls plz can could would should will shall may might must have has had get got
    im ive id ill youre hi hello hey thanks thank u ur r also still some any very really too much many
    now again yet okpay my how why what when where which who whom up use using keep keeps kept getting gets
    after before not no yes one all via through into out off over know tell want need try tried trying
    about whats wheres hows whys thats theres heres whos whens take takes took something anything way thing things
    does doing make work works working worked reason
    的 了 吗 呢 吧 啊 呀 哦 嗯 么 我 你 您 他 她 它 我们 你们 他们 是 在 有 就 都 也 还 又 和 与 跟 及 或
    能 会 要 想 给 被 把 个 一 一下 下 这 那 这个 那个 这样 那样 怎么 怎么办 怎样 如何 为什么 什么 请问 请
    麻烦 一直 已经 现在 今天 昨天 刚才 刚刚 然后 但是 可是 因为 所以 自己 没有 不 没 得 地 着 过 吗吗
    okpay 哈 哈哈 呢呢 以后 之后 后 时候 的时候 还是 可能 知道 告诉 需要 想要 应该
    咋 咋办 啥 为啥 怎么样 问 问题 可以 用 能不能 可不可以 是不是 有没有 好 个 这是 那是 一下子 嘛 呗 哈哈哈
    帮我 帮忙 看看 看一下 查一下
    怎么弄 怎么搞 怎么操作 咋弄 咋整 提示 显示 刚 到 help helps issue issues problem problems question questions
    啦 咧 嘞 喔 诶 欸 pls plz pleaseee thx idk wdym lol btw tbh ngl rn tho ya yo guys bro sis dude
    听说 听 说 同事 真的 是真的 新手 求教 请教 求助 其实 whether right
    先 平时 导致 会导致 些 求问 这种 那种 好点 不太会 怕 注意 要注意 一般来说
    sometimes till ever advance myself bit 打字 如果 假如 要是 万一 要不要 的话
    该 平常 担心 担忧 害怕
    po lah leh kena excuse teach sir madam 急急急""".split()
)

# Variant spellings OpenCC keeps: 帐 for 账 (账户, 到账), and the Taiwan spelling 身分 for 身份
_VARIANTS = (("帐", "账"), ("身分", "身份"))
# Taiwan and Hong Kong wording that character conversion leaves as it is (儲值 -> 储值, not 充值): mapped to
# the mainland word the knowledge base and the rules are written with. Words, not characters, so each one is
# unambiguous in a support chat.
_REGIONAL = {
    "储值": "充值", "加值": "充值", "入数": "充值", "提领": "提现", "登入": "登录", "快取": "缓存", "简讯": "短信",
    "网路": "网络", "连线": "连接", "设定": "设置", "个资": "个人信息", "两步骤": "两步", "客服专线": "客服电话",
    "软体": "软件", "讯息": "消息", "萤幕": "屏幕", "数位": "数字", "信箱": "邮箱", "电邮": "邮箱",
    "账密": "账号密码", "脸书": "facebook", "当机": "死机", "晶片": "芯片", "行动装置": "手机", "手机门号": "手机号",
    "门号": "手机号", "支援": "支持", "联络": "联系", "退费": "退款", "入钱": "充值",
    "过数": "转账", "户口": "账户", "汇出": "转出", "汇入": "转入", "网银": "网上银行",
    "档案": "文件", "视讯": "视频", "讯号": "信号", "暂存": "缓存", "连结": "链接",
    # Cantonese written in Hong Kong: "登唔到" is 登不了, "点算" is 怎么办
    "点算": "怎么办", "点解": "为什么", "点样": "怎样", "唔该": "谢谢", "唔": "不", "冇": "没有", "咗": "了",
    "嘅": "的",
    "睇": "看", "攞": "拿", "乜嘢": "什么", "佢": "他", "啲": "些", "喺": "在", "嚟": "来",
    # more of it, as OpenCC leaves it (搵 -> 揾, 嗰 -> 𠮶, 係 -> 系: only the phrases, 系 alone is 系统's)
    "咩": "什么", "㗎": "", "嘢": "东西", "哋": "们", "揾": "找", "边度": "哪里", "边个": "哪个", "上载": "上传",
    "俾": "给", "畀": "给", "𠮶": "那", "系咪": "是不是", "系唔系": "是不是", "系咩": "是什么", "仲系": "还是",
    "仲未": "还没", "都系": "都是", "但系": "但是", "呢边": "这边", "呢度": "这里", "就系": "就是",
    "唔系": "不是", "而家": "现在", "几时": "什么时候", "咁": "这么",
    # how long, will it be, what to do, transferred wrongly, get it back ("幾耐", "會唔會係", "應該點做", "過錯數");
    # 点 alone is also Mandarin's "a little" (快点), so only after a modal
    "几耐": "多久", "会唔会系": "会不会是", "应该点做": "应该怎么做", "要点做": "要怎么做", "该点做": "该怎么做",
    "过错数": "转错账", "唔识": "不认识", "攞返": "拿回",
    # Taiwan's 裝置 (a device: "新裝置登入"), Hong Kong's 前日 (the day before yesterday)
    "装置": "设备", "前日": "前天",
    "在哪边": "在哪里",  # Taiwan's "在哪邊": where (a page, a button)
    # mainland regional speech (Sichuan, the north-east): 啥子 is 什么, 咋个 怎么, 遭 the passive 被 ("账号遭盗了"),
    # 整不明白 "can't figure it out"; Taiwan's 刷不過 is a card or payment declined
    "啥子": "什么", "咋个": "怎么", "遭盗": "被盗", "遭冻结": "被冻结", "遭锁": "被锁", "遭封": "被封",
    "整不明白": "", "这玩意儿": "这个", "刷不过": "付款失败", "刷不了": "付款失败",
}
_REGIONAL_RE = re.compile("|".join(sorted(map(re.escape, _REGIONAL), key=len, reverse=True)))
# Pinyin typed without a Chinese keyboard ("mima wangle", "tixian 还没到", "rengong kefu"): support words only,
# several syllables each, none an English word, so "denglu" reads as 登录 and nothing English changes. Written
# with spaces between syllables; a customer may join them or not. Words whose tones decide (chongzhi is 充值 or
# 重置) are left out.
_PINYIN = {
    "deng lu": "登录", "deng bu shang": "登不上", "deng bu jin": "登不进", "mi ma": "密码", "wang ji": "忘记",
    "wang le": "忘了", "zhuan zhang": "转账", "ti xian": "提现", "ti bi": "提币", "dao zhang": "到账",
    "mei dao zhang": "没到账", "mei shou dao": "没收到", "shi bai": "失败", "ke fu": "客服", "ren gong": "人工",
    "dian hua": "电话", "you xiang": "邮箱", "zhang hu": "账户", "zhang hao": "账号", "qian bao": "钱包",
    "an quan": "安全", "yan zheng ma": "验证码", "shi ming": "实名", "ren zheng": "认证",
    "shen fen zheng": "身份证", "hu zhao": "护照", "qu xiao": "取消", "tui kuan": "退款", "dong jie": "冻结",
    "bei dong jie": "被冻结", "bei pian": "被骗", "pian zi": "骗子", "bei dao": "被盗", "bei hei": "被黑",
    "tou su": "投诉", "shou xu fei": "手续费", "fu kuan": "付款", "zhi fu": "支付", "hui kuan": "汇款",
    "xiu gai": "修改", "suo ding": "锁定", "zen me": "怎么", "zen me ban": "怎么办", "wei shen me": "为什么",
    "duo shao": "多少", "duo jiu": "多久", "shen he": "审核", "er ci yan zheng": "二次验证",
}
_PINYIN_RE = re.compile(r"(?<![a-z])(?:" + "|".join(
    r" ?".join(k.split()) for k in sorted(_PINYIN, key=len, reverse=True)) + r")(?![a-z])")
_PINYIN_KEY = {k.replace(" ", ""): v for k, v in _PINYIN.items()}

_jieba_ready = False


def _jieba():
    """Import and initialise jieba once, quietly, with the domain words added for stable cuts."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        import logging

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word in _DOMAIN_WORDS:
            jieba.add_word(word)
        _jieba_ready = True
    return jieba


def add_words(words: list[str]) -> None:
    """Teach jieba extra words (synonym variants) so they are never cut apart."""
    jieba = _jieba()
    for word in words:
        if _HAN.search(word):
            jieba.add_word(word)


def prepare(text: str) -> str:
    """Normalise for matching: NFKC, lower case, simplified script, apostrophes dropped (can't -> cant)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _MENTION.sub(" ", text)  # "@okpay_bot my transfer is stuck": the mention is addressing, not content
    # OpenCC turns 帳 into 帐, but money words are written with 账 (账户, 到账, 转账) in simplified Chinese
    text = _APOSTROPHES.sub("", to_simplified(text))
    for variant, usual in _VARIANTS:
        text = text.replace(variant, usual)
    if _HAN.search(text):
        text = _REGIONAL_RE.sub(lambda m: _REGIONAL[m.group(0)], text)
    if _LATIN_LOWER.search(text):
        text = _PINYIN_RE.sub(lambda m: _PINYIN_KEY[m.group(0).replace(" ", "")], text)
    return text


def split_terms(text: str) -> list[str]:
    """Cut prepared text into terms: latin words as they are, Chinese runs with jieba; no stopwords."""
    jieba = _jieba()
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isascii():
            if token not in STOPWORDS and not token.isdigit():
                out.append(token)
        else:
            out.extend(w for w in jieba.lcut(token) if w.strip() and w not in STOPWORDS)
    return out


def latin_words(text: str) -> list[str]:
    return _WORD.findall(text)
