"""Shapes the triage rules share: amounts, references, waits, money moving, wrong payees, "I already checked".

Regex fragments (strings, not compiled) used by the rows of core/triage_rows_account.py and
core/triage_rules.py, and three rows' pattern lists that core/triage_rules.py gates by their own words.
They run on prepared text (lower case, simplified Chinese, apostrophes dropped).
"""

from __future__ import annotations

# amounts: "$500", "500 usdt", "3000元", "1,200.50 eur", "五百块"
AMOUNT = (
    r"(?:[$€£¥]\s?\d[\d,.]*|(?:nt|hk|us|s)\$\s?\d[\d,.]*|\d[\d,.]*\s?(?:k(?![a-z0-9]))?\s?(?:usd|usdt|usdc|eur|gbp|"
    r"btc|eth|"
    r"rmb|cny|hkd|twd|ntd|sgd|myr|php|idr|vnd|thb|inr|krw|jpy|aud|cad|dollars?|"
    r"bucks|euros?|pounds?|pesos?|baht|元|块|美元|美金|刀|港币|港元|台币|新台币|日元|比索|泰铢|u(?![a-z0-9])|个u)|"
    r"[一二两三四五六七八九十百千万]+(?:块|元)|(?:金额|amount)\s?(?:是|为|of|[:：])?\s?\d[\d,.]*|"
    # "a payment of 45.99": the word says it is money even without a currency
    r"(?<![a-z])(?:payment|transfer|deposit|withdrawal|top ?up|refund|charge|purchase)s? of \d[\d,.]*|"
    # no currency, the verb says it is money: "提现2000还没到", "withdrew 500"; not a count or a time ("sent it 10 mins
    # ago")
    r"(?<![a-z])(?:withdrew|withdrawn|sent|transferred|deposited|paid|topped up|cashed out|wired)(?: (?:out|in|over|"
    r"back))? \d{2,}(?![\d,.]|\s?(?:x\b|times?|hours?|hrs?|h\b|days?|mins?\b|minutes?|weeks?|months?|am\b|pm\b|"
    r"st\b|nd\b|rd\b|th\b))|(?:提现|提领|提币|转账|转|充值|充|汇款|汇|付款|付|打款|打|提)了?\s?\d{2,}(?![\d,.]|\s?(?:次|遍|回|小时|"
    r"个|天|分钟|号|日|点|笔|周|月|年|岁|秒)))"
)
PROBLEM = (
    r"(?:fail|not (?:received|arrived|showing|credited)|didnt (?:arrive|receive|get|go)|never (?:arrived|got|came)|"
    r"(?:not|never|didnt|doesnt|hasnt|havent|wasnt|isnt|still no|no) (?:\w+ )?(?:arriv|receiv|reciev|credit|show|reach|"
    r"land|appear|reflect)|"
    r"hasnt (?:arrived|come|shown)|havent (?:received|got)|missing|stuck|pending|deducted|disappeared|gone|"
    r"(?:still )?(?:isnt|is not|arent|are not|not) (?:there|here|in) yet|"
    r"still (?:isnt|is not|not|hasnt) (?:there|here)|(?:isnt|is not|arent|are not) in (?:my|our|his|her|the) "
    r"(?:account|wallet|balance)|"
    r"lost|where is|wheres|still nothing|nothing (?:yet|arrived|came|showed)|never (?:showed|came|reached)|"
    r"hasnt (?:reached|been (?:credited|received))|not (?:reached|in my)|(?:under|in) review|processing|"
    r"no (?:response|reply|update|news|result)|没(?:有)?(?:结果|消息|回复|下文|动静|通过)|"
    r"(?:动静|消息|回复|回音|下文|进展)(?:都|也)(?:没有|没)|"
    r"(?:hasnt|havent|didnt|not|never|still not|still hasnt) (?:got|gotten|get)\b|(?:money|funds|it) left my|"
    r"没到|未到|没收到|没有收到|失败|扣了|被扣|卡住|卡在|不见|少了|丢了|去哪|没了|还没到|还在审核|审核中|处理中|一直在(?:审核|处理)|"
    r"(?:没|未)(?:有)?退(?:回|还|款|给)?|退款.{0,6}(?:没|未)(?:有)?(?:到|收到|退)|"
    r"没动静|没反应|(?:都|还|也)?没(?:有)?(?:看到|看见|见到)|"
    # less than expected: "paid 4200 usd, but I only see 3700"
    r"only (?:see|got|get|received|shows?|arrived|came)|(?:got|received|arrived|came) less|"
    r"(?:没|未)(?:有)?(?:入账|到账|进账|显示|进来|成功|收到))"
)
# money sent to the wrong party or network: "wrong address", "went to someone else", "用错了链", "转到别人那里"
WRONG_PAYEE = (
    r"(?:wrong (?:(?:trc|erc|bep)-?20 |usdt |btc |eth |crypto |bank |okpay )?(?:address|network|chain|account|person|"
    r"recipient|wallet|id|number|user)|went to (?:someone|"
    r"somebody) else|"
    r"to (?:my |an? |the |his |her |their )?(?:\w+s )?(?:old|previous|former|outdated|expired|closed) "
    r"(?:address|wallet|account)|"
    r"(?:转|打|付|汇|提|充)错(?:了)?|(?:用|选)错(?:了)?(?:链|网络|网)|转(?:到|给)(?:了)?别人|到别人(?:那|手)|"
    r"(?:erc|trc|bep)-?20.{1,40}(?:instead of|rather than|not|to an?|转到|转去|到了?)\s?(?:the )?(?:erc|trc|bep)-?20)"
)
# the chain shows it done while the wallet does not: "链上显示成功了但是余额没有加", "explorer says confirmed but"
ON_CHAIN = (
    r"(?:on[- ]?chain|on the blockchain|blockchain|explorer|etherscan|tronscan|bscscan|链上|区块链|区块浏览器)"
    r".{0,30}(?:but|yet|however|但|可是|却)"
)
# a question about the situation rather than its statement: "怎么解锁", "can I undo it", "what now", "if ...";
# a request that the team act on it ("可以帮我取消吗", "can you reverse it?") is not one
ASKS = (
    r"^(?!.*(?:帮我|帮忙|替我|麻烦你|can you|could you|would you|can u|could u|help me|"
    r"(?:please|pls|plz) (?:cancel|reverse|refund|unlock|fix|help|undo|return|stop|check|look))).*"
    r"(?:怎么|怎样|如何|咋|哪|能不能|可不可以|会不会|有没有|是否|可以.{0,12}吗|吗|呢|多久|多长|为什么|什么(?!都|也)|[?？]|"
    r"(?<![a-z])(?:how|hows|what|whats|why|when|where|can(?! not(?![a-z]))|could|is it|is there|do i|should i)"
    r"(?![a-z]))|"
    r"(?<![a-z])(?:if|what if|in case)(?![a-z])|如果|万一|要是|假如"
)
# transaction / order references: "订单号 2024...", "tx id: ab12cd34ef", "order #123456", long digit runs
REFERENCE = (
    r"(?:(?:订单号|订单编号|交易号|交易编号|流水号|单号|哈希|(?<![a-z])(?:txid|tx id|tx hash|txn|"
    r"transaction (?:id|number|no|hash|ref)|order (?:id|number|no)|reference (?:number|no|code)|"
    r"ref(?: no| number)?))\s*[:：#]?\s*(?=[a-z0-9-]*\d)[a-z0-9-]{4,}|"
    r"(?<![a-z])(?:order|tx|txn|transaction|payment|transfer|ticket|case|订单|交易|转账|工单)\s*[:：#]?\s*\d{5,}|"
    r"(?<![a-z])(?:order|订单|invoice|ticket)\s*(?:no\.?|number)?\s*#\s*\d{3,}|"
    r"#\s?\d{5,}|(?<![a-z0-9])(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{12,}(?![a-z0-9])|\d{9,}|0x[0-9a-f]{8,})"
)
# a reference pasted beside a general question the FAQ answers, nothing asked of the team: "交易编号TX99812显示失败，
# 要检查什么", "Order #200184 is still pending, can it be cancelled before it completes?"
REFERENCE_QUESTION = (
    r"^(?!.*(?:帮我|帮忙|给我|麻烦|can you|could you|would you|can u|please|pls|plz|help me|for me)).*"
    r"(?:(?:要|该|应该|需要)(?:先)?(?:检查|查看|确认)(?:些|哪些)?(?:什么|啥|哪些)|要点检查|(?:要|该)?怎么(?:检查|排查)|"
    r"what (?:should|do|can|must) (?:i|we) (?:check|look at)|"
    r"(?:可以|能|可不可以|能不能|还能)(?:被)?(?:取消|撤销|撤回)(?:吗|么|[?？]|$)|"
    r"can (?:it|this|that|the (?:order|payment|transfer|transaction)) (?:still )?be (?:cancell?ed|canceled|"
    r"undone|reversed|stopped))"
)
# waits past the promised 24 hours: "3 days", "a week", "三天", "一个星期", "好几天"
LONG_WAIT = (
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
DATED = (
    r"(?:(?:on|since|last) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d{1,2}(?:st|nd|rd|th))|"
    # the day said without "on": "the 50 I sent her sunday", "that was thursday"
    r"(?:sent|paid|transferred|made|did|withdrew|deposited|topped up)(?: (?!on\b)[a-z0-9]+){0,5} (?:monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday)(?![a-z])|(?:that|it) was (?:on )?(?:monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|last week)(?![a-z])|"
    r"(?<!\d)\d{1,2}\s?(?:号|日)(?:转|付|充|提|汇|交易|那笔|的)|(?:从|自从|自)\s?(?:(?:上个?月)?\d{1,2}\s?(?:号|日)|月初|月中|上个?月|上周|上星期|上礼拜)|"
    r"(?:上周|上星期|上礼拜)[一二三四五六日天]?)"
)
MONEY_MOVE = (
    r"(?:transfer|deposit|withdraw|payment|paid|sent|send|money|funds|top ?up|refund|usdt|crypto|coins?|review|"
    r"kyc|verification|转|提现|提币|充值|到账|汇款|付款|支付|钱|退款|审核|认证)"
)
# account, card or phone numbers written in groups: "6222 0211 4455", "4111-1111-1111"
GROUPED_NUMBER = r"(?<!\d)\d{3,6}(?:[ -]\d{2,6}){2,}(?!\d)"
# the customer asks staff to look at their own case: "can you check", "帮我查一下"
CHECK_MINE = (
    r"(?:(?:(?:can|could|would) (?:you|u|someone)|pls|plz|please|help me) (?:check|look into|look at|take a look|"
    r"have a look|look|investigate|trace|track|confirm|guarantee)|"
    # "检查一下余额" is the customer's own check
    r"帮我查|帮忙查|给我查|(?<!检)查一下|(?<!检)查查|核实一下|帮我看看|帮(?:我|手|忙)看(?:下|一下|吓)|帮我check)"
)
PREVENT = (
    # prevention questions only: "what if my account is hacked" may be a customer who is hacked now
    r"(?:prevent|avoid|protect|stop (?:my|me|it|them|someone|people)|keep .{0,20}(?:safe|secure)|"
    r"keep .{0,25} from (?:being|getting)|in case|"
    r"how (?:do|can|to) (?:i |you )?(?:avoid|prevent|spot|recogni[sz]e)|"
    r"make sure .{0,30}(?:doesnt|dont|does not|never|wont) happen|how (?:do|can) i make sure|"
    # somebody else's incident elsewhere: "my friend got hacked on another wallet" (not "sold my usdt on an exchange")
    r"(?:hacked|stolen|drained|scammed|robbed) on (?:another|other|a different|some other) (?:wallet|app|platform|"
    r"exchange|site)s?(?![a-z])|"
    r"tips|防止|避免|防范|预防|以防|如何防|怎么防|怎样防|怎么避免|怎么识别|识别|怕被(?:人)?(?:盗|黑)|"
    # how to look for one, or what to do on finding one: the security answer ("发现异常交易应该怎么办")
    r"(?:有没有|是否有)(?:异常|可疑)的?(?:交易|记录)|(?:怎么|如何|怎样)(?:才能)?(?:知道|查|看|留意|发现|确认|检查|判断)(?:我的)?"
    r"(?:账户|账号|钱包)?(?:有没有|是否(?:有)?)(?:被)?(?:别人|其他人|人)|怎么查.{0,8}(?:异常|可疑)|"
    # found one and asks what to do, nothing said of whose it is ("发现账户里有异常交易应该怎么办");
    # "...不是我操作的" between them is a report
    r"^(?:我)?(?:发现|看到|见到)(?:了)?(?:账户|账号|钱包|交易记录|记录|明细|账单)?(?:里|中|上)?(?:有)?(?:一笔|几笔|笔)?"
    r"(?:异常|可疑|奇怪|陌生|不认识|不明)(?:的)?(?:交易|转账|扣款|付款|记录|转出)[,，]?(?:我)?(?:应该|要|该)?"
    r"(?:怎么办|(?:怎么|如何)(?:处理|做))|"
    # a worry, not an incident: "会不会被黑", "can my account get hacked?"
    r"会不会被(?:人)?(?:黑|盗)(?!了)|容易被(?:人)?(?:黑|盗)|会被(?:人)?(?:黑|盗)(?:吗|么|嘛)|"
    r"(?:what (?:should|do|can) i do|what to do) (?:if|when)|"
    r"if i (?:ever )?(?:see|find|notice|get|spot)|(?:如果|万一|要是|假如|以后|将来).{0,12}(?:发现|看到)|"
    r"(?:heard|read|seen|news|saw).{0,30}(?:some|other|many|lots of|a lot of|several) (?:wallets?|apps?|platforms?|"
    r"exchanges?|people|users|accounts)|"
    r"(?:听说|新闻|报道|看到|网上说).{0,20}(?:很多|有些|其他|别的|不少|好多)(?:钱包|平台|交易所|人|用户|账户|账号)|"
    # somebody's story in the news or online, then a question: "刷到好多钱包被盗的新闻", "a horror story on Reddit"
    r"(?:刷到|看到|听说)(?:了)?(?:好多|很多|不少|一些)?(?:钱包|人|账号|账户|用户).{0,6}被(?:盗|黑|骗)|"
    r"被(?:盗|黑|骗)的(?:新闻|报道|帖子)|"
    r"(?:新闻|报道|听说|网上|看到)(?:说|讲|里|上)?.{0,4}(?:有人|别人|有个人|有些人)|"
    r"(?:horror )?stor(?:y|ies) (?:on|about|from) (?:reddit|someone|people)|"
    r"(?:别的|其他|其它|之前用的|以前用的|以前的|另一个)(?:钱包|平台|交易所|app|软件|账号|账户).{0,10}被(?:盗|黑|偷)|"
    r"(?:can|could|will|would) (?:my (?:account|"
    r"wallet|money|funds)|it|someone|people|anyone) "
    r"(?:be |get )?(?:hack|steal|stole)|(?:is it|how) (?:possible|easy|likely) (?:to|that) .{0,20}(?:hack|steal)|"
    # a fear of it, not a report: "担心账号被盗", "worried my account could get hacked" ("担心账号被盗了" may be one)
    r"(?:担心|担忧|害怕|怕|顾虑|忧心)[^,，。.!！?？]{0,6}被(?:人|别人|黑客)?(?:盗|黑|偷)(?!了|走了|用了)|"
    r"(?:worried|worry|afraid|scared|concerned|nervous|fear)(?: \w+){0,5} (?:get|gets|getting|be|being|will be|"
    r"could be|might be)(?: \w+)? (?:hacked|stolen|compromised))"
)
# asking whether a message is real before acting on it ("I haven't clicked", "这是真的假的"); a message that asks for
# the seed or to move funds, or one acted on already, is a case
SCAM_QUESTION = (
    r"^(?!.*(?:被骗|骗了|骗走|scammed|safe wallet|safe account|recovery phrase|seed|private key|"
    r"move my (?:funds|money)|安全账户|安全钱包|助记词|私钥|"
    r"i (?:clicked|entered|gave|sent|paid|transferred|typed)|already (?:clicked|sent|paid|gave)|"
    r"已经(?:点|给|发|转|付|输|填)|(?:点|输|给|发|转|付|填)了)).*"
    r"(?:how (?:can|do|would|to) (?:i |you )?(?:tell|know|check|distinguish|verify)|"
    r"is (?:this|that|it) (?:a )?(?:scam|phishing|real|legit|fake)|(?:usual |common |typical )?signs of|"
    r"(?:能|可以|能不能|可不可以)给(?:吗|他|她|他们)?(?:吗|[?？]|$)|"
    r"(?:havent|have not|didnt|did not) (?:clicked|replied|responded|opened|given|sent|entered)|"
    r"分辨|辨别|辨认|判断|区分|真的假的|是不是(?:诈骗|骗|真的|假的|钓鱼)|是(?:诈骗|骗局|钓鱼|真的|假的)吗|"
    r"还没(?:有)?(?:点|回|回复|给|发|输)|"
    # whether to answer it at all: "should I reply?", "should she answer?", "要不要回"
    r"should (?:i|she|he|we|they|my \w+) (?:reply|answer|respond|text back|write back)|要不要回|该不该回|能不能回)"
)
# a message the customer got that asks to click a link or says the account is locked or frozen, told as received ("I got
# an email saying my account is locked and to click a link", "收到短信说账户被冻结，叫我点链接"): a lure (the scam row's
# shape; when the message also says the account is frozen or a link was clicked, the frozen or hacked row may take it)
RECEIVED_LURE = [
    r"(?:got|get|getting|received|receiving|had|was sent|been sent|sent me|texted me|emailed me|called me|"
    r"messaged me)(?: \w+){0,3} (?:email|e-mail|mail|sms|text|message|msg|dm|whatsapp|call|voicemail|"
    r"notification)s?\b.{0,80}(?:(?:click|tap|press|open|follow|use)(?:ing)? (?:on )?(?:an? |the |this |that |"
    r"their |its |some )?(?:link|url|button|website|site)|(?:account|wallet|okpay|acc)(?: \w+){0,2} (?:is|was|"
    r"has been|had been|will be|would be|got|being|gets) (?:\w+ )?(?:locked|frozen|suspended|blocked|closed|"
    r"restricted|compromised|deactivated|disabled|hacked|terminated))",
    r"收到(?:了)?(?:一|几)?(?:条|封|个|通)?(?:陌生|奇怪|可疑)?的?(?:短信|邮件|简讯|消息|信息|电话|私信|通知|email)"
    r".{0,30}(?:(?:点|点击|点开|打开|揿|按|click)(?:一下)?(?:这|那|个|条|该|一个)?(?:链接|网址|连结|连接|link)|"
    r"(?:账户|账号|帐号|钱包|户口)(?:已|已经|要|会|将)?(?:被)?(?:冻结|锁|封|停用|异常|限制|盗))",
]
# people close to the customer: "my ex", "my brother"
PEOPLE = (
    r"(?:ex|wife|husband|brother|sister|friend|son|daughter|girlfriend|boyfriend|partner|colleague|roommate|mother|"
    r"father|mom|mum|dad|kids?|child|cousin|boss)"
)
HOWTO = r"(?:how|where|which|what is the way|way to|怎么|如何|哪里|哪儿|在哪|哪个|方式|渠道|入口)"
# an identity check: "kyc", "verification", "实名认证", "人脸识别"
VERIFYING = r"(?:kyc|verif\w*|identity|id check|认证|验证|审核|人脸|刷脸)"
# one of the answers' steps, done: "清了缓存", "换了网络", "重置了密码"
# the same in English, two of them ("checked my balance and network"); one alone is still the answer's question
CHECKED_EN = r"(?:balance|network|connection|wifi|limits?|status page|cache|browser)s?"
STEP_EN = (r"(?:checked|tried|changed|switched|cleared) "
            r"(?:my |the |another |a different |to (?:another |a different )?)?" + CHECKED_EN)
DONE_ZH = (
    r"(?:清(?:理|除)?(?:了|过)(?:缓存)?|换(?:了|过)(?:网络|网|wifi|手机|设备|浏览器)?|重置(?:了|过)(?:密码)?|"
    r"重设(?:了|过)(?:密码)?|重启(?:了|过)|重装(?:了|过)|更新(?:了|过)|检查(?:了|过)|确认(?:了|过)|"
    # ... or named object first, the way the answers' checks read back: "网络也换了", "余额够", "状态页面也正常"
    r"(?:网络|网|wifi|缓存|浏览器|手机|设备|密码)(?:也|都)?(?:换|清|清理|清除|重置|重启|试)(?:了|过)|"
    r"余额(?:也|都)?(?:够|充足|足够|没问题)|(?:服务)?状态页(?:面)?(?:也|都)?(?:显示|看了|说)?(?:也)?(?:正常|没问题))"
)


# money gone to the wrong party or network, with the amount or the network named: a person traces it;
# "I sent money to the wrong person, can I undo it" is the cancel FAQ's question
MISDIRECTED = [
    r"(?:balance|余额)\s?(?:is |shows |showing |displays |显示)?(?:wrong|incorrect|negative|minus|"
    r"不对|错误|有误|错了|"
    r"是负|变负|负数)|(?:negative|wrong|incorrect) balance|负余额",
    AMOUNT + r".{0,60}" + WRONG_PAYEE,
    WRONG_PAYEE + r".{0,60}" + AMOUNT,
    WRONG_PAYEE + r".{0,60}(?<!\d)\d{6,}|(?<!\d)\d{6,}.{0,60}" + WRONG_PAYEE,  # "... okpay id 88213374"
    r"wrong (?:network|chain)|(?:用|选|转)错(?:了)?(?:链|网络)|(?:充|转|提)错(?:了)?(?:币种|代币)|"
    r"(?:sent|deposited|transferred) (?:the )?wrong (?:coin|token)|"
    r"(?:erc|trc|bep)-?20.{1,40}(?:instead of|rather than|转到|转去|到了?)\s?(?:the )?(?:erc|trc|bep)-?20",
    ON_CHAIN,
]


# a case named by its reference, amount or an ask to look: "订单号 2024...", "500 usdt not arrived", "can you check"
CASE_DETAILS = [
    REFERENCE,
    GROUPED_NUMBER,
    r"(?:refund|退款).{0,30}(?:order|订单|交易|transaction)\s*(?:号|编号|no\.?|number|id)?\s*[:：#]?\s*[a-z-]*\d{3,}|"
    r"(?:order|订单|交易|transaction)\s*(?:号|编号|no\.?|number|id)?\s*[:：#]?\s*[a-z-]*\d{3,}.{0,30}(?:refund|退款)|"
    # the amount sent by mistake, or the exact error code the answers say to send to support
    r"(?:多|少)(?:转|付|打|汇|收到|到账|到)了?\s?\d|"
    r"(?:错误码|错误代码|报错码|报错代码|error code)\s*[:：]?\s*[a-z]{0,3}-?\d{3,}",
    AMOUNT + r".{0,40}" + PROBLEM,
    PROBLEM + r".{0,40}" + AMOUNT,
    PROBLEM + r".{0,60}" + CHECK_MINE,
    CHECK_MINE + r".{0,60}" + PROBLEM,
    # asking staff to look into the customer's own case: "帮我查一下我的提现", "can you check my transfer"
    CHECK_MINE + r".{0,20}(?:我的|我那|这笔|那笔|\bmy\b|\bthis\b|\bthat\b|订单|转账|提现|提币|充值|交易|"
    r"付款|汇款|钱(?!包)|transaction|transfer|payment|withdrawal|deposit|order|account|账户|账号)",
]
# still waiting days after a transfer or a submission: past the promised 24 hours, a person traces it;
# "how long does it usually take, 3 days?" is a question about delays, answered by the FAQ
OVERDUE = [
    LONG_WAIT + r".{0,40}" + PROBLEM,
    PROBLEM + r".{0,40}" + LONG_WAIT,
    LONG_WAIT + r" ago.{0,40}" + MONEY_MOVE,
    MONEY_MOVE + r".{0,40}" + LONG_WAIT + r" ago",
    DATED + r".{0,40}" + PROBLEM,
    PROBLEM + r".{0,40}" + DATED,
    MONEY_MOVE + r".{0,30}(?:已经|超过|等了|都|快|足足)(?:有)?.{0,6}" + LONG_WAIT,
    MONEY_MOVE + r".{0,30}" + LONG_WAIT + r"(?:了|啦|多了|还|都|仍)",
    MONEY_MOVE + r".{0,40}(?:for|over|more than|after|since|past) (?:over |more than |almost |nearly )?"
    + LONG_WAIT,
    LONG_WAIT + r"了?(?:还|都|仍|依然)(?:没|未|在|是)",
]
