"""Triage rows for cases stated in an FAQ's own words: the customer already did what the answer says (a reset that
did not arrive or did not help, a wait past the 24 hours), money that left one side and did not land on the other,
a verification flow that is broken for them, an app screen or support channel that does not work, and a request
that the team act on one payment. The FAQ answer would only send them to support while money or access is at stake.

Rows of the incident table (core/triage_rules.py explains their form); they come last in the table.
"""

from __future__ import annotations

from core.triage_shapes import ASKS, LONG_WAIT, PREVENT, REFERENCE_QUESTION

# a hypothetical ("what if the reset e-mail never comes?"): a question about the FAQ, not a case
IF = r"(?<![a-z])(?:if|what if|in case|suppose)(?![a-z])|如果|万一|要是|假如|的话"
# the answer's advice, followed: "按你们说的", "like the bot said", "followed the steps"
FOLLOWED_ZH = (r"(?:按|照|按照|依照|跟着)(?:着)?(?:你们|你|提示|说明|步骤|指引|机器人|客服|app|答案|上面)"
               r"(?:说的|说|讲的|的方法|的步骤|的办法|的建议|的)?")
FOLLOWED_EN = (r"(?:(?:like|as) (?:you|u|the bot|the faq|support|the app|the answer|the article|the guide) "
               r"(?:said|suggested|told me|say|asked|recommended)|followed (?:the |your |all (?:the |your )?)?(?:steps|"
               r"instructions|advice|guide)|(?:waited|waiting) (?:the |for )?24 ?(?:hours|hrs|h))")
STILL_ZH = r"(?:还是|仍然|依然|仍|还|也|却|都)(?:是)?(?:一直|老是|总是)?"
# the recipient's side: "商家说没收到", "房东说他那边没有", "the shop says they never got it"
OTHER_SIDE_ZH = r"(?:对方|商家|卖家|收款人|收款方|房东|朋友|他|她|公司|店家|商户|电力公司|电信公司|学校|银行)"


# a reset or code that did not come after tries or a night, or abroad; a link expired each time
_RESET_EN = (
    r"(?:email|e-mail|mail|link|code|sms|text)s? (?:\w+ ){0,2}(?:never|still (?:hasnt|not|doesnt|didnt)|hasnt|didnt|"
    r"doesnt|wont|not|isnt) (?:\w+ )?(?:arrive|arrived|arriving|come|came|coming|show|showed|reach|reached)"
    r".{0,40}(?:tried|requested|resent|waited|all night|overnight|(?:two|three|four|five|several|many|\d+) times|"
    r"hours|days)|"
    r"(?:abroad|overseas|roaming|travell?ing).{0,40}(?:code|sms|text)s? (?:\w+ ){0,2}(?:never|doesnt|dont|wont|not)|"
    r"(?:link|code)s? (?:says|shows|is|are|keeps saying)(?: \w+){0,2} (?:expired|invalid)(?: \w+){0,3} "
    r"(?:every|each|again|always|times|even)|(?:every|each) (?:single )?time.{0,30}(?:expired|invalid)|"
    # reset, and still "incorrect"; a password that worked this morning and is "wrong" now
    r"(?:reset|changed|set a new|set up a new|new) (?:my )?(?:password|pw|pass|one).{0,60}(?:still|yet|again)"
    r"(?: \w+){0,3} (?:says|shows|incorrect|wrong|invalid|locked)|"
    r"(?:worked|working|fine|could log ?in) (?:yesterday|this morning|last night|earlier).{0,40}(?:now|today)"
    r".{0,20}(?:incorrect|wrong|invalid) (?:password|pw)|"
    # registered with an address or number the customer no longer has
    r"(?:work|company|school|university|uni|office|old) (?:email|e-mail|address|number|phone).{0,40}(?:left|quit|"
    r"no longer|cant access|cannot access|deactivated|closed|lost|dont have)|"
    r"(?:code|sms|text)s? (?:\w+ ){0,3}(?:go|goes|going|sent|still go) to (?:my )?(?:old|previous|former)|"
    # a new or local number and the codes do not reach it: "switched to a local sim abroad, the texts don't come"
    r"(?:changed|switched|moved|got|new|local|different|foreign)(?: (?:to|my|a|an))?(?: new| local| different| "
    r"foreign| another)?(?: phone| mobile| carrier)? (?:number|sim|sim card|carrier|phone number)\b.{0,50}(?:codes?|"
    r"texts?|sms|otps?|verification|it|they)(?: \w+){0,2} (?:dont|do not|doesnt|arent|are not|isnt|wont|never|cant|"
    r"cannot|not|no longer) (?:\w+ )?(?:come|coming|arrive|arriving|reach|reaching|get|getting|receive)|"
    # the tries first: "tried resetting 3 times, the email never arrives", "requested the link twice, nothing came"
    r"(?:tried|requested|asked for|resent|re-sent|clicked|pressed|hit)(?: (?:the|a|my|for|on))?(?: \w+){0,2} "
    r"(?:reset|code|link|email|e-mail|otp|sms|text|forgot)\w*(?: \w+){0,3} (?:(?:\d+|two|three|four|five|several|"
    r"many|multiple|a few) times|twice|again and again).{0,60}(?:(?:email|e-mail|mail|code|link|sms|text|otp|it|"
    r"they)s? (?:\w+ ){0,2}(?:never|still (?:hasnt|not|doesnt|didnt)|hasnt|didnt|doesnt|wont|isnt|not) (?:\w+ )?"
    r"(?:arrive|arrives|arrived|arriving|come|comes|came|coming|show|shows|showed|reach|reached)|nothing (?:has )?"
    r"(?:come|came|arrived|shows? up)|no (?:email|e-mail|mail|code|link|sms|text)s?)"
)
_TRIES_ZH = r"(?:试|重发|发|等|点|按|申请)了(?:好几|[两三四五几多]|\d+|一)(?:次|遍|晚上|晚|整晚|天|个小时|小时)"
_RESET_ZH = (
    r"(?:邮件|短信|简讯|验证码|链接|信).{0,12}(?:没|收不到|没有收到|没收到|没来|不来|没到|发不到).{0,12}"
    + _TRIES_ZH + "|"
    + _TRIES_ZH + r".{0,12}(?:邮件|短信|简讯|验证码|链接|信).{0,6}(?:都|还是|也)?(?:没|收不到|没收到|没来|不来|没到)|"
    r"(?:邮件|短信|简讯|验证码|链接|信).{0,16}" + _TRIES_ZH + "|"
    r"(?:出国|国外|海外|漫游|境外).{0,16}(?:验证码|短信|简讯).{0,6}(?:收不到|没收到|没来|不来|没到)|"
    r"(?:链接|验证码).{0,10}(?:每次|一直|总是|都|还是)(?:显示|提示|说)?(?:已)?(?:过期|失效)|"
    r"(?:重置|重设|改|找回|设)(?:了|过|好)(?:新)?(?:密码)?.{0,24}" + STILL_ZH
    + r"(?:提示|显示|说)?.{0,8}(?:密码错误|密码不对|错误|登不|登录不|进不去|不行|失败)|"
    r"(?:还能|能|可以)(?:正常)?(?:登|登录|用).{0,14}(?:就|又|却|突然)(?:说|提示|显示)?(?:密码)?(?:不对|错误|错了)|"
    r"(?:绑|绑定|注册)(?:的|用的)?(?:是)?(?:公司|工作|学校|旧|以前)的?(?:邮箱|手机号|号码|电话).{0,12}"
    r"(?:离职|不用了|停用|注销|进不去|登不|没了|换了|收不到)|"
    r"验证码.{0,8}(?:还是|仍然|一直)?(?:发|寄)(?:到|去)(?:了)?(?:旧|以前|原来)|"
    # registered with a work or school address, then left: "用公司邮箱注册的，离职了邮箱登不上了"
    r"用(?:的)?(?:公司|工作|学校|旧|以前)的?(?:邮箱|手机号|号码|电话)注册.{0,24}(?:离职|辞职|毕业|不用了|停用|注销|进不去|"
    r"登不上|登不进|没了|收不到)|(?:离职|辞职|毕业)(?:了|后|以后)?.{0,8}(?:邮箱|手机号|号码)(?:也)?(?:登不上|登不进|进不去|"
    r"用不了|没了|被停|停用|注销)"
)

MONEY_ROWS: list[tuple[str, str, list[str], list[str]]] = [
    # the reset or code the login answer relies on does not arrive, expires each time, or did not help
    ("account_access", "high", [_RESET_EN, _RESET_ZH], [IF]),
    # the login itself fails on a screen of its own ("session invalid (403)", "系统异常")
    ("account_access", "high", [
        r"too many attempts.{0,60}since|session invalid|\((?:401|403|500|502|503)\)|"
        r"device (?:not|isnt) (?:secure|trusted)|"
        r"(?:web|website|browser|desktop) (?:login |version )?(?:works|is) fine.{0,30}(?:app|phone).{0,30}"
        r"(?:keeps|kicks|kicking|back to)",
        r"(?:设备不安全|拒绝登录|系统异常|系统错误|服务器错误)(?!.{0,6}(?:吗|么|是什么))",
    ], [IF, PREVENT]),
    # two-factor gone with the phone: the authenticator deleted, lost, in a phone being repaired
    ("account_access", "high", [
        r"(?:authenticator|2fa|two[- ]factor)(?: app)?.{0,30}(?:deleted|lost|gone|wiped|uninstalled|"
        r"on (?:my|the) old phone)|"
        r"(?:didnt|did not|never|forgot to) (?:back|backed) up (?:the |my )?(?:codes|backup codes|recovery codes|2fa)|"
        r"(?:can|could) (?:you|u) (?:reset|remove|disable|turn off) (?:my )?(?:2fa|two[- ]factor|authenticator)",
        r"(?:验证器|二次验证|双重验证|两步验证|2fa|谷歌验证|身份验证器|authenticator).{0,16}"
        r"(?:没了|丢了|删了|已经删|被删|不见了|用不了|打不开|都没了|在里面|在旧手机|删掉了)|"
        r"(?:手机|电话)(?:送修|坏了|丢了|修|摔坏).{0,20}(?:验证器|二次验证|双重验证|验证码|2fa)",
    ], [IF, PREVENT]),
    # someone else signed in while the customer was elsewhere or asleep; a login typed into a fake page
    ("hacked_account", "urgent", [
        r"(?:login|log in|sign in|signed in|logged in)s? (?:from|in) .{0,30}(?:never been|wasnt me|i was|im in|"
        r"i am in|not me|never)|(?:log|history|activity|security log)s? shows? (?:a |an )?(?:login|sign ?in|log ?in) "
        r"from|"
        r"(?:clicked|opened|followed) (?:a |the |some |this |that )?(?:link|url).{0,60}(?:entered|typed|put in|gave|"
        r"logged in)|"
        r"(?:entered|typed) my (?:password|login|details|pin|seed).{0,70}(?:fake|phishing|wrong|weird|"
        r"not (?:the )?real)",
        r"(?:提醒|通知|邮件|短信|记录|显示).{0,20}(?:登录|登陆).{0,20}(?:可|但|可是|但是|然而)(?:是)?(?:我)?(?:人)?"
        r"(?:一直|明明|那时|那个时间|当时|那时候)?(?:在|正在)|"
        r"(?:登录|登陆)(?:的)?(?:提醒|通知|邮件|短信).{0,6}(?:可|但|可是|但是)(?:是)?(?:那个时间|那时|当时|我)|"
        r"(?:那个时间|那时候|那时|当时)(?:我)?(?:正|明明)?在睡觉|"
        r"(?:点|点开|打开)(?:了)?(?:一个|个)?.{0,12}(?:链接|网址|网页|网站).{0,20}(?:输|填|登录|登陆)|"
        r"(?:网址|网站|链接|网页)(?:好像|有点|不太|根本|才发现|发现)?(?:不对|不太对|是假的|有问题)|"
        r"假的?(?:okpay)?的?(?:链接|网站|网页)|很像.{0,10}(?:网页|网站|链接|页面).{0,10}(?:登录|登陆|输)",
    ], [IF, PREVENT]),
    # a transaction they have no memory of, told with words between ("一笔200u 我完全没印象")
    ("stolen_funds", "urgent", [
        r"(?:一笔|这笔|有笔|几笔|那笔).{0,16}(?:我)?(?:完全|根本|并|都|一点)?"
        r"(?:不记得|没印象|印象都没有|想不起来|没(?:有)?(?:做|操作|付|买|转)过|不是我(?:做|操作|付|转)的?|不是我(?:本人)?的)|"
        r"不是我(?:本人)?(?:做|操作|发起|付|转|买)?的(?:交易|转账|付款|扣款|消费|支出|转出|记录)",
    ], [IF, PREVENT]),
    # a payment in the history to a payee the customer does not know ("a transfer with someone else's name on it",
    # "收款人的名字我不认识"); asked about ("what do I do if I see one?") it is the security answer's
    ("stolen_funds", "urgent", [
        r"(?:transfer|payment|charge|transaction|withdrawal|debit|deduction|purchase)s?\b.{0,60}(?:someone elses name|"
        r"(?:name|person|recipient|payee|merchant)s? (?:i|ive|we) (?:have )?(?:never|dont|do not|cant|didnt) "
        r"(?:seen|know|recogni[sz]e|heard of)|(?:nobody|no one|noone|someone|somebody|people|a guy) (?:i|we) "
        r"(?:dont|do not|never|didnt) (?:know|met|heard of|recogni[sz]e)|never heard of (?:him|her|them|that|this)|"
        r"no idea who (?:that|this|it|they|he|she)(?: is| are|s|re)?\b)",
        r"(?:转账|付款|扣款|交易|支付|提现|转出|钱|款|账单|记录|明细).{0,30}(?:收款人|收款方|商家|商户|收款账户|那个人)"
        r"(?:的)?(?:(?:名字|名称|姓名)?(?:我)?(?:完全|根本|都|也|从来)?(?:不认识|没见过|没听说过|没听过)|"
        r"是谁(?:我)?(?:完全|根本|都|也)?不知道)|"
        r"(?:付|转|打|汇)给(?:了)?(?:一个)?(?:陌生人|不认识的人|陌生的人)",
    ], [IF, PREVENT, ASKS]),
    # money taken on one side and not landed on the other, told as a story
    ("transaction_investigation", "normal", [
        r"(?:money|it|payment|funds|cash) (?:left|came out of|was taken from|was deducted from|went out of) "
        r"(?:my|the) .{0,40}(?:but|yet|and|never)|"
        r"(?:shows?|showing|says|marked) (?:as )?(?:sent|paid|completed|successful|done|complete) on "
        r"(?:his|her|their|my|the) (?:side|end|phone|app)|"
        r"(?:payment )?confirmation.{0,40}(?:but|yet).{0,30}(?:nothing|not|never)|"
        r"(?:nothing|never) (?:arrived|came|came through|got there).{0,40}(?:says|shows|showing) (?:it )?(?:was |is )?"
        r"(?:completed|complete|successful|sent|paid|done)|"
        r"(?:customer|buyer|client)s? (?:says|said|claims|claimed|is saying) (?:that )?(?:he|she|they) "
        r"(?:never|didnt|did not)|"
        # an error code quoted ("TXN_REJECTED_05"); an order reference with letters in front ("订单OK88213")
        r"(?<![a-z])[a-z]{2,}_[a-z_]*\d+(?![a-z0-9])|"
        r"(?:订单|交易|转账|工单|order|ticket|case)\s*(?:号|编号|no\.?|number)?\s*[:：#]?\s*[a-z]{1,4}-?\d{4,}|"
        r"(?:paid|sent|transferred)(?: \w+){1,4} twice(?! (?:the|what|as much))|"
        r"refund (?:was |has been |got )?(?:approved|processed|issued|accepted).{0,40}(?:when|how long|how many|"
        r"days)|(?:hasnt|havent|has not|have not|never) heard (?:a thing|anything|back)",
        OTHER_SIDE_ZH + r"(?:说|表示|讲)(?:他|她)?(?:那边|那里|这边)?(?:还|一直|都|根本)?(?:没|没有|未)"
        r"(?:收到|到账|看到|有).{0,24}(?:可|但|可是|但是|而|却)(?:我)?(?:这边|这里|app|账户|记录)?"
        r"(?:显示|明明|已经显示|都显示|截图)|"
        # ... the other way round, with no "but": "对方说没收到 我这显示成功", "朋友話收唔到 我呢邊顯示成功"
        + OTHER_SIDE_ZH + r"(?:说|表示|讲|话).{0,6}(?:(?:没|没有|未)(?:收到|到账|入账)|收不到).{0,16}"
        r"(?:显示|提示|写着|状态是?)(?:的是|是)?(?:已)?(?:成功|完成|已完成|到账|转出|支付|付款成功|发送)|"
        r"(?:已经|已)?(?:扣款|扣了|扣钱|付了|转了|付款成功|交了|显示已完成|截图).{0,24}" + OTHER_SIDE_ZH
        + r"(?:却|还)?(?:说|表示|讲)(?:他|她)?(?:那边|那里)?(?:还|一直|都|根本)?(?:没|没有|未)(?:收到|到账|看到|有)|"
        r"(?:顾客|客户|买家|客人)(?:给我看|发来|发给我|出示).{0,20}(?:成功|截图|凭证|记录).{0,20}(?:但|可|却)|"
        r"(?:显示|提示)(?:已)?(?:成功|完成)(?:了)?.{0,12}余额(?:却|也|还|都|一直|还是)*(?:没|没有|未|不)"
        r"(?:变|增加|加|动|到|更新)(?!.{0,10}(?:是不是|是)?(?:延迟|正常)(?:吗|么|的))|"
        # digits copied wrongly, and the money already gone
        r"(?:复制|输|填|写|打|少输|多输)(?:错|少|多)?(?:了)?(?:一位|一个|几位|数字|字|一位数).{0,24}(?:已经|都)?"
        r"(?:发|转|付|打|汇)(?:出去|过去|走|出)?了|"
        r"(?:已经|都)(?:发|转|付|打|汇)(?:出去|过去|走|给)?.{0,12}了.{0,24}(?:(?:复制|输|填|写|打)(?:错|少|多)|"
        r"(?:少|多)(?:输|打|填|写))",
    ], [IF, REFERENCE_QUESTION]),
    # the customer asks the team to act on their own payment: cancel, stop, change, return it
    ("transaction_investigation", "normal", [
        r"(?:can|could|would) u (?:\w+ ){0,2}(?:cancel|reverse|stop|undo|recall)(?: \w+){0,2} "
        r"(?:the |this |that |my )?(?:payment|transfer|transaction|order|withdrawal)|"
        r"(?:change|edit|modify|update|switch) the (?:recipient|amount|address|payee|receiver) (?:on|of|for) my"
        r".{0,60}(?:pls|please|plz)|"
        r"(?:pls|please|plz|can you|could you|can u|could u) (?:change|edit|modify|update|switch) the "
        r"(?:recipient|amount|address|payee|receiver) (?:on|of|for) my",
        # after the statement of it ("...下错了，能帮我取消吗"); "能帮我撤回吗" alone asks whether
        r"了.{0,12}(?:帮我|帮忙)(?:把)?.{0,6}(?:拦|拦截|追回|撤回|取消|拦下)|"
        r"(?:你们|帮我)(?:把)?.{0,12}(?:退给我|退还给我|退回给我|还给我|退回来)|(?:钱|款).{0,4}(?:退给我|还给我)吧",
    ], [r"(?<![a-z])(?:if|what if|in case|how)(?![a-z])|如果|万一|要是|怎么|如何"]),
    # someone asks the team to unlock or restore the account, also for a relative
    ("account_locked", "high", [
        r"(?:can|could|would) (?:someone|somebody|anyone|you|u) (?:please )?(?:help )?(?:me |her |him |them )?"
        r"(?:to )?(?:unlock|restore|reopen) (?:it|my|her|his|their|the)",
        r"(?:帮我|帮她|帮他|帮忙|帮我妈|帮我爸)(?:把)?(?:账户|账号|帐号)?(?:解锁|解冻|恢复)",
    ], [IF]),
    ("frozen_funds", "high", [
        r"风险控管|风险管控|风控中|(?:账户|账号)(?:突然|忽然|莫名|无故)(?:不能|无法|没法)(?:转账|提现|付款|交易|转|提)",
    ], []),
    # verification broken for this customer: the upload, the camera, the format, the country list; refused with
    # no reason given; approved without the limits; another person's document
    ("review_problem", "normal", [
        r"(?:upload|uploading|selfie|camera|photo|passport|document|scan)(?: \w+){0,4} (?:button |screen |page )?"
        r"(?:keeps? )?(?:is (?:just )?black|(?:keeps failing|fails|failed|failing) with (?:an? )?error|black|"
        r"wont (?:open|load|upload|work)|"
        r"doesnt (?:open|load|upload|work)|not (?:working|supported|loading)|too (?:big|large)|unsupported|freezes|"
        r"crashes)|"
        r"(?:country|nationality) (?:isnt|is not|not) (?:even )?(?:in|on|listed|available|an option|supported)|"
        r"(?:account|kyc|verif\w*).{0,30}(?:with|using) (?:my own|someone elses) (?:id|passport|documents?)|"
        r"(?:with|using) (?:my own|someone elses) (?:id|passport).{0,30}(?:account|verif)|"
        r"(?:just|only) says? .{0,20}(?:requirements|not meet|does not meet|doesnt meet)",
        r"(?:上传|拍照|拍摄|自拍|相机|摄像头|证件照|照片|图片|相片|人脸|刷脸|扫描|护照|证件|身份证|文件|档案).{0,12}"
        r"(?:格式不支持|不支持|打不开|黑屏|黑的|没反应|没有反应|太大|闪退|上传不了|传不上|一直转)|"
        r"卡在(?:上传|拍照|人脸|自拍|证件|拍)|"
        r"(?:认证|验证|审核|kyc)被(?:reject|decline|deny|denied|refuse)|"
        r"(?:认证|验证|审核|kyc|没通过|未通过|被拒|拒绝|驳回).{0,30}(?:没|没有|未|不)"
        r"(?:写|说|给|告诉|告知|解释|提|注明|说明)(?:我)?.{0,6}(?:原因|理由|why|为什么|哪里)|"
        r"(?:什么|任何)?(?:原因|理由)都没(?:写|说|给)|"
        r"(?:只写|只说|只显示|只提示)(?:了)?.{0,4}(?:「|“|\"|')?(?:不符合|不通过|审核失败|资料有误)|"
        r"(?:认证|验证|审核)(?:已经|都|早就|早)?(?:过|通过|完成)了?.{0,16}(?:限额|额度)"
        r"(?:.{0,8}(?:没|未|没有|不)(?:提高|提升|变|增加|上调)|(?:还是|仍然|依然)(?:老样子|一样|原样))|"
        r"(?:用|拿)(?:我的|我自己的|别人的|他的|她的)(?:身份证|证件|护照|id).{0,10}(?:认证|验证)|"
        r"(?:传|上传|交|提交)(?:了|成|错)?(?:我的|别人的|他的|她的)(?:身份证|证件|护照)",
    ], [IF]),
    # the customer tried the answer's steps and it still fails, or waited the 24 hours the answer promises
    ("tried_already", "normal", [
        FOLLOWED_EN + r".{0,90}(?:still|but|yet|nothing|no luck|same)",
        FOLLOWED_ZH + r".{0,30}" + STILL_ZH + r".{0,4}(?:不|没|失败|登不|进不|卡|错误|一样|显示|提示|pending|处理中)|"
        r"换(?:了|过)(?:网络|网|wifi|手机|设备).{0,8}(?:也一样|也不行|还是一样|都一样|还是不行)|"
        r"状态页(?:面)?.{0,8}(?:正常|没问题).{0,20}(?:失败|不行|转不|付不|卡)|"
        r"(?:系统繁忙|系统异常|网络异常|系统错误).{0,30}(?:一整天|整天|一天了|好几天|半天|几个小时)|"
        r"(?:换了|换过)(?:网络|网|wifi).{0,16}(?:余额|额度).{0,10}(?:还是|仍然|依然)",
    ], [r"怎么办|咋办|怎么处理|what (?:should|do|can) i do|what now"]),
    # a support channel that does not answer or does not work
    ("complaint", "normal", [
        r"(?:opened|submitted|sent|filed|raised|made) (?:a |the |my )?(?:ticket|request|case|email).{0,40}"
        r"(?:nothing|no (?:answer|reply|response)|still waiting|havent heard|no one|nobody)|"
        r"(?:dm(?:ed|d)?|messaged|emailed|wrote to|contacted|called|pinged) (?:you|support|u).{0,40}"
        r"(?:no (?:answer|reply|response)|nothing|never (?:replied|answered|heard)|havent heard|anyone there)|"
        r"(?:ticket|submit|contact|support) (?:\w+ )?(?:button|form|page).{0,30}(?:greys? out|grays? out|greyed|"
        r"grayed|doesnt work|not working|fails|failed|error|wont (?:load|open|submit))|"
        r"(?:support|hotline|phone) number.{0,30}(?:doesnt work|not in service|disconnected|invalid|"
        r"no one (?:answers|picks))",
        r"(?:寄信|发信|写信|发邮件|发了邮件|寄了信|提交了?工单|提工单|开了?工单|私信|留言|发消息|打电话)(?:给)?"
        r"(?:客服|你们)?.{0,6}(?:[两二三四五六七八九十几]|好几|\d+)(?:天|日|个?星期|周|次).{0,10}(?:没|未|不)(?:人)?"
        r"(?:回|理|答复|回应|消息)|"
        r"(?:提交|提)(?:工单|申请|反馈)(?:一直)?(?:显示|提示)?(?:失败|不了|没反应)|"
        r"工单.{0,6}(?:提交不了|失败|按不了|点不了)|(?:客服电话|电话|热线).{0,10}(?:空号|打不通|没人接|停机)|"
        r"排队.{0,10}(?:小时|很久|半天|好久)|(?:按钮|按键|选项)(?:是)?(?:灰的|灰色|变灰|点不了|按不了|没反应|不能点)|"
        # the service itself judged, in other words than the complaint row's: "服务真的很差", "客服到底有没有人"
        r"服务.{0,4}(?:很差|太差|真差|差劲|很烂|太烂|糟糕|垃圾)|到底有没有人",
        r"(?:button|option).{0,20}(?:greyed|grayed|greys? out|grays? out|disabled|unclickable)",
    ], [IF]),
    # still waiting, told with a date or a span: "waiting since last thursday", "周一转的 到现在还是pending"
    ("transaction_investigation", "normal", [
        r"(?:been )?waiting (?:since|for) (?:over |more than |almost |nearly )?(?:last |monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday|" + LONG_WAIT + r")",
        r"(?:周|星期|礼拜)[一二三四五六日天](?:转|付|充|提|汇|交|提交|上传|申请|发|下单)(?:的)?.{0,30}(?:还|仍|都|一直)"
        r"(?:是|在)?.{0,6}(?:pending|处理中|审核中|没|未)",
    ], [IF, r"how long|usually|normally|多久|多长时间|一般|正常要"]),
]
