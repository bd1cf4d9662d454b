"""Pattern tables for triage: incidents and requests that always go to a human.

These are generic to any wallet or payment support desk. Topics one knowledge base does not cover
(fees, prices, jobs...) are data: the ``not_covered`` section of the knowledge base YAML. Small talk and
the other conversation patterns are in core/triage_talk.py.

Data, not code: each row is (reason, priority, patterns, unless-patterns). Patterns run on prepared
text (lower case, simplified Chinese, apostrophes dropped: "didn't" -> "didnt"). A row whose
``unless`` matches is skipped, so "how do I stop my account being hacked" stays a security question.
"""

from __future__ import annotations

import re

from core.triage_rule import Rule

# amounts: "$500", "500 usdt", "3000元", "1,200.50 eur", "五百块"
_AMOUNT = (
    r"(?:[$€£¥]\s?\d[\d,.]*|(?:nt|hk|us|s)\$\s?\d[\d,.]*|\d[\d,.]*\s?(?:k(?![a-z0-9]))?\s?(?:usd|usdt|usdc|eur|gbp|"
    r"btc|eth|"
    r"rmb|cny|hkd|twd|ntd|sgd|myr|php|idr|vnd|thb|inr|krw|jpy|aud|cad|dollars?|"
    r"bucks|euros?|pounds?|pesos?|baht|元|块|美元|美金|刀|港币|港元|台币|新台币|日元|比索|泰铢|u(?![a-z0-9])|个u)|"
    r"[一二两三四五六七八九十百千万]+(?:块|元)|(?:金额|amount)\s?(?:是|为|of|[:：])?\s?\d[\d,.]*|"
    # "a payment of 45.99": the word says it is money even without a currency
    r"(?<![a-z])(?:payment|transfer|deposit|withdrawal|top ?up|refund|charge|purchase)s? of \d[\d,.]*)"
)
_PROBLEM = (
    r"(?:fail|not (?:received|arrived|showing|credited)|didnt (?:arrive|receive|get|go)|never (?:arrived|got|came)|"
    r"(?:not|never|didnt|doesnt|hasnt|havent|wasnt|isnt|still no|no) (?:\w+ )?(?:arriv|receiv|credit|show|reach|"
    r"land|appear|reflect)|"
    r"hasnt (?:arrived|come|shown)|havent (?:received|got)|missing|stuck|pending|deducted|disappeared|gone|"
    r"(?:still )?(?:isnt|is not|arent|are not|not) (?:there|here|in) yet|"
    r"still (?:isnt|is not|not|hasnt) (?:there|here)|"
    r"lost|where is|wheres|still nothing|nothing (?:yet|arrived|came|showed)|never (?:showed|came|reached)|"
    r"hasnt (?:reached|been (?:credited|received))|not (?:reached|in my)|(?:under|in) review|processing|"
    r"no (?:response|reply|update|news|result)|没(?:有)?(?:结果|消息|回复|下文|动静|通过)|"
    r"(?:hasnt|havent|didnt|not|never|still not|still hasnt) (?:got|gotten|get)\b|(?:money|funds|it) left my|"
    r"没到|未到|没收到|没有收到|失败|扣了|被扣|卡住|卡在|不见|少了|丢了|去哪|没了|还没到|还在审核|审核中|处理中|"
    r"(?:没|未)(?:有)?退(?:回|还|款|给)?|退款.{0,6}(?:没|未)(?:有)?(?:到|收到|退)|"
    r"没动静|没反应|(?:都|还|也)?没(?:有)?(?:看到|看见|见到)|"
    # less than expected: "paid 4200 usd, but I only see 3700"
    r"only (?:see|got|get|received|shows?|arrived|came)|(?:got|received|arrived|came) less|"
    r"(?:没|未)(?:有)?(?:入账|到账|进账|显示|进来|成功|收到))"
)
# money sent to the wrong party or network: "wrong address", "went to someone else", "用错了链", "转到别人那里"
_WRONG_PAYEE = (
    r"(?:wrong (?:(?:trc|erc|bep)-?20 |usdt |btc |eth |crypto |bank |okpay )?(?:address|network|chain|account|person|"
    r"recipient|wallet|id|number|user)|went to (?:someone|"
    r"somebody) else|"
    r"to (?:my |an? |the )?(?:old|previous|former|outdated|expired) (?:address|wallet|account)|"
    r"(?:转|打|付|汇|提|充)错(?:了)?|(?:用|选)错(?:了)?(?:链|网络|网)|转(?:到|给)(?:了)?别人|到别人(?:那|手)|"
    r"(?:erc|trc|bep)-?20.{1,40}(?:instead of|rather than|not|to an?|转到|转去|到了?)\s?(?:the )?(?:erc|trc|bep)-?20)"
)
# the chain shows it done while the wallet does not: "链上显示成功了但是余额没有加", "explorer says confirmed but"
_ON_CHAIN = (
    r"(?:on[- ]?chain|on the blockchain|blockchain|explorer|etherscan|tronscan|bscscan|链上|区块链|区块浏览器)"
    r".{0,30}(?:but|yet|however|但|可是|却)"
)
# a question about the situation rather than its statement: "怎么解锁", "can I undo it", "what now", "if ...";
# a request that the team act on it ("可以帮我取消吗", "can you reverse it?") is not one
_ASKS = (
    r"^(?!.*(?:帮我|帮忙|替我|麻烦你|can you|could you|would you|can u|could u|help me|"
    r"(?:please|pls|plz) (?:cancel|reverse|refund|unlock|fix|help|undo|return|stop|check|look))).*"
    r"(?:怎么|怎样|如何|咋|哪|能不能|可不可以|会不会|有没有|是否|可以.{0,12}吗|吗|呢|多久|多长|为什么|什么|[?？]|"
    r"(?<![a-z])(?:how|hows|what|whats|why|when|where|can|could|is it|is there|do i|should i)(?![a-z]))|"
    r"(?<![a-z])(?:if|what if|in case)(?![a-z])|如果|万一|要是|假如"
)
# transaction / order references: "订单号 2024...", "tx id: ab12cd34ef", "order #123456", long digit runs
_REFERENCE = (
    r"(?:(?:订单号|订单编号|交易号|交易编号|流水号|单号|哈希|(?<![a-z])(?:txid|tx id|tx hash|txn|"
    r"transaction (?:id|number|no|hash|ref)|order (?:id|number|no)|reference (?:number|no|code)|"
    r"ref(?: no| number)?))\s*[:：#]?\s*(?=[a-z0-9-]*\d)[a-z0-9-]{4,}|"
    r"(?<![a-z])(?:order|tx|txn|transaction|payment|transfer|ticket|case|订单|交易|转账|工单)\s*[:：#]?\s*\d{5,}|"
    r"(?<![a-z])(?:order|订单|invoice|ticket)\s*(?:no\.?|number)?\s*#\s*\d{3,}|"
    r"#\s?\d{5,}|(?<![a-z0-9])(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{12,}(?![a-z0-9])|\d{9,}|0x[0-9a-f]{8,})"
)
# waits past the promised 24 hours: "3 days", "a week", "三天", "一个星期", "好几天"
_LONG_WAIT = (
    r"(?:(?<![\d.])(?:[2-9]|[1-9]\d+)\s?(?:days?|weeks?|wks?|months?)(?![a-z])|"
    r"(?:two|three|four|five|six|seven|eight|nine|ten|several|few|couple(?: of)?|many) days|"
    r"(?<![\d.])(?:4[89]|[5-9]\d|\d{3,})\s?(?:hours|hrs|h)(?![a-z])|(?:四十八|七十二|48|72|96)\s?(?:个)?小时|"
    r"(?:more than|over|past|after|beyond|exceeded?) (?:the )?24 ?(?:hours|hrs|h)|24 ?(?:hours|hrs|h) (?:passed|ago|"
    r"already)|"
    r"(?:超过|过了|已经|都)(?:了)?24\s?(?:个)?小时|(?:超过|过了)(?:了)?(?:一|1)\s?(?:天|日)|一天多|"
    r"more than a day|over a day|"
    r"(?:two|three|four|several|few|couple(?: of)?|a|one|whole) (?:weeks?|months?)|"
    r"(?:[两二三四五六七八九十]|好几|十几|[2-9]|[1-9]\d+)\s?个?多?(?:天|日|星期|礼拜|周|月)|几(?:天|个星期|周)了|"
    r"(?:一|1)\s?个?多?(?:星期|礼拜|周|月)|一天多|last (?:week|month)|weeks ago|上(?:个)?(?:周|星期|礼拜|月)|"
    r"大?前天|(?:好)?几天前|day before yesterday|(?:a )?few days ago|several days ago)"
)
# a transfer the customer dates: "on monday", "on the 5th", "5号转的", "上周五"
_DATED = (
    r"(?:(?:on|since|last) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d{1,2}(?:st|nd|rd|th))|"
    r"(?<!\d)\d{1,2}\s?(?:号|日)(?:转|付|充|提|汇|交易|那笔|的)|(?:上周|上星期|上礼拜)[一二三四五六日天]?)"
)
_MONEY_MOVE = (
    r"(?:transfer|deposit|withdraw|payment|paid|sent|send|money|funds|top ?up|refund|usdt|crypto|coins?|review|"
    r"kyc|verification|转|提现|提币|充值|到账|汇款|付款|支付|钱|退款|审核|认证)"
)
# account, card or phone numbers written in groups: "6222 0211 4455", "4111-1111-1111"
_GROUPED_NUMBER = r"(?<!\d)\d{3,6}(?:[ -]\d{2,6}){2,}(?!\d)"
# the customer asks staff to look at their own case: "can you check", "帮我查一下"
_CHECK_MINE = (
    r"(?:(?:(?:can|could|would) (?:you|u|someone)|pls|plz|please|help me) (?:check|look into|look at|take a look|"
    r"have a look|look|investigate|trace|track|confirm|guarantee)|"
    r"帮我查|帮忙查|给我查|查一下|查查|核实一下|帮我看看)"
)
_PREVENT = (
    # prevention questions only: "what if my account is hacked" may be a customer who is hacked now
    r"(?:prevent|avoid|protect|stop (?:my|me|it|them|someone|people)|keep .{0,20}(?:safe|secure)|"
    r"keep .{0,25} from (?:being|getting)|in case|"
    r"how (?:do|can|to) (?:i |you )?(?:avoid|prevent|spot|recogni[sz]e)|"
    r"make sure .{0,30}(?:doesnt|dont|does not|never|wont) happen|how (?:do|can) i make sure|"
    # somebody else's incident elsewhere: "my friend got hacked on another wallet" (not "sold my usdt on an exchange")
    r"(?:hacked|stolen|drained|scammed|robbed) on (?:another|other|a different|some other) (?:wallet|app|platform|"
    r"exchange|site)s?(?![a-z])|"
    r"tips|防止|避免|防范|预防|以防|如何防|怎么防|怎样防|怎么避免|怎么识别|识别|"
    # a worry, not an incident: "会不会被黑", "can my account get hacked?"
    r"会不会被(?:人)?(?:黑|盗)(?!了)|容易被(?:人)?(?:黑|盗)|会被(?:人)?(?:黑|盗)(?:吗|么|嘛)|"
    r"(?:what (?:should|do|can) i do|what to do) (?:if|when)|"
    r"if i (?:ever )?(?:see|find|notice|get)|(?:如果|万一|要是)(?:我)?(?:发现|看到)|"
    r"(?:heard|read|seen|news|saw).{0,30}(?:some|other|many|lots of|a lot of|several) (?:wallets?|apps?|platforms?|"
    r"exchanges?|people|users|accounts)|"
    r"(?:听说|新闻|报道|看到|网上说).{0,20}(?:很多|有些|其他|别的|不少|好多)(?:钱包|平台|交易所|人|用户|账户|账号)|"
    r"(?:别的|其他|其它|之前用的|以前用的|以前的|另一个)(?:钱包|平台|交易所|app|软件|账号|账户).{0,10}被(?:盗|黑|偷)|"
    r"(?:can|could|will|would) (?:my (?:account|"
    r"wallet|money|funds)|it|someone|people|anyone) "
    r"(?:be |get )?(?:hack|steal|stole)|(?:is it|how) (?:possible|easy|likely) (?:to|that) .{0,20}(?:hack|steal))"
)
# people close to the customer: "my ex", "my brother"
_PEOPLE = (
    r"(?:ex|wife|husband|brother|sister|friend|son|daughter|girlfriend|boyfriend|partner|colleague|roommate|mother|"
    r"father|mom|mum|dad|kids?|child|cousin|boss)"
)
_HOWTO = r"(?:how|where|which|what is the way|way to|怎么|如何|哪里|哪儿|在哪|哪个|方式|渠道|入口)"
# an identity check: "kyc", "verification", "实名认证", "人脸识别"
_VERIFYING = r"(?:kyc|verif\w*|identity|id check|认证|验证|审核|人脸|刷脸)"
# one of the answers' steps, done: "清了缓存", "换了网络", "重置了密码"
# the same in English, two of them ("checked my balance and network"); one alone is still the answer's question
_CHECKED_EN = r"(?:balance|network|connection|wifi|limits?|status page|cache|browser)s?"
_STEP_EN = (r"(?:checked|tried|changed|switched|cleared) "
            r"(?:my |the |another |a different |to (?:another |a different )?)?" + _CHECKED_EN)
_DONE_ZH = (
    r"(?:清(?:理|除)?(?:了|过)(?:缓存)?|换(?:了|过)(?:网络|网|wifi|手机|设备|浏览器)?|重置(?:了|过)(?:密码)?|"
    r"重设(?:了|过)(?:密码)?|重启(?:了|过)|重装(?:了|过)|更新(?:了|过)|检查(?:了|过)|确认(?:了|过)|"
    # ... or named object first, the way the answers' checks read back: "网络也换了", "余额够", "状态页面也正常"
    r"(?:网络|网|wifi|缓存|浏览器|手机|设备|密码)(?:也|都)?(?:换|清|清理|清除|重置|重启|试)(?:了|过)|"
    r"余额(?:也|都)?(?:够|充足|足够|没问题)|(?:服务)?状态页(?:面)?(?:也|都)?(?:显示|看了|说)?(?:也)?(?:正常|没问题))"
)


# money gone to the wrong party or network, with the amount or the network named: a person traces it;
# "I sent money to the wrong person, can I undo it" is the cancel FAQ's question
_MISDIRECTED = [
    r"(?:balance|余额)\s?(?:is |shows |showing |displays |显示)?(?:wrong|incorrect|negative|minus|"
    r"不对|错误|有误|错了|"
    r"是负|变负|负数)|(?:negative|wrong|incorrect) balance|负余额",
    _AMOUNT + r".{0,60}" + _WRONG_PAYEE,
    _WRONG_PAYEE + r".{0,60}" + _AMOUNT,
    _WRONG_PAYEE + r".{0,60}(?<!\d)\d{6,}|(?<!\d)\d{6,}.{0,60}" + _WRONG_PAYEE,  # "... okpay id 88213374"
    r"wrong (?:network|chain)|(?:用|选|转)错(?:了)?(?:链|网络)|(?:充|转|提)错(?:了)?(?:币种|代币)|"
    r"(?:sent|deposited|transferred) (?:the )?wrong (?:coin|token)|"
    r"(?:erc|trc|bep)-?20.{1,40}(?:instead of|rather than|转到|转去|到了?)\s?(?:the )?(?:erc|trc|bep)-?20",
    _ON_CHAIN,
]


# a case named by its reference, amount or an ask to look: "订单号 2024...", "500 usdt not arrived", "can you check"
_CASE_DETAILS = [
    _REFERENCE,
    _GROUPED_NUMBER,
    r"(?:refund|退款).{0,30}(?:order|订单|交易|transaction)\s*(?:号|编号|no\.?|number|id)?\s*[:：#]?\s*[a-z-]*\d{3,}|"
    r"(?:order|订单|交易|transaction)\s*(?:号|编号|no\.?|number|id)?\s*[:：#]?\s*[a-z-]*\d{3,}.{0,30}(?:refund|退款)|"
    # the amount sent by mistake, or the exact error code the answers say to send to support
    r"(?:多|少)(?:转|付|打|汇|收到|到账|到)了?\s?\d|"
    r"(?:错误码|错误代码|报错码|报错代码|error code)\s*[:：]?\s*[a-z]{0,3}-?\d{3,}",
    _AMOUNT + r".{0,40}" + _PROBLEM,
    _PROBLEM + r".{0,40}" + _AMOUNT,
    _PROBLEM + r".{0,60}" + _CHECK_MINE,
    _CHECK_MINE + r".{0,60}" + _PROBLEM,
    # asking staff to look into the customer's own case: "帮我查一下我的提现", "can you check my transfer"
    _CHECK_MINE + r".{0,20}(?:我的|我那|这笔|那笔|\bmy\b|\bthis\b|\bthat\b|订单|转账|提现|提币|充值|交易|"
    r"付款|汇款|钱(?!包)|transaction|transfer|payment|withdrawal|deposit|order|account|账户|账号)",
]
# still waiting days after a transfer or a submission: past the promised 24 hours, a person traces it;
# "how long does it usually take, 3 days?" is a question about delays, answered by the FAQ
_OVERDUE = [
    _LONG_WAIT + r".{0,40}" + _PROBLEM,
    _PROBLEM + r".{0,40}" + _LONG_WAIT,
    _LONG_WAIT + r" ago.{0,40}" + _MONEY_MOVE,
    _MONEY_MOVE + r".{0,40}" + _LONG_WAIT + r" ago",
    _DATED + r".{0,40}" + _PROBLEM,
    _PROBLEM + r".{0,40}" + _DATED,
    _MONEY_MOVE + r".{0,30}(?:已经|超过|等了|都|快|足足)(?:有)?.{0,6}" + _LONG_WAIT,
    _MONEY_MOVE + r".{0,30}" + _LONG_WAIT + r"(?:了|啦|多了|还|都|仍)",
    _MONEY_MOVE + r".{0,40}(?:for|over|more than|after|since|past) (?:over |more than |almost |nearly )?"
    + _LONG_WAIT,
    _LONG_WAIT + r"了?(?:还|都|仍|依然)(?:没|未|在|是)",
]


_TABLE: list[tuple[str, str, list[str], list[str]]] = [
    # a customer in distress ("I lost everything, I want to die") needs a person before anything else
    ("distress", "urgent", [
        r"(?<![a-z])(?:kill(?:ing)? myself|suicid\w*|want to die|wanna die|end (?:my life|it all)|no reason to live|"
        r"(?:cant|dont want to) (?:go on|live) any ?more)(?![a-z])",
        r"自杀|不想活|想死|活不下去|活不成|跳楼|轻生|寻死",
    ], []),
    # the phone or laptop with the wallet on it is lost or stolen; "how do I log in on my new phone" is a login question
    ("lost_device", "urgent", [
        r"(?:lost|stolen|lose) (?:my |the )?(?:phone|mobile|laptop|device|sim)|(?:phone|mobile|laptop|device|"
        r"sim)(?: \w+)? "
        r"(?:was |got |has been |is )?(?:lost|stolen|missing)",
        r"(?:手机|电脑|设备|sim卡)(?:被偷|被盗|丢了|丢失|不见了)|(?:丢了|弄丢了?)(?:我的)?(?:手机|电脑|设备)",
    ], [_PREVENT, r"new (?:one|phone|mobile|device|laptop)|新(?:手机|设备|电脑)|换了(?:手机|设备)"]),
    ("hacked_account", "urgent", [
        r"hacked|hacker (?:got|took|logged|accessed|changed)|compromised|someone (?:else )?(?:logged|log|got|has|"
        r"accessed|is using|changed|took|reset|removed|disabled|turned off|switched off|added|linked|unlinked|used)|"
        r"(?:my )?(?:email|phone number|password|2fa) (?:is|was|looks) (?:different|not mine)|"
        r"(?:someone|somebody|a stranger|another person|strangers?) (?:else )?(?:is |was |has been |keeps |keep )?"
        r"(?:logging|signing|accessing|using my|getting into|trying to (?:log|get|access))|"
        r"(?:logged|signed|login|log in|sign in|accessed).{0,40}(?:but|and) (?:it )?(?:wasnt|was not|not|isnt) me|"
        r"(?:logged|signed|login|log in|sign in|accessed).{0,40}but i (?:didnt|did not|never|wasnt|havent)"
        r"(?: (?:log(?:ged)? ?in|sign(?:ed)? in|do (?:it|that|this)|access(?:ed)? it))?(?:[.!,]|$)|"
        r"somebody (?:logged|accessed|changed)|taken over|took over|"
        # "someone is in my account right now", "login alert from a pc in Brazil", "an email that isn't mine"
        r"(?:someone|somebody|a stranger|a hacker|hackers?) (?:else )?(?:is|was|has been|got|are|were) (?:in|inside|"
        r"into) my (?:account|wallet|okpay|acc)|(?:login|log in|sign in|signin|security) (?:alert|notification|"
        r"warning|email)s? from (?!okpay|you|your|the app|us\b)|"
        r"(?:email|phone(?: number)?|number)(?: \w+){0,3} (?:isnt|is not|wasnt|was not) mine|"
        r"(?:login|log in|sign in)s? (?:from|in) (?:a |an )?(?:unknown|strange|different|another|new|foreign|"
        r"unfamiliar) "
        r"(?:device|location|country|place|ip)|password (?:was |has been )?changed (?:by|without)|"
        r"i didnt change my (?:password|email|phone)|"
        r"(?:device|login|log in|sign in|location|ip|session)s? (?:that )?(?:i|we) (?:dont|do not|didnt|cant) "
        r"recogni[sz]e|"
        r"(?:email|password|phone number) (?:was|were|has been|have been|got) changed|"
        r"(?:email|phone number|phone|number|2fa|pin)(?: [a-z]+){1,4} (?:was|were|has been|have been|got) changed|"
        r"sim (?:card )?(?:swap|swapped|was swapped|hijack)|"
        r"(?:code|otp|reset (?:email|link)|password reset|verification (?:email|sms|text)).{0,30}"
        r"(?:i |we )?(?:didnt|did not|never|havent) (?:request|ask|asked|requested|try|tried)|"
        r"(?:2fa|two[- ]?factor|two[- ]?step|2[- ]step|authenticator|mfa)\b.{0,30}(?:was |got |has been |been |is )"
        r"(?:turned off|switched off|disabled|removed|reset|changed|deactivated|unbound)|"
        r"(?:login|log in|log-in|sign in|sign-in|signin)s? (?:alert|notification|warning|attempt|email|notice)s?"
        r".{0,40}(?:another|other|different|unknown|strange|new|foreign|unfamiliar|not me|wasnt me|didnt|dont|do not|"
        r"never|not mine)|"
        r"(?:turned off|switched off|disabled|removed|reset|changed|deactivated) by (?:someone|somebody|a hacker|"
        r"hackers?|"
        r"another person|a stranger|someone else)|"
        r"(?:unknown|strange|suspicious|unrecogni[sz]ed|unfamiliar|foreign) (?:login|log in|sign in|signin)|"
        r"new (?:device|location|country|ip) (?:login|log in|sign in|signin|alert|notification)|"
        r"(?:login|log in|sign in|signin|security) (?:alert|notification|email|warning)s?.{0,40}but i (?:was|am|wasnt|"
        r"didnt|did not|never|havent)|"
        r"(?:account|wallet) (?:was |got |has been )?(?:accessed|logged into|used) from|"
        r"(?:accessed|logged in|signed in) from .{0,30}(?:not me|wasnt me|didnt|never)|"
        r"(?:password|2fa|email|pin)(?: was| got| has been)? (?:reset|changed).{0,40}(?:didnt|never|did not|not) "
        r"(?:request|ask|do|make)",
        # someone the customer names knows the password or keeps signing in ("my ex knows my password")
        r"(?:someone|somebody|he|she|they|my " + _PEOPLE + r") (?:knows|has|got|stole|found|saw) my (?:password|pin|"
        r"login|credentials|2fa|seed)|(?:he|she|they|someone|somebody|my " + _PEOPLE + r") (?:keeps|kept|is|was) "
        r"(?:logging|signing) (?:in|into)",
        r"被黑|盗号|号被盗|账号被盗|被人登录|别人登录|有人登录|异地登录|陌生设备登录|被人改了|密码被改|"
        r"被(?:人|别人|陌生人)(?:在|从|用).{1,10}(?:登录|登陆|登入)|有人(?:在)?(?:试|尝试|想)(?:登录|登陆)?(?:我的)?"
        r"(?:账号|账户|密码|钱包)|"
        r"(?:验证码|登录提醒|登录通知|提醒|通知|短信|邮件).{0,20}(?:但|可|可是)(?:是)?我(?:根本|并|从来)?没(?:有)?(?:要|在|想)?"
        r"(?:登录|登陆|操作|申请|请求)|"
        r"被人修改|账号被盗用|被盗用|被人控制|不是我登录|"
        # "在别的设备上看到我的账号登录过", "发现陌生设备的登录"
        r"(?:看到|发现|显示|提示|有)(?:了)?(?:我的)?(?:账号|账户)?(?:在)?(?:别的|其他|陌生|不认识的|陌生的)(?:设备|手机|电脑|"
        r"地方|国家|ip)(?:上)?(?:的)?(?:登录|登陆)|(?:别的|其他|陌生|不认识的)(?:设备|手机|电脑)(?:上)?(?:看到|发现|显示)"
        r"(?:我的)?(?:账号|账户)(?:有)?(?:登录|登陆)|"
        # the customer did not change it, yet the app says it was changed: "密码我没改过，提示密码已修改"
        r"(?:密码|邮箱|手机号|绑定)我?(?:并|根本|从来)?没(?:有)?(?:改|修改|更改|动|换)过|"
        r"(?:提示|显示)(?:我的)?(?:密码|邮箱|手机号)(?:已|已经)(?:被)?(?:修改|更改|重置)|"
        r"(?:有人|别人|陌生人|其他人)(?:用|拿|在)?(?:我的)?(?:账号|账户|号)?(?:登录|登陆|登上|登进)|"
        r"(?:二次验证|双重验证|两步验证|2fa|谷歌验证器?|验证器|身份验证器).{0,6}被(?:人|别人)?(?:关|关闭|关掉|解绑|改|"
        r"修改|换|重置|删)|"
        r"登录.{0,15}(?:但|可)(?:是)?(?:我)?(?:并|根本|从来)?没(?:有)?(?:登录|登陆|操作)?(?:啊|呀|"
        r"过)?(?:[,，.。!！?？]|$)|"
        r"不是我(?:本人)?(?:申请|请求|发起|登录|登陆)|"
        r"(?:但|可|可是|然而)(?:是)?我(?:并|根本|从来)?没(?:有)?(?:改|修改|更改|重置|申请|换)过?(?:密码|邮箱|手机号|"
        r"绑定)?|"
        # someone else signed in there; "怎么在别的设备上登录", "可以在别人的手机上登录吗" ask how or whether, and
        # "我在别人的电脑上登录过" is the customer's own login
        r"(?<!怎么)(?<!如何)(?<!可以)(?<!能否)(?<!能不能)(?<!能)(?<!想)(?<!要)(?<!我)"
        r"在(?:别的|其他|陌生|另一(?:个|台|部)|不认识的|别人的)(?:手机|设备|电脑|地方|国家|城市)(?:上)?(?:被)?(?:登录|"
        r"登陆)(?!不|失败|吗)(?!.{0,12}(?:会不会|安全吗|安不安全|风险|可以吗|行不行))|收到(?:了)?(?:陌生|不明|莫名(?:其妙)?)的?(?:验证码|登录)|(?:我)?(?:并|"
        r"根本)?没(?:有)?(?:申请|"
        r"请求)(?:过)?.{0,6}(?:验证码|重置)|"
        r"(?:手机号|邮箱|绑定的?手机(?:号)?)被(?:人)?(?:改|换)|(?:手机号|号码|手机卡)(?:码)?被(?:别人|人)(?:拿去|拿走|占用|盗用)|"
        r"换卡攻击|sim卡被|篡改|被(?:人)?入侵|被(?:人|别人)控制|"
        r"(?:有人|别人|陌生人)(?:进入|进了|闯入|登进)(?:了)?(?:我的)?(?:账户|账号|钱包)|"
        r"(?:有人|别人|陌生人|黑客)(?:把我的?|偷偷|擅自)?(?:改|修改|重置|换|解绑|关|关闭)(?:了|掉)?(?:我的?)?(?:绑定的?)?"
        r"(?:密码|邮箱|手机号|二次验证|双重验证|两步验证|2fa|谷歌验证)|"
        r"被(?:人|别人)(?:关闭|关掉|解绑|修改|重置)了?(?:我的)?(?:二次验证|双重验证|两步验证|2fa|谷歌验证)|"
        r"(?:登录|陌生)(?:提醒|通知|提示).{0,10}(?:异地|国外|陌生|不是我|其他|别的|我?(?:没有|并没有|根本没|"
        r"没)(?:登录|登陆|操作))|"
        r"(?:异地|国外|陌生|其他国家|别的国家).{0,6}(?:登录|登陆)(?:提醒|通知|记录)|"
        # "账户好像有人在用" ("可以让家人用我的账户吗" asks whether)
        r"(?:(?:有人|别人|陌生人|其他人)(?:在)?(?:用|使用|盗用)(?:着)?我的(?:账户|账号|钱包)|(?:账户|账号|钱包)(?:好像|似乎|"
        r"可能)?(?:被)?(?:有人|别人|陌生人)(?:在)?(?:用|使用))(?!.{0,8}(?:吗|么|可以|能不能))",
    ], [_PREVENT]),
    ("stolen_funds", "urgent", [
        r"stolen|steal|stole|theft|被盗|被偷|盗走|偷走|盗刷|被转走|转走了|被人转|被划走|被提走|被取走",
        r"(?:someone|somebody|they|a hacker|hackers?) (?:else )?(?:withdrew|withdrawn|transferred|moved|sent|spent|"
        r"emptied|drained|cashed out|took (?:my|all|everything))|"
        r"(?:sent|transferred|moved|withdrawn|went|gone) to (?:an? |some )?(?:unknown|strange|random|unfamiliar) "
        r"(?:address|wallet|account)|(?:address|wallet|account) i (?:dont|didnt|do not|never) (?:know|recogni[sz]e|"
        r"own)|"
        r"(?:转|提|划)(?:到|去|给)了?(?:一个)?(?:陌生|不认识|未知|别人)的?(?:地址|钱包|账户|账号)|"
        r"(?:payments?|transfers?|withdrawals?|transactions?|charges?)s? (?:to|from) (?:someone|somebody|"
        r"an? (?:address|account|"
        r"person|wallet)|people|a stranger) (?:i|we) (?:dont|do not|didnt|never) (?:know|recogni[sz]e)|"
        r"(?:i|we) (?:dont|do not|didnt) recogni[sz]e (?:this|that|these|those|a|the|some)|"
        r"(?:theres|there is|there are|i see|i found|i noticed|i have|found|noticed|saw) (?:an? |some |two |several )?"
        r"(?:strange|suspicious|unusual|weird|odd|unknown|unauthori[sz]ed) (?:transactions?|withdrawals?|transfers?|"
        r"payments?|"
        r"charges?|activity)|"
        r"(?:i|we) (?:did not|didnt|never) (?:do|make|authori[sz]e|approve|send|request) (?:this|that|it|these|those|"
        r"any)\b|"
        r"(?:i|we) (?:did not|didnt|never) (?:withdraw|transfer|send|spend|move) (?:it|them|this|that|anything|any)\b|"
        r"(?:lost|losing) (?:all |most )?(?:of )?(?:my |the )?(?:money|funds|balance|crypto|coins|savings|usdt|btc|"
        r"assets)|"
        r"(?:address|wallet|account|merchant|shop|store|company|site|website|person|seller|app)s? (?:i|we)(?:ve|d)? "
        r"(?:have |had |ve )?never (?:seen|used|heard of|paid|bought from)|"
        r"unrecogni[sz]ed (?:payment|transfer|transaction|withdrawal|charge|deduction)|"
        r"(?:dont|do not|cant|cannot) remember (?:making|doing|sending|authori[sz]ing|buying|paying|ordering)|"
        r"(?:charge|payment|transaction|transfer|withdrawal|purchase)s? (?:that )?i (?:dont|do not|cant) remember|"
        r"(?:一笔|这笔|有笔|几笔)(?:消费|交易|转账|扣款|付款|支出|提现)(?:我)?(?:完全|根本)?(?:不记得|没印象|想不起来)|"
        r"不记得(?:有)?(?:这笔|这个|那笔)(?:消费|交易|转账|扣款|付款)|"
        r"(?:不认识|陌生|不明|莫名)的?(?:转出|转账|交易|扣款|付款|提现|提币|消费|支出)|多了(?:一|几|两)笔|"
        r"(?:发现|看到|出现|有)(?:了)?(?:一|几|两)?笔?(?:异常|可疑|奇怪|不认识)的?(?:交易|转账|提现|扣款|记录|转出)|"
        r"(?:一|几|两)笔(?:我)?不认识的|(?:账户|账号|钱包)(?:里)?有(?:异常|可疑)(?:的)?(?:交易|转账|提现|记录)|"
        r"被(?:人|别人|黑客|陌生人)(?:转|提|划|取|盗|偷)(?:走|出|光)",
        r"(?:withdrawals?|transfers?|payments?|transactions?|charges?|deductions?|purchases?) .{0,50}"
        r"(?:i|we) (?:definitely |certainly |surely |really |absolutely )?(?:didnt|did not|never|dont|do not) "
        r"(?:make|do|authori[sz]e|request|initiate|approve|send|"
        r"recogni[sz]e)|"
        r"(?:balance|wallet|account) (?:went|dropped|is|was|shows|showing|now) (?:to |down to |at )?(?:zero|0|"
        r"empty)(?!\d|\.\d)|(?:wallet|account|balance)(?: is)? (?:completely |totally |now )?empty(?![a-z])|"
        # "balance was 540 yesterday now its 3": what it held, and the little it holds now
        r"(?:balance|wallet|account) (?:was|had) .{0,40}(?:now|today|this morning)(?: it| its| it is| only| just| "
        r"shows| is){0,2} \d|"
        r"without (?:me|my) (?:doing|knowing|touching|approving|asking|say)|"
        r"(?:transactions?|withdrawals?|transfers?|payments?|charges?|purchases?|deductions?) .{0,30}"
        r"(?:not mine|isnt mine|wasnt mine)|(?:i|we) (?:didnt|did not|never) (?:buy|order|purchase) (?:anything|it|"
        r"this|"
        r"that|them)|(?:while|when) (?:i|we) (?:was|were) (?:asleep|sleeping)|i was asleep|"
        r"(?:money|balance|funds|usdt|wallet|account|\d).{0,80}(?:i did nothing|i didnt do anything|i havent (?:done|"
        r"touched) anything)(?! (?:different|wrong|special|unusual|new))|"
        r"unauthori[sz]ed|without (?:my )?(?:permission|consent|authori[sz]ation)|didnt (?:make|authori[sz]e) "
        r"(?:this|that|these|those|it|the|a|any)|wasnt me|not me who|i never (?:made|sent|authori[sz]ed)",
        r"(?:money|funds|balance|coins|tokens|usdt|usdc|btc|bitcoin|eth|ether|crypto|assets|savings|everything)"
        r".{0,25}(?:gone|disappeared|vanished|emptied|drained|"
        r"missing from|taken)|(?:wallet|account).{0,15}(?:emptied|drained|wiped)|(?:empty|drained) (?:wallet|account)",
        r"(?:钱|资金|余额|资产|币|存款|积蓄|usdt|btc|eth|比特币|以太坊).{0,8}(?:不见了|没了|消失|清零|被清空|少了|"
        r"变少|被扣光|全没|"
        r"不翼而飞)|"
        r"(?:不见|少了|没了|消失|被扣|扣了|转走|多了(?:一|几)笔|陌生).{0,20}(?:我|本人)(?:并|根本|从来)?没(?:有)?"
        r"(?:操作|转|提|付|买|授权|消费)|(?:我|本人)(?:并|根本|从来)?没(?:有)?(?:操作|转出|提现|提币|授权|"
        r"消费)过?.{0,10}"
        r"(?:不见|少了|没了|消失|被扣|扣了|转走|一笔)|(?:余额|balance)\s?(?:突然)?(?:变成|变|成了|只剩)(?:了)?\s?(?:0|零)|"
        r"(?:我|本人)(?:并|根本|从来)?没(?:有)?\s?(?:withdraw|transfer|send|转|提)\w*\s?过|"
        r"不是我(?:本人)?(?:操作|转|付|买|提)|我没有(?:操作|转账|授权)|没有授权|未经授权|莫名其妙.{0,6}(?:扣|转|少)|"
        r"(?:我|本人)(?:从来|根本|并)?(?:没|没有|从没)(?:做|操作|发起|进行)过的(?:转账|交易|转出|扣款|付款|消费|提现)|"
        r"(?<!怎么)(?<!如何)(?<!怎样)(?<!在哪)(?:举报|报告|反馈|上报)(?:一笔|一个|几笔|这笔)?(?:异常|可疑|奇怪|陌生)(?:的)?"
        r"(?:交易|转账|扣款|记录|转出)|"
        r"(?:转出|扣款|交易|转账|消费|支付|付款|提现).{0,30}(?:那时候|那时|当时|那会儿)?(?:我)?(?:正|明明)?在睡觉"
        r"(?!.{0,8}(?:会不会|吗|么))|"
        r"(?:交易记录|账单|流水)(?:里|上|中)?(?:出现|有|多)了?.{0,8}(?:国外|境外|陌生|不认识|奇怪)的?(?:消费|交易|转账|扣款)",
    ], [_PREVENT]),
    ("scam", "high", [
        r"scam|scammed|scammer|fraud|fraudster|phishing|impersonat|pretend(?:ing|ed)? to be|"
        # gave a login away through a link someone sent: "clicked a link in an email ... and entered my password"
        r"(?:link|url) (?:in|from) (?:an? |the |some |this |that )?(?:email|e-mail|sms|text|message|dm).{0,80}"
        r"(?:entered|typed|gave|put in|filled in|logged in)|"
        r"claim(?:ing|s|ed)? to be|fake (?:support|"
        r"customer service|okpay|agent|admin|staff|website|site|app|account)|ponzi|rug ?pull|"
        r"ask(?:ed|ing|s)? (?:me )?(?:for|to (?:send|give|share|tell)) (?:them |him |her )?(?:my|the) "
        r"(?:seed|recovery|private key|password|pin|2fa|otp|code|verification code|sms code)|seed phrase|"
        r"(?:recovery|secret|backup|mnemonic) (?:phrase|words)|mnemonic|"
        r"(?:is|was) (?:this|that|it) (?:really|actually|truly) (?:you|from you|okpay|from okpay|official)|"
        r"private key|(?:will|would) be (?:closed|suspended|frozen|deleted|blocked|locked) (?:unless|if (?:i|"
        r"you) dont)|"
        r"unless (?:i|you) (?:click|verify|pay|send|confirm)|"
        r"(?:promised|guaranteed|guarantee) .{0,25}(?:returns?|profit|income|interest)|\d+ ?% (?:daily|weekly|a day|"
        r"a week|per day|"
        r"per week)|(?:investment|trading|signal) group|"
        r"double (?:my|your|their) (?:money|crypto|coins|btc|usdt|investment|funds)|"
        r"(?:mentor|coach|advisor|trader).{0,60}(?:tax|fee|deposit|pay)|(?:pay|paid) (?:a |the )?(?:tax|fee) "
        r"(?:before|to) (?:i can )?(?:withdraw|release|unlock)|"
        r"(?:is|was) (?:this|that|it) (?:email|message|sms|text|call|site|website|link|account|person|guy|number|app) "
        r"(?:really |actually |legit(?:imately)? |genuinely )?from (?:you|okpay)|really from okpay|"
        r"(?:email|message|sms|text|link|site|website|call|caller).{0,40}(?:asks?|asking|asked|wants?) (?:me )?(?:to|"
        r"for) "
        r"(?:confirm|enter|give|send|provide|verify|type) (?:my |your )?(?:password|code|seed|details|login|pin)|"
        r"(?:pay|send|top up|deposit|transfer) .{0,25}(?:to|so (?:they|he|she|i) can) (?:unfreeze|unlock|release|"
        r"withdraw|activate)|"
        r"(?:saying|said|says|claims?|claiming|told me) (?:that )?(?:they|he|she|it)(?: are| is| was| were|re|"
        r"s)? from (?:okpay|"
        r"your|the okpay)|(?:safe|secure|safety|protected) (?:wallet|account|address)|"
        r"(?:fake|suspicious|sketchy|dodgy|phishing) "
        r"(?:link|email|sms|text|message|website|site|call)",
        r"stranger (?:sent|transferred|paid|wired) me|identity theft|stole my identity|"
        r"(?:opened|registered|created) (?:an? )?(?:okpay )?account (?:in|with|using|under) my (?:name|id|identity|"
        r"documents?)|"
        r"blackmail|extort|(?:received|got) .{0,40}from (?:someone|somebody|a stranger|people|a person) (?:i|we) "
        r"(?:dont|do not|didnt) know|(?:receive|forward|pass on) (?:money|payments|funds) for (?:someone|somebody|"
        r"them|him|her|a stranger)",
        r"(?:sent|gave|messaged|dmed|texted|emailed) me (?:a |an |this |the )?(?:link|url|qr code|website)"
        r".{0,30}(?:verify|unlock|log ?in|sign ?in|claim|confirm|upgrade|unfreeze|activate)",
        r"(?:发|给)(?:了)?我?(?:一个)?(?:链接|网址|二维码).{0,12}(?:验证|登录|认证|解冻|领取|激活|升级)|"
        r"是(?:不是)?你们(?:官方)?发的|是官方(?:发)?的吗|"
        r"收到(?:了)?(?:一笔)?(?:陌生人|不认识的人|陌生)的?(?:转账|汇款|钱|款)|"
        r"(?:用|拿)(?:了)?我的(?:身份证|证件|身份|名字|信息)(?:注册|开户|开了|认证)|"
        r"勒索|敲诈|陌生人(?:给我)?(?:转|打|汇)(?:了)?(?:一笔)?(?:钱|款)|莫名(?:其妙)?(?:收到|多了|到账)|诈骗|骗子|被骗|骗了|骗局|骗钱|冒充|假冒|假客服|钓鱼|仿冒|杀猪盘|"
        r"资金盘|助记词|私钥|把我拉黑|拉黑了我|"
        r"(?:问我要|向我要|找我要|索要|(?:让|要|叫)我(?:提供|发|给|告诉|说出|报)).{0,4}(?:密码|验证码|动态码|助记词)|"
        r"(?:自称|声称|号称|说(?:他|她|自己)?是)(?:是)?.{0,4}(?:客服|官方|工作人员|okpay)|钓鱼|假网站|假链接|"
        r"(?:短信|邮件|消息|私信).{0,20}(?:点击|点开|打开)(?:一个)?链接|刷单|兼职.{0,10}(?:付款|转账|充值|垫付)|"
        r"高回报|保本|安全账户|安全钱包|"
        r"翻倍|(?:投资|理财|炒币|荐股)群|老师(?:带|让|叫|说)|(?:每天|每日|日)(?:有|收益|回报|利息|赚)?.{0,3}\d+\s?%|"
        r"(?:网上|网络上|网友|网恋|交友软件|社交软件|群里)认识的(?:人|朋友|网友)?.{0,20}(?:投资|理财|转|充|付|买|赚)|"
        r"网友(?:叫|让|带|拉|介绍|推荐)我.{0,10}(?:投资|理财|充值|转账|炒币)|"
        r"(?:投资|理财|炒币)(?:的)?.{0,20}(?:提不出来|取不出来|无法提现|不能提现|提现不了|出不了金)|"
        r"(?:导师|带单|mentor).{0,20}(?:投资|充值|转账|提现|税|费)|代充值|代充|"
        r"(?:网站|链接|app|账号|群).{0,12}(?:一模一样|很像|仿冒)|解冻费|保证金|(?:交|付|充值|充).{0,8}(?:才能|"
        r"才可以)(?:提现|解冻|出金|提币)",
    ], [r"(?:how (?:do|can|to) (?:i |you )?(?:avoid|spot|recogni[sz]e|protect)|tips|防范|如何识别|怎么识别|怎么防|"
        r"怎样防|怎么避免|如何避免)"]),
    ("frozen_funds", "high", [
        r"frozen|freeze|froze|suspended|suspension|banned|account (?:is |was |got |has been )?restricted|"
        r"restriction on my|on hold|held my|"
        r"holding my (?:money|funds)|blocked my (?:money|funds|account|withdrawal)|"
        r"(?:withdrawals?|funds|money|balance) (?:is |are |was |were |got |has been |have been )?"
        r"(?:blocked|locked|held)|"
        r"account (?:is |was |got )?"
        r"(?:blocked|disabled|closed)|(?:money|funds) (?:is |are )?(?:blocked|held|locked)|"
        r"(?:withdrawals?|withdrawing|transfers?|sending|payments?|deposits?) (?:is |are |was |were |got |have been |"
        r"has been )?"
        r"(?:disabled|blocked|restricted|suspended|locked|paused)|"
        r"(?:locked|blocked|restricted|seized|holding|held|limited) (?:my |all my |our )?(?:funds|money|balance|assets|"
        r"coins|crypto|usdt|withdrawals?)|cant withdraw (?:anything|at all)|not allowed to (?:withdraw|transfer|send)|"
        r"(?:account|wallet) (?:shows|showing|says|status is) (?:as |that it is )?(?:under review|restricted|"
        r"limited|frozen|suspended)|"
        r"(?:account|wallet) (?:cant|cannot|can no longer|is unable to|wont let me|doesnt let me) (?:send|withdraw|"
        r"transfer|move|receive)|(?:cant|cannot|unable to) (?:send|withdraw|transfer|move) (?:(?:money|funds|"
        r"anything|any money) )?any ?(?:more|longer)|can no longer (?:send|withdraw|transfer|move)|"
        r"risk control|risk management|(?:account|wallet) (?:is |was |got |has been )?(?:limited|under review|"
        r"under investigation|"
        r"flagged|locked by you)|(?:you|they|okpay) (?:guys )?(?:have )?(?:closed|deactivated|disabled|suspended|"
        r"banned|blocked|terminated|froze|restricted|locked) (?:my|our) (?:account|wallet|funds)",
        # "my account is locked and I have almost 10k in it": a lock with money behind it is not a login question
        r"(?:(?:locked|blocked|restricted|disabled)\b|(?:cant|cannot|unable to|not able to) (?:log ?in|sign ?in|get in|"
        r"access)).{0,40}(?:(?:have|has|got|theres|there is|with) [^,.!?]{0,20}?"
        r"(?:\d|money|funds|savings|salary|balance|usdt|btc|crypto|coins|cash)[^,.!?]{0,15}(?:in (?:it|there)|inside)|"
        r"my (?:money|funds|savings|salary|balance) (?:is |are )?(?:in|inside|stuck))",
        r"(?:登不上|登不进|进不去|登录不了|登陆不了|登不了).{0,20}(?:里面|账户里|钱包里|账号里)(?:还)?有.{0,6}(?:钱|资金|余额|"
        r"币|u)|(?:锁住|锁定|锁了|扣住|扣押|扣留|冻结)(?:了)?(?:我的?)?(?:钱|资金|余额|资产|币)|"
        r"冻结|冻住|被冻|封号|封我|封.{0,2}号|被封|封了|封禁|限制交易|限制提现|被限制|资金被锁|钱被锁|账户被禁|被停用|停权|"
        r"(?:账户|账号|钱包)(?:被)?(?:停用|禁用|关闭)了|"
        r"暂停使用|扣押|"
        r"(?:提现|提币|转账|出金|交易)(?:功能)?(?:被)?(?:禁用|关闭|停用|暂停|锁)|(?:不让|不给|禁止)(?:我)?(?:提现|"
        r"提币|转账|出金)|"
        r"(?:钱|资金|余额|资产|币)(?:被)?(?:锁住|锁定|扣住|卡住不给)|风控|风险(?:账户|账号|用户)|(?:账户|账号)(?:被)?(?:异常|受限|限制)|"
        r"(?:账户|账号|钱包)(?:显示|提示|状态)(?:为|是)?(?:已)?(?:被)?(?:受限|限制|冻结|异常)|"
        r"(?:余额|钱|资金)(?:不能|没法|无法)(?:动|用|提)|(?:余额|钱|资金)动不了|"
        r"(?:限额|额度)(?:突然|莫名|无故)?(?:被)?(?:降低|下调|调低|减少|降)了",
        r"(?:limit|limits) (?:was |were |got |has been |have been )?(?:lowered|reduced|cut|decreased)",
    ], []),
    # the guide's own step 2: a reset that did not lift the lock needs support to verify the holder; a lock with
    # money behind it is not a login question either ("重置过两次了还是锁着", "reset it but it still says locked")
    ("account_locked", "high", [
        r"reset (?:my |the )?(?:password|pw|it)?.{0,40}(?:still|yet|again)(?: \w+){0,3} (?:locked|blocked)|"
        r"(?:locked|blocked).{0,40}(?:already|even after|despite|after) (?:i )?(?:tried to |trying to )?(?:reset|"
        r"resetting|changing)|locked.{0,60}(?:verify|confirm) (?:me|my identity)(?!.{0,20}\?)",
        r"(?:重置|重设|改|找回)(?:了|过).{0,16}(?:还是|仍然|依然|仍|还)(?:是)?(?:提示|显示|说|被)?.{0,6}(?:锁|冻结)|"
        r"(?:重置|重设)(?:密码)?(?:也|都)(?:没用|不行|没有用|不管用).{0,12}锁|"
        r"(?:锁|锁定|锁住|锁了|被锁).{0,20}(?:已经|都|也)(?:重置|重设|改)(?:了|过)(?:密码)?|"
        r"(?:锁|锁定|锁住|锁了|被锁)(?:了)?.{0,12}(?:里面|账户里|账号里|钱包里)(?:还)?有.{0,8}(?:钱|资金|余额|币|u|\d|"
        r"[一二两三四五六七八九十百千万]+(?:块|元|美元|美金|u))",
        # the reset itself fails again and again, or failed for this customer ("重置密码失败了"), or was redone
        # and still fails; "重置密码失败怎么办" asks what the login answer's second step says
        r"(?:重置|重设|找回)(?:密码)?(?:的时候|时)?(?:一直|总是|老是|还是|又)(?:失败|不成功|没成功)|"
        r"(?<!如果)(?<!万一)(?<!要是)(?:重置|重设|找回)(?:密码)?(?:的时候|时)?(?:也|都)?(?:失败|不成功|没成功)"
        r"(?!.{0,12}(?:怎么办|咋办|怎么回事|怎么处理|会怎样|会怎么样|什么原因|为什么|吗|么))|"
        r"忘记密码.{0,16}(?:一直|总是|老是|还是|都)失败|"
        r"(?:重置|重设)(?:了|过)?(?:密码)?(?:好几|[两三四五几多]|\d+)(?:次|遍).{0,12}(?:还是|仍然|依然|都|也)(?:不行|失败|登不|"
        r"登录不|进不去|没用)|(?:重置|重设).{0,20}(?:失败|无效|不成功|没成功|过期|不行|登不|进不去).{0,12}(?:试|弄|重置|点)了"
        r"(?:好几|[两三四五几多]|\d+)(?:次|遍)|"
        # a lock that asks for the holder's identity, or an account the app says is unusable
        r"(?:锁|锁定|锁住|锁了).{0,16}(?:需要|要求|让我|要我|叫我)(?:进行|做)?(?:身份验证|验证身份|人工验证|人工审核)(?!.{0,6}(?:吗|么))|"
        r"(?:提示|显示)(?:该|此|我的)?(?:账户|账号)(?:已)?(?:被)?(?:不可用|停用|禁用)",
        r"(?:password )?reset (?:keeps|kept) failing|(?<!if )(?<!if the )(?:password )?reset (?:has )?(?:failed|fails|"
        r"was unsuccessful|didnt work|did not work)(?!.{0,30}(?:what (?:should|do|can)|why|how))|"
        r"(?:cant|cannot|unable to|couldnt) (?:complete|finish) (?:the )?(?:password )?reset|"
        r"locked.{0,40}(?:verify|confirm) my identity(?!.{0,20}\?)",
    ], []),
    # the phone number or e-mail the account is registered with is gone: the login answer's reset cannot reach it
    ("account_access", "high", [
        r"(?:registered|linked|bound|old|previous|former) (?:phone|phone number|mobile number|number|sim|email|"
        r"e-mail|email address)(?: \w+){0,3} (?:is |was |has been )?(?:no longer|not in use|deactivated|"
        r"disconnected|lost|gone|expired|cancelled|canceled|stopped working)|lost access to (?:my |the )?(?:email|"
        r"phone|number|sim|authenticator|2fa)|(?:lost|deleted|wiped|no longer have) (?:my |the )?(?:google )?"
        r"(?:authenticator|2fa app|2fa codes?)|"
        r"(?:no longer|dont|do not) have (?:access to )?(?:my |the )?(?:old |registered )?"
        r"(?:phone number|number|sim|email)",
        r"(?:注册|绑定)(?:用|时)?的?(?:手机|手机号|手机号码|号码|邮箱|电话)(?:已经|早就|现在)?.{0,4}(?:停用|不用了|没用了|注销|"
        r"丢了|不在了|用不了|作废|停机)|"
        r"(?:谷歌验证器?|身份验证器|验证器|二次验证|双重验证|2fa)(?:换手机后|换了手机(?:后|以后)?|在旧手机上)?(?:也)?"
        r"(?:没了|丢了|删了|被删|不见了|用不了|打不开)|"
        r"(?:旧|以前的|原来的)(?:手机号|手机号码|号码|邮箱|手机卡)(?:已经|早就)?.{0,4}(?:停用|不用了|注销|丢了|用不了|停机|"
        r"没了)|(?:手机号|手机号码|号码)(?:已经|早就)?(?:停机|停用|注销)了|"
        r"(?:(?:手机号|手机号码|号码|手机卡|邮箱)(?:已经|早就)?(?:换了|改了|换掉了|不用了|注销了|丢了)|换了(?:新的?)?(?:手机号|"
        r"手机号码|号码|手机卡|邮箱)).{0,16}(?:收不到|接收不到|发不到|没法接|登录不|登不|重置不|无法)",
        r"(?:changed|switched|new) (?:my )?(?:phone )?number.{0,40}(?:cant|cannot|dont|do not|no longer) "
        r"(?:get|receive)",
    ], []),
    # the customer states their own blocking case that only a person can resolve (the guide sends it to support:
    # a lock, money already sent to the wrong party, a refund, a review refused with no reason); asking how/whether
    # ("帐号被锁定了怎么解锁", "转错人了怎么办") stays the FAQ answer, unless it asks the team to act on it
    ("account_locked", "high", [
        r"(?:account|acc|acct|wallet)(?: \w+){0,2} (?:is |was |got |has been |been |s )?(?:now )?(?:locked|blocked)|"
        r"locked out",
        r"(?:账户|账号|帐号|帐户|钱包)(?:现在)?(?:已经|已|又)?(?:被)?(?:锁定|锁住|锁死|锁了)|(?:被锁|锁定|锁住|锁死)了|"
        r"提示.{0,6}(?:已)?(?:被)?锁定",
    ], [_ASKS]),
    ("wrong_transfer", "high", [
        r"(?:sent|transferred|paid|wired)(?: \w+){0,4} (?:to )?(?:the |a )?wrong (?:person|account|wallet|address|"
        r"recipient|number|phone number|account number|guy|user|id)",
        r"(?:转|打|汇|付)(?:账|帐|款|钱)?(?:转|打|付)?错(?:了)?(?:人|账|帐|号|地址|对象|钱包)",
    ], [_ASKS]),
    ("refund_request", "normal", [
        r"(?:i want|i would like|id like|i need|requesting) (?:a |my )?(?:refund|money back)|refund me",
        r"(?:我)?(?:要|想|想要|需要)(?:申请)?退款|请(?:帮我)?退款|帮我退款",
    ], [_ASKS]),
    ("review_problem", "normal", [
        r"(?<![a-z])(?:kyc|verification(?! code)|identity check|(?<!transaction )(?<!order )id|selfie|photo|passport|"
        r"documents?)(?: \w+){0,3} "
        r"(?:keeps? (?:getting |being )?|got |was |were |has been |is |are )?(?:rejected|declined|denied|refused)|"
        r"(?:rejected|declined|denied|refused) my (?:id|kyc|verification|documents?|selfie|photo|passport)",
        r"(?:认证|验证(?!码)|审核|人脸|刷脸|kyc)(?:资料|申请|材料)?(?:一直|又|还是|总是|老是)?(?:被)?(?:拒绝|驳回|拒|没通过|"
        r"未通过|不通过|没过)",
    ], [_ASKS, r"blurr|unclear|not clear|too dark|glare|expired|cropped|模糊|不清|看不清|过期|反光|太暗|原因是"]),
    ("double_charge", "high", [
        r"charged (?:me )?(?:twice|two times|double|2 times|three times|multiple times)|double[- ]?(?:charged|"
        r"charge|payment|billed|debited|deducted)|duplicate (?:charge|payment|transaction|deduction)|"
        r"paid twice|deducted twice|debited twice|billed twice|taken twice|charged more than once|"
        r"(?:went through|processed|charged|deducted|debited|billed|taken|came out|executed|sent|paid|withdrawn) "
        r"(?:me )?(?:twice|two times|2 times|2x|x2|double|three times|3 times)(?! (?:the|what) (?:amount|price|sum))|"
        r"(?:charged|billed|debited|deducted) (?:me )?(?:two|2|multiple|several) times|"
        r"(?:charged|deducted|debited|billed|taken|withdrawn|went through|processed)(?: [a-z]+){1,4} (?:twice|"
        r"two times|2 times|2x)\b|"
        r"(?:same|one) (?:payment|charge|transaction|purchase|order|top ?up).{0,20}(?:twice|two times|2x|double)|"
        r"(?:two|2|duplicate|double) (?:identical |same )?(?:charges|debits|deductions|payments) for|"
        r"(?:two|2|duplicate) (?:charges|debits|deductions|payments|transactions|withdrawals).{0,40}(?:same|identical) "
        r"(?:amount|order|purchase|item|payment)",
        r"扣了两次|扣款两次|两次扣款|重复扣款|重复扣费|重复支付|重复收费|多扣|扣了两笔|扣两次|扣费两次|付了两次|"
        r"被扣了两|扣了双倍|收了两次|扣.{0,3}(?:两|2|二|三|3)(?:次|遍|回|笔)|重复(?:扣|收|付|支付|交易)|"
        r"(?:一|同一)(?:笔|次)(?:钱|款|订单|交易|付款|支付|充值).{0,6}(?:两|2)(?:次|遍|笔)|"
        r"(?:转|扣|付|支付|充值)了(?:两|2)次.{0,12}(?:只|就|才)(?:点|付|转|操作|按)了(?:一|1)次|"
        r"(?:付款|扣款|交易|支付|充值|订单|转账)(?:被)?重复|重复(?:了)?(?:一次|一笔|两次)",
    # the customer's own slip: "accidentally paid twice the amount I meant to" (the cancel FAQ)
    ], [r"(?:paid|sent|transferred|typed|entered) (?:in )?twice (?:the|what|as much)"]),
    ("legal", "high", [
        r"lawyer|attorney|solicitor|lawsuit|sue (?:you|okpay|them|your)|suing|legal action|take (?:you|this) to "
        r"court|court|police|regulator|regulatory|report (?:you|okpay) to|consumer protection|ombudsman|"
        r"\bsec\b|\bfca\b|\bcftc\b|\bfbi\b|file a (?:chargeback|dispute|claim|report)|report (?:you|okpay|this|"
        r"your company)\b|"
        r"(?:go|going) to the (?:media|press|news)",
        r"chargeback|charge back|dispute .{0,30}with (?:my|the) (?:bank|card|credit card)",
        r"拒付|报案|警方|派出所|公安局|律师|起诉|告你们|告到|法院|报警|警察|公安|监管|银保监|证监会|消协|消费者协会|12315|法律途径|法律责任|立案|"
        r"仲裁|维权|金管会|消委会|检举|举报你们|曝光你们|媒体曝光",
    ], []),
    # the account holder died: next of kin, estate, inheritance ("my phone died" is not one)
    ("deceased", "high", [
        r"passed away|deceased|executor|next of kin|inheritance|inherit|death certificate|(?:his|her|the) estate|"
        r"(?:father|mother|dad|mum|mom|husband|wife|son|daughter|brother|sister|grand(?:mother|father|ma|pa)|parent|"
        r"partner|uncle|aunt|relative|holder|owner) (?:has |had |recently |just |sadly )?(?:died|passed)",
        r"去世|过世|离世|逝世|身故|病故|遗产|继承|遗物|已故|往生|死亡证明",
    ], []),
    # paid a seller who did not deliver or will not refund: a person takes up the dispute
    ("merchant_dispute", "normal", [
        r"(?:seller|merchant|shop|store|vendor|website)s?.{0,40}(?:never (?:shipped|sent|delivered)|didnt (?:ship|"
        r"deliver|"
        r"send (?:it|the|anything))|wont give (?:me )?(?:my )?(?:money|refund)|"
        # a refusal alone may be a question about the refund policy; asking us to step in is a dispute
        r"(?:refuses?|refused|wont|will not) (?:to )?refund.{0,60}(?:(?:can|could|will) (?:you|okpay|u)|step in|"
        r"intervene)|"
        r"disappeared|blocked me|took (?:my|the) money)|(?:goods|item|order|package|parcel|product)s? (?:never|didnt|"
        r"did not|hasnt|havent|has not|have not) (?:arrived|came|come|been delivered|been shipped)|never (?:shipped|"
        r"delivered) (?:it|the|my)",
        r"(?:商家|卖家|店家|商户|对方)(?:一直|还|就|都)?(?:不|没|未)(?:有|给|肯)?(?:我)?(?:发货|退款|退钱|肯退)|"
        r"(?:商家|卖家|店家)(?:也|都|一直|根本)?(?:不理|不回|不承认|不认账).{0,10}|(?:商家|卖家|店家)"
        r".{0,10}(?:跑路|消失|拉黑)|拒绝退款|不肯退|纠纷|争议|申诉|(?:和|与|跟)描述.{0,4}(?:不一样|不符|不同)",
        r"(?:open|raise|file|start|make) a dispute|dispute (?:a|an|this|the|my) (?:transaction|payment|charge|order)|"
        r"not as described",
    # "can I get a refund if the seller never ships": a question about the refund policy, not a case
    ], [r"(?<![a-z])(?:if|what if|in case|suppose) (?:the |a |an |my )?(?:seller|merchant|shop|store|vendor|website|"
        r"goods|item|order|package)|(?:如果|万一|要是)(?:商家|卖家|店家)|(?:商家|卖家|店家).{0,10}的话"]),
    ("asked_for_human", "normal", [
        # "can someone from your team look at my account", "is there anyone who can actually help"
        r"(?:someone|somebody|anyone|anybody) (?:from|on) (?:your|the|okpay) (?:team|staff|support|side)|"
        r"(?:someone|somebody|anyone|anybody) (?:who|that) (?:can|could) (?:actually |really )?help|"
        r"(?:get|give|find|bring) me (?:a |an |some )?(?:real |actual |live )?(?:person|human|agent|staff)|human|"
        r"real person|live person|actual person|real agent|live agent|an agent|to an agent|agent please|"
        r"representative|\brep\b|operator|someone real|real someone|talk to (?:a |an )?(?:someone|somebody|person)|"
        r"speak (?:to|with) (?:a |an )?(?:someone|somebody|person)|not a bot|no bots?\b|stop the bot|"
        r"staff member|real human|manager|supervisor|^\W*(?:an? )?(?:agent|live agent|human|person|operator|"
        r"representative|real person)s?\W*$|"
        r"i (?:want|need|would like|wanna) (?:a |an |some |to talk to |to speak to |"
        r"to speak with )?(?:customer service|"
        r"customer support|an? agent|a human|a person|a representative|staff|someone)\W*$|(?:talk|speak|chat) (?:to|"
        r"with) (?:an? )?(?:agent|human|staff|"
        r"representative)|"
        r"^\W*(?:customer service|customer support|agent|human|operator|live support)s? (?:please|pls|plz|now|"
        r"asap)\W*$|(?:can|could|please|pls|plz) (?:someone|somebody|an agent|a person|you|u) "
        r"(?:from (?:your|the|okpay) (?:team|staff|support) )?(?:call|phone|ring|contact|reach|email|e-mail|"
        r"message|text|dm|get back to) me|call me (?:back|please|asap|now)|(?:have|get) (?:someone|an agent|"
        r"a person) "
        r"(?:call|contact|reach)",
        r"人工|真人|活人|客服小姐姐|客服小哥|客服妹妹|客服姐姐|找个人|找人工|经理|主管|负责人|"
        r"(?:请|让|麻烦|叫)(?:客服|工作人员|你们|专员|专人|人)?(?:打电话给我|给我打电话|联系我|回电|回我电话)|(?:客服|"
        r"专员)(?:联系|回电)我|"
        r"(?:别|不要|不想)(?:跟|和|用)?机器人|找(?:个|一个)(?:客服|真人|人)(?:来|过来|聊|说|"
        r"跟我)?(?![a-z\u4e00-\u9fff]*(?:怎么|在哪|哪里))",
    ], [r"人工智能|artificial intelligence"]),
    ("asked_for_human", "normal", [
        r"(?:talk|speak|chat) (?:to|with) (?:your |the )?(?:support|customer service|team|staff|someone from)|"
        r"(?:connect|transfer|put) me (?:to|through|with)|(?:connect|transfer|put) me(?: through| over)?\W*$|"
        r"i (?:want|need|would like|wanna) (?:to )?(?:talk|speak|"
        r"contact)",
        r"(?:我要|我想|帮我|给我|麻烦)(?:找|转|接|联系)?客服|(?:叫|让)客服|客服(?:出来|呢|快点|回复我)|"
        r"(?:请|麻烦|帮我|帮忙)(?:你们)?(?:帮我)?(?:处理|解决|解锁|恢复)(?:一下)?(?:吧|啊)?\W*$",
    ], [_HOWTO]),
    ("complaint", "normal", [
        # asked before and still waiting: "I've contacted support 3 times", "this is my third time asking"
        r"(?:contacted|wrote to|written to|emailed|messaged|asked|called|chased) (?:you|support|customer service|"
        r"your team|you guys)?.{0,20}(?:\d+|two|three|four|five|several|many|multiple) times|"
        r"(?:third|fourth|fifth|3rd|4th|5th) time (?:asking|writing|contacting|i ask|i write|i contact)|"
        # a message sent days ago, even asked as "how long do replies take?": "我发了邮件两天了"
        r"(?:i|ive) (?:already )?(?:sent|emailed|submitted|opened|wrote)(?: (?:an?|the|my|you|you an?))? "
        r"(?:email|e-mail|ticket|message).{0,12}" + _LONG_WAIT + r"|"
        r"(?:i|ive) (?:already )?(?:emailed|messaged|contacted|wrote to) (?:you|support|customer service|your team)"
        r"(?: guys)?.{0,6}" + _LONG_WAIT + r"|"
        r"(?:发了|发过|提交了|提交过|写了|开了)(?:一封|一个|一条)?(?:邮件|工单|消息|私信).{0,8}" + _LONG_WAIT + r"|"
        r"give (?:me )?(?:back )?my money(?: back)?|(?:want|need|demand) my money back (?:now|immediately|today|asap)|"
        r"complain|complaint|terrible|horrible|awful|worst|useless|ridiculous|unacceptable|disgusting|pathetic|"
        r"fed up|rubbish|garbage|trash|joke of a|shame on|never (?:use|using) .{0,20} again|waste of time|"
        r"(?:is|what) a joke|disappoint|unhappy|not happy with|dissatisfied|compensat|scandal|outrage|incompetent|"
        r"(?:very|so|really) (?:bad|poor) service|"
        r"poor service|bad service|frustrat|(?:nobody|no one|noone) (?:is )?(?:answer|repl|respond|help|get(?:s|"
        r"ting)? back)|"
        r"(?:support|service|response|reply|replies|you guys|your team|agents?|staff) (?:is |are )?(?:so |too |very |"
        r"really |"
        r"extremely )?(?:slow|bad|poor|terrible|unhelpful|useless|rude|lazy)",
        r"(?:问|联系|找|催|提交)了(?:你们)?(?:好几|[两三四五几多]|\d+)(?:次|遍)|第[三四五六](?:次|遍)(?:问|联系|找|催|提交)|"
        r"^\W*退钱\W*$|把钱退给我|还我钱|投诉|客诉|差评|垃圾(?!箱|邮件|桶)|超烂|很烂|好烂|太差|真差|什么破|破app|破软件|坑人|坑爹|恶心|气死|忍无可忍|"
        r"无语|离谱|太烂|烂透|骗人的吧|没人管|"
        r"没人回|没人理|等了(?:好)?几天|欺负人|太坑|好坑|真坑|坑死|这(?:是)?什么(?:破|烂)?服务|服务(?:太|真|好)?(?:差|"
        r"烂)|"
        r"失望|黑心|霸王条款|不要脸|不满意|很不满|非常不满|赔偿|态度(?:太|真|很|好|极其)?(?:差|烂|恶劣)|(?:客服|"
        r"回复)(?:太|真|好)?慢|效率(?:太|真)?低",
    ], []),
    # the customer already did what an answer would say: "tried everything", "方法都试了"
    # identity checks that went wrong for this customer: refused again and again, refused without a reason,
    # approved without the higher limits the answer promises; the FAQ says how reviews work, not why this one did not
    ("review_problem", "normal", [
        _VERIFYING + r".{0,30}(?:rejected|declined|denied|refused|failed)(?: \w+){0,2} (?:again|twice|(?:two|three|"
        r"four|five|several|multiple|many|\d+) times)",
        _VERIFYING + r".{0,40}(?:no reason (?:was |is )?(?:given|provided)|without (?:a |any )?(?:reason|"
        r"explanation)|(?:didnt|did not|doesnt|wont) (?:say|tell me|explain|give (?:me )?(?:a |any )?(?:reason|"
        r"explanation)))",
        r"(?:kyc|verification|review) (?:was |is |got |has been )?(?:approved|passed|done|completed).{0,30}"
        r"(?:but|yet)",
        _VERIFYING + r".{0,12}(?:被拒|被驳回|驳回|拒绝|没通过|未通过|失败|不通过)(?:了)?.{0,12}"
        r"(?:好几|十几|几十|[两三四五几多]|\d+)(?:次|遍)|"
        + _VERIFYING + r".{0,20}(?:一直|总是|老是|还是)?(?:失败|不通过|没通过|被拒|过不了|通不过).{0,12}"
        r"(?:试|弄|提交|传|做)了"
        r"(?:好几|十几|几十|很多|好多|无数|[两三四五几多]|\d+)(?:次|遍)|"
        + _VERIFYING + r".{0,20}(?:也|都|并)?(?:没|未|不)(?:有)?(?:说|给|告诉|告知|解释)(?:我)?(?:任何)?(?:原因|理由)|"
        r"(?:认证|验证|审核)(?:已经|都)?(?:通过|成功|完成)(?:了)?.{0,6}(?:但|可|却|然而)(?:是)?.{0,20}(?:没|未|不|还是)|"
        r"(?:认证|验证|审核)(?:过|通过|完成)(?:了)?.{0,16}(?:限额|额度)(?:还是|仍然|依然|也|都|并)?(?:没|未|没有)(?:提高|提升|变|"
        r"增加|上调)|(?:认证|验证|审核)(?:过|通过|完成|完)了?.{0,16}(?:还是|仍然|依然)(?:转不|付不|提不|不能|无法|用不了|不行)|"
        + _VERIFYING + r".{0,20}(?:被拒|拒绝|没通过|未通过|不通过|驳回).{0,20}(?:证件|身份证|护照|资料|信息)(?:都|全)?"
        r"是真的|"
        r"(?:证件|身份证|护照|资料|信息)(?:都|全)?是真的.{0,16}(?:被拒|拒绝|没通过|未通过|不通过|驳回)|"
        r"(?:传|上传|交|提交)错(?:了)?(?:证件|资料|照片|文件|身份证)",
        r"(?:verified|approved|passed).{0,40}limits? (?:still )?(?:(?:havent|hasnt|didnt|did not|not) (?:gone up|"
        r"increased|changed)|(?:is|are) still (?:the same|low))|"
        r"(?:rejected|declined|denied|failed).{0,40}(?:documents?|id|passport)s? (?:is|are) "
        r"(?:real|genuine|valid|legit)|(?:documents?|id|passport)s? (?:is|are) (?:real|genuine|valid|legit).{0,40}"
        r"(?:rejected|declined|denied|fail)",
    ], [r"(?<![a-z])(?:if|what if|in case)(?![a-z])|如果|万一|要是"]),
    # the customer did two of the answer's steps and it still fails: "清了缓存，换了网络，还是登不进去"
    ("tried_already", "normal", [
        r"(?:按|照|跟着)(?:你们|你|着|照)(?:说的|的方法|的步骤|的办法|的建议)?(?:都|全)?(?:检查|试|做|操作|排查|弄)(?:过)?了?"
        r".{0,20}(?:还是|仍然|依然|还)(?:不|没|是|在|卡|失败|登)|(?:都|全都|全部)(?:检查|排查|确认)(?:过)?了.{0,20}"
        r"(?:还是|仍然|依然)|(?:维护|故障)(?:已经)?(?:结束|恢复|修好|完成)了?.{0,12}(?:还是|仍然|依然)(?:失败|不行|转不|付不|卡)|"
        r"(?:服务)?状态页(?:面)?(?:也|都)?(?:显示|看了|说)?(?:也)?(?:正常|没问题).{0,16}(?:还是|仍然|依然)(?:失败|不行|转不|付不|卡|"
        r"没到)|(?:都|也|还是|仍然)(?:不行|失败|没用|付不|转不).{0,30}(?:服务)?状态页(?:面)?(?:也|都)?(?:显示|看了|说)?(?:也)?"
        r"(?:正常|没问题|没(?:有)?(?:显示)?(?:维护|故障))",
        _STEP_EN + r".{0,40}" + _CHECKED_EN + r".{0,60}(?:still|yet) (?:fails|failing|failed|not working|doesnt work|"
        r"stuck|pending|declined|cant|wont)|"
        r"(?:maintenance (?:is |was |has )?(?:over|ended|finished|done)|status page (?:says|shows|is) "
        r"(?:everything is |all )?(?:fine|ok|okay|normal|green|no issues|operational)).{0,40}still|"
        r"(?:fails|failed|failing|declined|doesnt go through|didnt go through).{0,40}(?:i |ive )?(?:already )?"
        + _STEP_EN + r".{0,40}" + _CHECKED_EN,
        _DONE_ZH + r".{0,20}" + _DONE_ZH + r".{0,30}(?:还是|仍然|依然|都|也)(?:不行|没用|失败|登录不|登不|进不去|一样|"
        r"没到|不能|无法|报错|付不|转不|提不|充不|卡)",
    ], []),
    ("tried_already", "normal", [
        r"tried everything|tried (?:all|every) (?:the |of the |your )?(?:steps|things|solutions|suggestions|options|"
        r"ways|methods)|"
        r"(?:did|done|followed|tried) (?:all|every(?:thing)?) (?:the |of the |your |in the )?(?:steps|instructions|"
        r"suggestions|"
        r"solutions|advice|faq)|nothing (?:works|worked|helps|helped)|none of (?:it|that|this|them|these|the \w+) "
        r"(?:works|worked|helps|helped)",
        r"都试(?:过)?了|全都试|所有(?:的)?方法|各种方法|什么方法都|怎么(?:弄|搞|试)都不行|都不管用|都没用|方法都(?:用|"
        r"试)",
    # "4G和wifi都试了" tried two networks, not every step
    ], [r"(?:和|跟|与|或)[a-z0-9\u4e00-\u9fff]{1,6}都试(?:过)?了"]),
    # the money went but did not land, or came back less: "失败了但钱被扣了", "显示成功但对方没收到",
    # "the seller says it never came through", "my balance is lower than it should be", "对方不肯还"
    ("transaction_investigation", "normal", [
        r"(?:failed|declined|didnt go through|did not go through|unsuccessful).{0,40}(?:but|yet|and|still).{0,30}"
        r"(?:deducted|charged|debited|taken|left my)|(?:deducted|charged|debited).{0,40}(?:but|yet).{0,30}(?:failed|"
        r"declined|not (?:received|arrived))|"
        r"(?:says|shows|showing|marked|status is)(?: \w+){0,3} (?:completed|complete|successful|success|sent|"
        r"confirmed|paid|done).{0,60}(?:but|yet|however)|"
        # ... and the other way round: "they say it never came through, my app says completed" ("对方说没收到" alone
        # asks about a delay, the FAQ's question)
        r"(?:never|didnt|did not|hasnt|has not|havent|have not|not) (?:get|got|receive|received|come|came|arrive|"
        r"arrived|came through|gone through).{0,60}(?:app|it|status|history|wallet|okpay|mine) (?:says|shows|showing)"
        r"(?: it)?(?: was| is)? (?:completed|complete|successful|sent|confirmed|paid|done)|"
        r"(?:credited|received|arrived|deposited|showing|shows)(?: \w+){0,2} (?:is |was )?less than|"
        r"(?:returned|bounced|reversed) (?:the |my )?(?:withdrawal|transfer|payment).{0,40}where|"
        r"(?:withdrawal|transfer|payment) (?:was |got |has been )?(?:returned|bounced|reversed).{0,40}(?:where|missing|"
        r"not (?:back|in))|"
        r"customer (?:says|said|claims) (?:they |he |she )?paid.{0,30}(?:i|we) (?:didnt|did not|havent|never) "
        r"(?:get|receive|got)|"
        r"(?:withdrawal|transfer|payment|payout|refund|deposit)s? (?:was |is |has been |got )?(?:approved|completed|"
        r"processed|sent|successful|confirmed).{0,40}(?:but|yet)(?: \w+){0,4} (?:never|not|hasnt|havent|didnt|isnt)|"
        r"(?:balance|funds) (?:\w+ )?(?:is |looks |seems )?(?:lower|less|smaller) than (?:it should|expected|before|"
        r"normal)|(?<![a-z])(?:about |around |roughly )?\d[\d,.]*(?: [a-z]+)? (?:is|are|went) missing|"
        r"(?:refuses?|refused|wont|will not|doesnt want to|does not want to) (?:to )?(?:return|give (?:it|them|the "
        r"money|my money) back|send (?:it|them|the money) back|pay (?:me )?back)",
        r"(?:失败|没成功|不成功|未成功|没到账|没收到|没有到账)(?:了)?.{0,12}(?:但|可|却|然而)(?:是)?.{0,8}(?:扣|被扣)|"
        r"(?:显示|提示|状态)(?:是|为)?(?:已)?(?:成功|完成|已完成|已到账|已转出|已支付).{0,12}(?:但|可|却|然而|[,，])(?:是)?"
        r".{0,12}(?:没|未)(?:有)?(?:收到|到账|入账)|"
        r"(?:提现|转账|付款|退款|充值|汇款)(?:已经)?(?:审核)?(?:通过|成功|完成|批准)(?:了)?.{0,6}(?:但|可|却)(?:是)?.{0,12}"
        r"(?:没|未)(?:有)?(?:到|收到|入账|到账)|"
        r"(?:余额|钱)(?:比|跟)(?:应该|之前|实际|预期|原来).{0,6}(?:少|不对)|"
        r"(?:转|付|充|提|汇)了?\s?\d[\d,.]*.{0,12}只(?:收到|到账|到了|到|剩)|"
        r"(?:充值|提现|提币|入金|出金)(?:的)?(?:钱|款|币)?.{0,6}(?:到|进|充到|转到)了?(?:别人|其他人|陌生人)的?"
        r"(?:账户|账号|钱包|卡)|"
        r"(?:提现|转账|汇款|付款)(?:到.{0,6})?(?:被)?(?:退回|退票|打回)了?.{0,12}(?:钱|款)?(?:去哪|在哪|没|少)|"
        r"(?:客户|买家|顾客)(?:说|表示)(?:已经)?付(?:款|钱)?(?:了)?.{0,6}(?:我|但|可)?(?:没|未)(?:有)?收到|"
        r"(?:对方|收款人|那个人|他|她)(?:不肯|不愿意|拒绝|不愿|不)(?:还|退|返还|退还|归还)(?:钱|给我)?(?![a-z\u4e00-\u9fff]*(?:怎么|吗))|"
        # ... unless asking whether that is the usual delay (dev2: "...余额没变，是延迟吗" is the delay FAQ's)
        r"(?:扣了|被扣|已扣|扣款(?:成功|了)).{0,12}(?:但|可|却|然而)(?:是)?.{0,12}(?:没|未)(?:有)?(?:收到|到账|入账)"
        r"(?!.{0,10}(?:是不是|是)?(?:延迟|正常)(?:吗|么|的))|"
        r"(?:失败|没成功|不成功|未成功)(?:了)?[,，、\s]?(?:钱|款|余额)(?:也|还|却|都)?(?:被)?扣(?:了|掉)|"
        r"(?:失败|没成功|不成功|未成功|取消)(?:了)?.{0,10}(?:钱|款)(?:也|还|却|都)?(?:没|没有|未)(?:退|退回|回来|返还|到账)"
        r"(?!.{0,6}(?:吗|么))|"
        r"(?:显示|提示)(?:已)?(?:成功|完成).{0,12}余额(?:一直|还是|都)?(?:没|没有|未|不)(?:变|增加|加|动|到|更新)"
        r"(?!.{0,10}(?:吗|么|是不是))|"
        r"(?:填|输|写|转|选)错.{0,16}(?:钱|款)?(?:已经|都)(?:转|付|打|汇)(?:出去|过去|走|出)了",
        r"wrong (?:amount|address|account|person|recipient|number).{0,60}(?:already|has) (?:went|gone|been) "
        r"(?:through|sent|processed|completed)|(?:cancell?ed|failed|declined|reversed).{0,40}(?:never|didnt|did not|"
        r"havent|have not|still (?:havent|have not|didnt|not)) (?:got|gotten|get|received|seen) (?:my |the )?(?:money|"
        r"refund|funds|payment) back",
    ], []),
    # asking staff to undo one particular payment: "请帮我把刚才那笔付款取消掉", "please cancel the payment I just
    # made"; how to cancel a payment at all is the cancel FAQ's question
    ("transaction_investigation", "normal", [
        r"(?:please|pls|plz|can you|could you|would you|kindly) (?:\w+ ){0,2}(?:cancel|reverse|stop|undo|recall|revert)"
        r"(?: \w+){0,2} (?:the |this |that |my )?(?:payment|transfer|transaction|order|withdrawal) (?:i (?:just )?"
        r"(?:made|sent|did)|from|of|this|yesterday|today|earlier|at)",
        r"(?:帮我|麻烦|请|请你们|帮忙)(?:帮我)?(?:把)?(?:刚才|刚刚|那笔|这笔|今天|昨天|早上|上午|下午).{0,20}(?:取消|撤回|撤销|退回|"
        r"追回|拦截)|" + _AMOUNT + r".{0,30}(?:取消|撤回|撤销|cancel|reverse|undo)|(?:取消|撤回|撤销)(?:掉)?.{0,20}"
        + _AMOUNT + r"|"
        # "请帮我取消刚才那笔交易", "帮我取消一下", "把昨天那笔转账的金额改一下" (not "能帮我取消吗")
        r"(?:(?:请|麻烦|帮我|帮忙)(?:你们)?(?:帮我)?(?:取消|撤回|撤销|拦截)(?:掉)?(?:一下)?(?:刚才|刚刚|那笔|这笔|今天|昨天|"
        r"我的|我刚)|(?:请|麻烦|帮我|帮忙)(?:帮我)?(?:取消|撤回|撤销)(?:一下|掉)|(?:昨天|今天|前天|刚才|刚刚|上午|下午|早上|"
        r"晚上)(?:的)?(?:那|这)笔.{0,12}(?:改一下|修改一下|改掉|取消掉|撤回))(?!.{0,8}(?:吗|么))",
        r"(?:please|pls|plz|kindly) (?:\w+ )?(?:cancel|reverse|stop|undo|recall|revert) (?:my|the|this|that) "
        r"(?:pending|last|latest|recent|current|ongoing) (?:payment|transfer|transaction|order|withdrawal)",
    ], [r"(?<![a-z])(?:if|what if|in case|how)(?![a-z])|如果|万一|要是|怎么|如何|能不能|可以吗"]),
    # "my own one has been under review for five days": a case, even when it opens with "how long does it usually take"
    ("transaction_investigation", "normal", [
        r"(?:我的|我这|我那|我)(?:笔|个)?.{0,12}(?:已经|都已经|足足|整整)(?:等|审核|处理|卡|pending)?(?:了)?.{0,4}"
        + _LONG_WAIT,
        r"(?:mine|my (?:\w+ )?(?:withdrawal|transfer|payment|deposit|verification|kyc|review|application|refund)) "
        r"(?:has been|is|was|been)(?: \w+){0,3} (?:for |since )?(?:over |more than |almost |nearly )?" + _LONG_WAIT,
    ], [r"(?<![a-z])(?:if|what if|suppose)(?![a-z])|如果|万一|要是|假如"]),
    # support promised a reply within 24 hours and days went by: "你们说24小时内回复，现在都三天了"
    ("complaint", "normal", [
        r"(?:回复|回我|答复|工单|ticket|reply|response|answer|get back).{0,30}" + _LONG_WAIT,
        r"(?:promised|said|supposed to|within) (?:\w+ ){0,3}24 ?(?:hours|hrs|h).{0,30}" + _LONG_WAIT,
        r"(?:说|承诺|保证|说好)(?:会)?(?:在)?24\s?(?:个)?小时.{0,30}" + _LONG_WAIT,
        # about the handling, not one step ("identity check taking too long" asks how long reviews take)
        r"(?:this|it|everything|you|you guys|your team|support)(?: is|s|re| are)? taking (?:way |far |so |much )?"
        r"too long|"
        r"(?:need|want) (?:this|it) (?:resolved|fixed|sorted|solved) (?:today|now|asap|immediately)|"
        r"(?:please|pls|plz|can you|could you|kindly) (?:\w+ )?follow ?up",
        r"请(?:尽快)?跟进|麻烦(?:尽快)?跟进|帮(?:我)?跟进",
        r"(?:也|都|一直|还)不回(?:我|复|消息|私信)?|谁(?:来)?(?:管|负责)(?:啊|呢|吗)?(?:[?？!！。,，]|$)",
    ], [r"how long|usually|normally|多久|多长时间|要几天|几天(?:能|可以|会|才)|一般|正常要"]),
    ("transaction_investigation", "normal", _MISDIRECTED, []),
    ("transaction_investigation", "normal", _CASE_DETAILS, []),
    # past the promised 24 hours; "how long does it usually take, 3 days?" asks about delays
    ("transaction_investigation", "normal", _OVERDUE, [
        r"how long|how many days|usually|normally|多久|多长时间|要几天|几天(?:能|可以|会|才)|多少天|一般|正常要"]),
]

# Words without which a row cannot match: checked first, so most messages skip the costly rows. Keyed by the
# row's own pattern list (the reason repeats: six rows are transaction_investigation), so rows added or moved in
# _TABLE keep their gates.
_NEEDS = {
    id(_MISDIRECTED): re.compile(
        r"balance|余额|wrong|else|错|别人|old|previous|former|outdated|expired|20|chain|explorer|scan|链"),
    id(_CASE_DETAILS): re.compile(
        r"\d|[一二两三四五六七八九十百千万]|check|look into|investigat|trace|track|查|核实|看看|#|0x"),
    id(_OVERDUE): re.compile(
        r"\d|day|week|wk|month|hour|hrs|ago|since|last|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
        r"two|three|four|five|six|seven|eight|nine|ten|several|few|couple|many|whole|"
        r"天|日|号|周|星期|礼拜|月|小时|几|前|[两二三四五六七八九十]"),
}

assert set(_NEEDS) <= {id(pats) for _, _, pats, _ in _TABLE}, "a gate whose row is gone"

RULES: tuple[Rule, ...] = tuple(
    Rule(reason, priority, re.compile("|".join(f"(?:{p})" for p in pats)),
         re.compile("|".join(f"(?:{p})" for p in unless)) if unless else None, _NEEDS.get(id(pats)))
    for reason, priority, pats, unless in _TABLE
)

# The customer says the answer did not help (used only after an answer: context.previous_faq_id).
UNRESOLVED = re.compile(
    r"still (?:not|doesnt|dont|cant|cannot|isnt|wont|no|the same|failing|broken)|didnt help|doesnt help|not helpful|"
    r"doesnt work|didnt work|not working|no use|useless|same problem|tried (?:that|this|it|all|everything)|"
    r"还是不行|还是没用|还是不能|还是登不|没用|不管用|没解决|试过了|都试了|不行啊|没有用"
)

# A customer losing patience: with answers that did not help, a person should take over.
ANGRY = re.compile(
    r"(?<![a-z])(?:wtf|fuck\w*|shit\w*|damn|rip ?off|useless|worst|terrible|garbage|trash|idiot\w*|stupid|"
    r"ridiculous|unacceptable|pathetic|furious|so angry|fed up|waste of (?:my )?time)(?![a-z])|!!!|\?!|!\?|"
    r"垃圾|骗子|妈的|他妈|坑人|破app|什么破|太差|气死|无语|受不了|退钱|投诉你们|废物"
)
