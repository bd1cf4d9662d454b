"""Triage rows for a person's safety and the account itself: distress, lost devices, hacked accounts, stolen
funds, scams, frozen funds, locked accounts, lost access, stated wrong transfers, refunds and refused reviews.

Rows of the incident table (core/triage_rules.py explains their form); they come first in the table, whose
order breaks ties between rows of one priority.
"""

from __future__ import annotations

from core.triage_shapes import ASKS, PEOPLE, PREVENT, SCAM_QUESTION

ACCOUNT_ROWS: list[tuple[str, str, list[str], list[str]]] = [
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
    ], [PREVENT, r"new (?:one|phone|mobile|device|laptop)|新(?:手机|设备|电脑)|换了(?:手机|设备)"]),
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
        r"(?:request|ask|do|make)|"
        r"(?:password|pw|pwd|pass|email|e-mail|phone number|number|pin|2fa)(?: was| got| has been| been)? "
        r"(?:reset|changed)\W{0,3}(?:but |and )?(?:not by me|(?:it )?(?:wasnt|was not|not) me|i (?:didnt|did not|"
        r"never)\b)|(?<![a-z])i (?:didnt|did not|never) change (?:my |the )?(?:password|pw|pwd|pass|email|e-mail|phone|"
        r"number)",
        # someone the customer names knows the password or keeps signing in ("my ex knows my password")
        r"(?:someone|somebody|he|she|they|my " + PEOPLE + r") (?:knows|has|got|stole|found|saw) my (?:password|pin|"
        r"login|credentials|2fa|seed)|(?:he|she|they|someone|somebody|my " + PEOPLE + r") (?:keeps|kept|is|was) "
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
        r"(?:密码|邮箱|手机号|绑定)(?:的)?不是我(?:本人)?(?:改|修改|更改|换|重置)的|"
        r"我(?:并|根本|从来)?没(?:有)?(?:改|修改|更改|动|换)过(?:密码|邮箱|手机号).{0,10}(?:但|可|却|怎么|竟然|居然)|"
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
    # the app calls the password wrong though the customer never changed it ("提示密码错误，可我没改过密码啊"): sure
    # of the password, not saying someone changed it; the login answer's question
    ], [PREVENT, r"^(?!.*(?:盗|黑|hack|有人|别人|陌生)).*(?:密码错误|密码不对|密码不正确|密码有误).{0,20}(?:可|但|可是)"
        r"(?:是)?我(?:并|根本|从来)?没(?:有)?(?:改|修改|更改)过?(?:密码)?"]),
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
        r"(?<![a-z])who (?:the hell |tf )?(?:is |has |just )?(?:charged|charging|billed|billing|debited|deducted|took|"
        r"taking|withdrew|spent) (?:me\b|my\b|from\b|money|funds|\d|[$€£¥]|this\b|that\b)|"
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
    # ... not a worry whether it could ("余额会不会一夜之间没了？")
    ], [PREVENT, r"(?:钱|余额|资金|资产|存款|积蓄)(?:会不会|会唔会|有没有可能|可不可能|会)"]),
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
    # how not to be taken in; the tricks in general ("what are common tricks scammers use?"); a scam supposed
    # ("如果被骗了钱还能取消吗")
    ], [r"(?:how (?:do|can|to) (?:i |you )?(?:avoid|spot|recogni[sz]e|protect)|tips|防范|"
        r"(?<![a-z])(?:common|usual|typical|latest) (?:\w+ )?(?:tricks|scams|frauds|signs)(?![a-z])|"
        r"^\W*(?:如果|万一|要是|假如)(?:我|你|有人)?(?:被骗|上当)|"
        r"^\W*(?:what if|if) (?:i|someone|you|we) (?:get|gets|got|am|is|was|were|have been) (?:scammed|tricked|conned|"
        r"cheated)(?![a-z])|^\W*(?:如果|万一|要是|假如)(?:我|你|有人)?(?:收到|接到)|"
        # whether OKPay sends such messages at all ("do you send sms with links to unlock accounts?")
        r"(?<![a-z])(?:do|does|would|will) (?:you|okpay|your (?:team|staff|support)) (?:ever )?(?:send|text|email|"
        r"call)(?![a-z])|如何识别|怎么识别|怎么防|"
        r"怎样防|怎么避免|如何避免|(?:新闻|报道)(?:里)?.{0,4}诈骗(?:好多|很多|太多)|诈骗(?:的)?新闻)", SCAM_QUESTION,
        # how not to be taken in, by someone who was not ("平时要留意什么才能避免被骗")
        r"^(?!.*(?:被骗了|骗了|骗走|已经被骗)).*(?:避免|防止|以免|不被|(?:才|就)不会|不要|别|不会再)被?骗",
        # whether OKPay is safe, scams heard of from others ("is OKPay safe? my aunt said there are many scams")
        r"^(?!.*(?:i was|i got|ive been|we were|fell for|i lost|i gave|i sent|i paid|被骗了|骗了|骗走)).*(?:(?:is|are) "
        r"(?:okpay|it|this app|the app|your app|this wallet) (?:really |actually )?(?:safe|secure|legit)|"
        r"安全(?:吗|不|么)|"
        r"安不安全|靠谱吗).{0,60}(?:said|say|says|heard|told me|听说|说)",
        # whether staff would ever ask for a code or password: the security answer's ("客服会不会找我要验证码")
        r"^(?!.*(?:gave|sent|told|already|给了|发了|告诉了|已经)).*(?:(?<![a-z])(?:would|will|do|does|can|could|"
        r"might) (?:okpay|you|your (?:staff|team|support|agents?)|(?:okpay )?(?:staff|support|agents?|employees?)|"
        r"customer (?:service|support)|an? (?:okpay )?(?:employee|agent|staff member))(?: \w+){0,2} (?:ever )?"
        r"(?:ask|request|need)|(?:客服|官方|工作人员|你们|okpay)(?:会不会|是否会|会|可能会|有没有可能)(?:主动)?(?:找|向|跟|问|"
        r"叫|让|要)(?:我)?(?:要|索要|提供|给)?.{0,6}(?:验证码|密码|助记词|私钥)(?:吗|么|[?？]|$))"]),
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
    # "an sms says my account is abnormal and to click a link: is this a scam? I haven't clicked" asks about a message
    ], [r"(?=.*(?:短信|邮件|消息|私信|电话|微信|加我|sms|email|text|message|call|whatsapp|telegram|dm)"
        r".{0,12}(?:说|称|saying|says|claiming))"
        + SCAM_QUESTION,
        # about payments or accounts in general, nobody's own: "why would a payment be put on hold?", "when do
        # transfers get held?" (the transaction answer's delays); "why would my account be frozen" stays a case
        r"^(?!.*(?<![a-z])(?:my|mine|our|me)(?![a-z])).*(?<![a-z])(?:why|when|how) (?:would|do|does|might|can|could|"
        r"will) (?:a|an|payments|transfers|withdrawals|accounts|funds|money)(?![a-z])"]),
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
        r"(?!.{0,12}(?:怎么办|咋|怎么回事|怎么处理|会怎样|会怎么样|会如何|什么原因|为什么|吗|么))|"
        r"忘记密码.{0,16}(?:一直|总是|老是|还是|都)失败|"
        r"(?:重置|重设)(?:了|过)?(?:密码)?(?:好几|[两三四五几多]|\d+)(?:次|遍).{0,12}(?:还是|仍然|依然|都|也)(?:不行|失败|登不|"
        r"登录不|进不去|没用)|(?:重置|重设).{0,20}(?:失败|无效|不成功|没成功|过期|不行|登不|进不去).{0,12}(?:试|弄|重置|点)了"
        r"(?:好几|[两三四五几多]|\d+)(?:次|遍)|"
        # a lock that asks for the holder's identity, or an account the app says is unusable
        r"(?:锁|锁定|锁住|锁了).{0,16}(?:需要|要求|让我|要我|叫我)(?:进行|做)?(?:身份验证|验证身份|人工验证|人工审核)(?!.{0,6}(?:吗|么))|"
        r"(?:提示|显示)(?:该|此|我的)?(?:账户|账号)(?:已)?(?:被)?(?:不可用|停用|禁用)",
        # "if pw reset fails then what" asks what the login answer's second step says
        r"(?:password )?reset (?:keeps|kept) failing|(?<!if )(?<!if the )(?<!if my )(?:(?:password|pw|pwd|pass) reset|"
        r"(?<!password )(?<!pw )(?<!pwd )(?<!pass )reset) (?:has )?(?:failed|fails|was unsuccessful|didnt work|did not "
        r"work)(?!.{0,30}(?:what (?:should|do|can|happens|now|next)|then what|now what|why|how))|"
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
        r"(?:(?:手机号|手机号码|号码|手机卡|邮箱)(?:已经|早就)?(?:换了|改了|换掉了|不用了|注销了|丢了)|换(?:了|成)"
        r"(?:新的?|当地的?|本地的?|国外的?|一张新的?|另一(?:个|张))?(?:手机号|手机号码|号码|手机卡|电话卡|sim卡|sim|电话号码|"
        r"邮箱)).{0,16}(?:收不到|接收不到|发不到|没法接|登录不|登不|重置不|无法)",
        r"(?:changed|switched|new) (?:my )?(?:phone )?number.{0,40}(?:cant|cannot|dont|do not|no longer) "
        r"(?:get|receive)",
        # "that" one: "I don't have access to that email anymore"
        r"(?:no longer|dont|do not) have access to (?:that|this) (?:old |registered |work )?(?:phone number|number|sim|"
        r"email|e-mail|inbox|gmail|address)",
    # "what now" asked ("邮箱换了收不到验证码怎么办") or the case supposed ("如果绑定的邮箱不用了，还能重置吗"): the
    # login answer, as the policy says of "what now"; "还能登吗" after the story, or how to change the number, stays
    # a case
    ], [r"怎么办|咋办|怎么处理|(?:该|要)怎么做|(?<![a-z])(?:what (?:now|should i do|do i do|can i do)|now what|what if|"
        r"if|in case)(?![a-z])|如果|万一|要是|假如|的话"]),
    # the customer states their own blocking case that only a person can resolve (the guide sends it to support:
    # a lock, money already sent to the wrong party, a refund, a review refused with no reason); asking how/whether
    # ("帐号被锁定了怎么解锁", "转错人了怎么办") stays the FAQ answer, unless it asks the team to act on it
    ("account_locked", "high", [
        r"(?:account|acc|acct|wallet)(?: \w+){0,2} (?:is |was |got |has been |been |s )?(?:now )?(?:locked|blocked)|"
        r"locked out|"
        # the participle dropped, as non-native writers do: "my account is lock since 2 day"
        r"(?:account|acc|acct|wallet) (?:is|was|got|been|has been|is been) (?:lock|block)(?![a-z])",
        r"(?:账户|账号|帐号|帐户|钱包)(?:现在)?(?:已经|已|又)?(?:被)?(?:锁定|锁住|锁死|锁了)|(?:被锁|锁定|锁住|锁死)了|"
        r"提示.{0,6}(?:已)?(?:被)?锁定",
    ], [ASKS]),
    ("wrong_transfer", "high", [
        r"(?:sent|transferred|paid|wired)(?: \w+){0,4} (?:to )?(?:the |a )?wrong (?:person|account|wallet|address|"
        r"recipient|number|phone number|account number|guy|user|id|e-?mail|iban|reference|bill|username|handle|tag|"
        r"addr|addy|acct|acc|no\.|num|card)(?![a-z])|"
        # any detail typed wrong, then the money gone to someone else: "typed the wrong email, it went to a stranger"
        r"wrong\b.{0,80}(?:went|gone|go|going|sent|ended up) (?:\w+ ){0,2}(?:someone|somebody|a stranger|another "
        r"person|a different person)",
        r"(?:转|打|汇|付)(?:账|帐|款|钱)?(?:转|打|付)?错(?:了)?(?:人|账|帐|号|地址|对象|钱包)|"
        r"(?:户号|账号|卡号|手机号|号码|地址|收款人|邮箱|账户)(?:填|输|写|选|打|弄)错(?:了)?.{0,30}(?:到|进|去)(?:了)?"
        r"(?:别人|陌生人|其他人|别的人)",
    ], [ASKS]),
    ("refund_request", "normal", [
        r"(?<![a-z])(?:i )?(?:(?:really |just |honestly |would really |d really )?(?:want|would like|id like|need|"
        r"wanna)|id (?:really|honestly|just) like|requesting|demand) (?:a |my |the )?(?:full )?"
        r"(?:refund|money back)|refund me|(?<![a-z])refund (?:it |this |that )?(?:pls|please|plz|now|asap)|"
        r"(?:pls|please|plz) refund",
        r"(?:我)?(?:要|想|想要|需要)(?:申请)?退(?:款|钱)|请(?:帮我)?退(?:款|钱)|帮我退款|^\W*退(?:款|钱)(?:啊|吧|呀|!|！)+\W*$",
    ], [ASKS]),
    ("review_problem", "normal", [
        r"(?<![a-z])(?:kyc|verification(?! code)|identity check|(?<!transaction )(?<!order )id|selfie|photo|passport|"
        r"documents?)(?: \w+){0,3} "
        r"(?:keeps? (?:getting |being )?|got |was |were |has been |is |are )?(?:rejected|declined|denied|refused)|"
        r"(?:rejected|declined|denied|refused) my (?:id|kyc|verification|documents?|selfie|photo|passport)",
        r"(?:认证|验证(?!码)|审核|人脸|刷脸|kyc)(?:资料|申请|材料)?(?:一直|又|还是|总是|老是)?(?:被)?(?:拒绝|驳回|拒|没通过|"
        r"未通过|不通过|没过)",
    ], [ASKS, r"blurr|unclear|not clear|too dark|glare|expired|cropped|模糊|不清|看不清|过期|反光|太暗|原因是"]),
]
