"""Pattern tables for triage: incidents and requests that always go to a human, and small talk.

These are generic to any wallet or payment support desk. Topics one knowledge base does not cover
(fees, prices, jobs...) are data: the ``not_covered`` section of the knowledge base YAML.

Data, not code: each row is (reason, priority, patterns, unless-patterns). Patterns run on prepared
text (lower case, simplified Chinese, apostrophes dropped: "didn't" -> "didnt"). A row whose
``unless`` matches is skipped, so "how do I stop my account being hacked" stays a security question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# amounts: "$500", "500 usdt", "3000元", "1,200.50 eur", "五百块"
_AMOUNT = (
    r"(?:[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s?(?:k(?![a-z0-9]))?\s?(?:usd|usdt|usdc|eur|gbp|btc|eth|rmb|cny|hkd|twd|dollars?|"
    r"bucks|euros?|pounds?|元|块|美元|美金|刀|港币|台币|u(?![a-z0-9])|个u)|[一二两三四五六七八九十百千万]+(?:块|元))"
)
_PROBLEM = (
    r"(?:fail|not (?:received|arrived|showing|credited)|didnt (?:arrive|receive|get|go)|never (?:arrived|got|came)|"
    r"hasnt (?:arrived|come|shown)|havent (?:received|got)|missing|stuck|pending|deducted|disappeared|gone|"
    r"lost|where is|没到|未到|没收到|没有收到|失败|扣了|被扣|卡住|卡在|不见|少了|丢了|去哪|没了|还没到)"
)
# transaction / order references: "订单号 2024...", "tx id: ab12cd34ef", "order #123456", long digit runs
_REFERENCE = (
    r"(?:(?:订单号|订单编号|交易号|交易编号|流水号|单号|哈希|(?<![a-z])(?:txid|tx id|tx hash|txn|"
    r"transaction (?:id|number|no|hash|ref)|order (?:id|number|no)|reference (?:number|no|code)|"
    r"ref(?: no| number)?))\s*[:：#]?\s*(?=[a-z0-9-]*\d)[a-z0-9-]{4,}|"
    r"#\s?\d{5,}|(?<![a-z0-9])(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{12,}(?![a-z0-9])|\d{9,}|0x[0-9a-f]{8,})"
)
# account, card or phone numbers written in groups: "6222 0211 4455", "4111-1111-1111"
_GROUPED_NUMBER = r"(?<!\d)\d{3,6}(?:[ -]\d{2,6}){2,}(?!\d)"
# the customer asks staff to look at their own case: "can you check", "帮我查一下"
_CHECK_MINE = (
    r"(?:(?:can|could|would) (?:you|u|someone)|pls|plz|please|help me) (?:check|look into|investigate|trace|track)|"
    r"帮我查|帮忙查|给我查|查一下|查查|核实一下|帮我看看"
)
_PREVENT = (
    # prevention questions only: "what if my account is hacked" may be a customer who is hacked now
    r"(?:prevent|avoid|protect|stop (?:my|me|it|them|someone|people)|keep .{0,20}(?:safe|secure)|"
    r"keep .{0,25} from (?:being|getting)|in case|"
    r"how (?:do|can|to) (?:i |you )?(?:avoid|prevent|spot|recogni[sz]e)|"
    r"tips|防止|避免|防范|预防|以防|如何防|怎么防|怎样防|怎么避免|怎么识别|识别)"
)
_HOWTO = r"(?:how|where|which|what is the way|way to|怎么|如何|哪里|哪儿|在哪|哪个|方式|渠道|入口)"


@dataclass(frozen=True, slots=True)
class Rule:
    reason: str
    priority: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        return bool(self.pattern.search(text)) and not (self.unless and self.unless.search(text))


_TABLE: list[tuple[str, str, list[str], list[str]]] = [
    ("hacked_account", "urgent", [
        r"hacked|hacker (?:got|took|logged|accessed|changed)|compromised|someone (?:else )?(?:logged|log|got|has|"
        r"accessed|is using|changed|took)|somebody (?:logged|accessed|changed)|taken over|took over|"
        r"(?:login|log in|sign in)s? (?:from|in) (?:a |an )?(?:unknown|strange|different|another) "
        r"(?:device|location|country|place|ip)|password (?:was |has been )?changed (?:by|without)|"
        r"i didnt change my (?:password|email|phone)|"
        r"(?:email|password|phone number) (?:was|were|has been|have been|got) changed",
        r"被黑|盗号|号被盗|账号被盗|被人登录|别人登录|有人登录|异地登录|陌生设备登录|被人改了|密码被改|"
        r"被人修改|账号被盗用|被盗用|被人控制|不是我登录",
    ], [_PREVENT]),
    ("stolen_funds", "urgent", [
        r"stolen|steal|stole|theft|被盗|被偷|盗走|偷走|盗刷|被转走|转走了|被人转|被划走|被提走|被取走",
        r"unauthori[sz]ed|without (?:my )?(?:permission|consent|authori[sz]ation)|didnt (?:make|authori[sz]e) "
        r"(?:this|that|these|those|it|the|a|any)|wasnt me|not me who|i never (?:made|sent|authori[sz]ed)",
        r"(?:money|funds|balance|coins|tokens|usdt|usdc|btc|bitcoin|eth|ether|crypto|assets|savings|everything)"
        r".{0,25}(?:gone|disappeared|vanished|emptied|drained|"
        r"missing from|taken)|(?:wallet|account).{0,15}(?:emptied|drained|wiped)|(?:empty|drained) (?:wallet|account)",
        r"(?:钱|资金|余额|资产|币|存款|积蓄).{0,8}(?:不见了|没了|消失|清零|被清空|少了很多|被扣光|全没)|"
        r"不是我(?:本人)?(?:操作|转|付|买|提)|我没有(?:操作|转账|授权)|没有授权|未经授权|莫名其妙.{0,6}(?:扣|转|少)",
    ], [_PREVENT]),
    ("scam", "high", [
        r"scam|scammed|scammer|fraud|fraudster|phishing|impersonat|pretend(?:ing|ed)? to be|"
        r"claim(?:ing|s|ed)? to be|fake (?:support|"
        r"customer service|okpay|agent|admin|staff|website|site|app|account)|ponzi|rug ?pull|"
        r"ask(?:ed|ing|s)? (?:me )?(?:for|to (?:send|give|share|tell)) (?:them |him |her )?(?:my|the) "
        r"(?:seed|recovery|private key|password|pin|2fa|otp|code|verification code|sms code)|seed phrase|"
        r"private key",
        r"诈骗|骗子|被骗|骗了|骗局|骗钱|冒充|假冒|假客服|钓鱼|仿冒|杀猪盘|资金盘|助记词|私钥|"
        r"(?:问我要|向我要|找我要|索要|让我(?:提供|发|告诉|说出)).{0,4}(?:密码|验证码|动态码)",
    ], [r"(?:how (?:do|can|to) (?:i |you )?(?:avoid|spot|recogni[sz]e|protect)|tips|防范|如何识别|怎么识别|怎么防|"
        r"怎样防|怎么避免|如何避免)"]),
    ("frozen_funds", "high", [
        r"frozen|freeze|froze|suspended|suspension|banned|account (?:is |was |got |has been )?restricted|"
        r"restriction on my|on hold|held my|"
        r"holding my (?:money|funds)|blocked my (?:money|funds|account|withdrawal)|"
        r"(?:withdrawals?|funds|money|balance) (?:is |are |was |were |got |has been |have been )?"
        r"(?:blocked|locked|held)|"
        r"account (?:is |was |got )?"
        r"(?:blocked|disabled|closed)|(?:money|funds) (?:is |are )?(?:blocked|held|locked)",
        r"冻结|冻住|被冻|封号|封我|封.{0,2}号|被封|封了|封禁|限制交易|限制提现|被限制|资金被锁|钱被锁|账户被禁|被停用|暂停使用|扣押",
    ], []),
    ("double_charge", "high", [
        r"charged (?:me )?(?:twice|two times|double|2 times|three times|multiple times)|double[- ]?(?:charged|"
        r"charge|payment|billed|debited|deducted)|duplicate (?:charge|payment|transaction|deduction)|"
        r"paid twice|deducted twice|debited twice|billed twice|taken twice|charged more than once",
        r"扣了两次|扣款两次|两次扣款|重复扣款|重复扣费|重复支付|重复收费|多扣|扣了两笔|扣两次|扣费两次|付了两次|"
        r"被扣了两|扣了双倍|收了两次",
    ], []),
    ("legal", "high", [
        r"lawyer|attorney|solicitor|lawsuit|sue (?:you|okpay|them|your)|suing|legal action|take (?:you|this) to "
        r"court|court|police|regulator|regulatory|report (?:you|okpay) to|consumer protection|ombudsman|"
        r"\bsec\b|\bfca\b|\bcftc\b|\bfbi\b",
        r"律师|起诉|告你们|告到|法院|报警|警察|公安|监管|银保监|证监会|消协|消费者协会|12315|法律途径|法律责任|立案|仲裁",
    ], []),
    ("asked_for_human", "normal", [
        r"human|real person|live person|actual person|real agent|live agent|an agent|to an agent|agent please|"
        r"representative|\brep\b|operator|someone real|real someone|talk to (?:a |an )?(?:someone|somebody|person)|"
        r"speak (?:to|with) (?:a |an )?(?:someone|somebody|person)|not a bot|no bots?\b|stop the bot|"
        r"staff member|real human|manager|supervisor",
        r"人工|真人|活人|客服小姐姐|客服小哥|客服妹妹|客服姐姐|找个人|找人工|经理|主管|负责人",
    ], [r"人工智能|artificial intelligence"]),
    ("asked_for_human", "normal", [
        r"(?:talk|speak|chat) (?:to|with) (?:your |the )?(?:support|customer service|team|staff|someone from)|"
        r"(?:connect|transfer|put) me (?:to|through)|i (?:want|need|would like|wanna) (?:to )?(?:talk|speak|contact)",
        r"(?:我要|我想|帮我|给我|麻烦)(?:找|转|接|联系)?客服|(?:叫|让)客服|客服(?:出来|呢|快点|回复我)",
    ], [_HOWTO]),
    ("complaint", "normal", [
        r"complain|complaint|terrible|horrible|awful|worst|useless|ridiculous|unacceptable|disgusting|pathetic|"
        r"fed up|rubbish|garbage|trash|joke of a|shame on|never (?:use|using) .{0,20} again|waste of time",
        r"投诉|差评|垃圾|太差|真差|什么破|破app|破软件|坑人|坑爹|恶心|气死|忍无可忍|无语|离谱|太烂|烂透|骗人的吧|没人管|"
        r"没人回|没人理|等了(?:好)?几天|欺负人",
    ], []),
    ("transaction_investigation", "normal", [
        _REFERENCE,
        _GROUPED_NUMBER,
        _AMOUNT + r".{0,40}" + _PROBLEM,
        _PROBLEM + r".{0,40}" + _AMOUNT,
        _PROBLEM + r".{0,60}" + _CHECK_MINE,
        _CHECK_MINE + r".{0,60}" + _PROBLEM,
    ], []),
]

RULES: tuple[Rule, ...] = tuple(
    Rule(reason, priority, re.compile("|".join(f"(?:{p})" for p in pats)),
         re.compile("|".join(f"(?:{p})" for p in unless)) if unless else None)
    for reason, priority, pats, unless in _TABLE
)

# The customer says the answer did not help (used only after an answer: context.previous_faq_id).
UNRESOLVED = re.compile(
    r"still (?:not|doesnt|dont|cant|cannot|isnt|wont|no|the same|failing|broken)|didnt help|doesnt help|not helpful|"
    r"doesnt work|didnt work|not working|no use|useless|same problem|tried (?:that|this|it|all|everything)|"
    r"还是不行|还是没用|还是不能|还是登不|没用|不管用|没解决|试过了|都试了|不行啊|没有用"
)

# Too little to go on: a careful agent would ask what it is about (matched on the whole prepared message).
VAGUE = re.compile(
    r"^\W*(?:(?:hi|hello|hey)\W+)?(?:i\W+)?(?:need|want|have|got|ask)?\W*(?:some|a|one|quick)?\W*"
    r"(?:help|problem|question|issue|support|assistance|query|trouble)s?(?:\W+(?:please|pls|plz|here|asap))?\W*$|"
    r"^\W*(?:help me|can you help(?: me)?|can (?:someone|anyone) help(?: me)?)\W*$|"
    r"^\W*(?:你好|您好|请问)?\W*(?:我)?(?:有个|有一个|有些|有点)?(?:问题|事情?|疑问|麻烦)\W*"
    r"(?:想)?(?:问一?下|咨询一?下|请教一?下)?\W*$|^\W*(?:帮帮我|求助|救命|帮个忙|在线等)\W*$"
)
# A customer losing patience: with answers that did not help, a person should take over.
ANGRY = re.compile(
    r"(?<![a-z])(?:wtf|fuck\w*|shit\w*|damn|rip ?off|useless|worst|terrible|garbage|trash|idiot\w*|stupid|"
    r"ridiculous|unacceptable|pathetic|furious|so angry|fed up|waste of (?:my )?time)(?![a-z])|!!!|\?!|!\?|"
    r"垃圾|骗子|妈的|他妈|坑人|破app|什么破|太差|气死|无语|受不了|退钱|投诉你们|废物"
)

# Small talk, by kind. Matched text is removed; if nothing but filler remains, the message is a greeting.
GREETINGS: list[tuple[str, list[str]]] = [
    ("thanks", [
        r"(?<![a-z])(?:thank(?:s| you| u| ya| yu)?(?: (?:so|very) much| a lot| a bunch)?|thx|thanx|thnx|tks|ty|"
        r"tysm|cheers|"
        r"appreciate (?:it|that|your help)|much appreciated|bye|goodbye|see you)(?![a-z])",
        r"谢谢你?们?|谢了|多谢|感谢|感恩|辛苦了|拜拜|再见|3q|🙏|❤️?|♥",
        # the answer worked: closes the loop like thanks ("thanks, that helped!", "好了，解决了")
        r"(?<!not )(?:that|it|this) (?:really )?(?:helped|helps|worked|works)|works now|working now|all good|"
        r"problem solved|(?<![a-z])(?<!not )(?<!un)(?:solved|fixed|resolved|sorted)(?![a-z])",
        r"(?<![没不未])解决了|搞定了?|成功了|能用了|可以用了|(?<![没])有用|好使了|登上了|登进去了",
    ]),
    ("greeting", [
        r"(?<![a-z])(?:hi+|hello+|hey+|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|gm|greetings|"
        r"anyone (?:there|here|around)|is anyone there|are you there|you there|hello\?)(?![a-z])",
        r"你好|您好|哈喽|哈啰|嗨|hello|在吗|在不在|在么|有人吗|有人在吗|早上好|下午好|晚上好|早安|晚安|^喂|👋",
    ]),
    ("ack", [
        r"(?<![a-z])(?:ok+|okay|okie|k+|kk|fine|alright|all right|got it|gotcha|cool|great|nice|sure|noted|"
        r"understood|perfect|sounds good|i see|no problem|np|roger|will do|yes|yep|yeah|no worries)(?![a-z])",
        r"好的|好吧|好滴|好哒|好嘞|行吧|^\W*(?:好|行|嗯|哦|噢|对)+\W*$|嗯嗯|哦哦|收到|明白了?|知道了|了解了?|懂了|可以了|没问题|👍|👌|✅|😊|🙂|😀|😄",
    ]),
]
# Words that may surround small talk without making it a question ("hi there", "thanks team", "在吗客服").
GREETING_FILLER = [
    r"(?<![a-z])(?:there|team|guys|all|everyone|folks|support|okpay|bot|admin|mate|sir|madam|again|for|the|your|"
    r"help|so|much|very|a|lot|and|you|u|!|\.)(?![a-z])",
    r"客服|你们|大家|朋友|亲|啊|呀|哈|哈哈|呢|吧|了|的|哦|嘛|哈喽|一下|小助手|助手|机器人|帮助|帮忙|你",
]
