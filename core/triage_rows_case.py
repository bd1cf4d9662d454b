"""Triage rows for a customer's own case told among other words (dev10's adversarial pairs, dev11's long and public
posts): money that left one side and did not land, a wait dated past its promise, a step repeated and still failing,
a request that the team act on one payment now, a screen or error code quoted, someone else using the account, and
topics the FAQs do not answer (fees, limits to a figure, named currencies, business accounts, shared wallets, a
name change, data requests). The same words asked hypothetically or as a general question keep their FAQ.

Rows of the incident table (core/triage_rules.py explains their form); they come after core/triage_rows_done.py.
"""

from __future__ import annotations

from core.triage_shapes import AMOUNT, ASKS, PREVENT, RECEIVED_LURE, SCAM_QUESTION

# asked hypothetically or in general: the FAQ's question ("万一账号被锁了怎么办", "what if I ever get locked out")
_IF = (r"(?<![a-z])(?:if|what if|in case|suppose|hypothetically|ever)(?![a-z])|"
       r"如果|万一|要是|假如|的话|以后|哪天")
# supposed, not told: "what if ...", "如果..." ("ever" is no sign here: "nothing ever came" is a story)
_SUPPOSE = r"(?<![a-z])(?:if|what if|in case|suppose|hypothetically)(?![a-z])|如果|万一|要是|假如|的话|以后|哪天"
_NUM_ZH = r"(?:[两二三四五六七八九十几]|好几|\d+)"
_OWN_MONEY_ZH = r"(?:钱|款|余额|账户|帐户|银行卡|信用卡|卡)"

# "the 3rd time", "for the fifth time"
_NTH = r"(?:2nd|second|3rd|third|4th|fourth|5th|fifth|6th|sixth|\d+th)"

CASE_ROWS: list[tuple[str, str, list[str], list[str]]] = [
    # money that left one side and did not land: charged and the balance unchanged, "completed" on their side and
    # nothing on mine, "refunded" and nothing back, a refund promised and not paid, only half refunded
    ("transaction_investigation", "normal", [
        r"(?:card|account|bank)(?: \w+)? (?:is |was |got |has been )?(?:charged|debited|deducted).{0,50}"
        r"(?:balance|still|nothing|0|zero)|balance (?:is |stays |shows )?(?:still )?(?:0|zero|empty|unchanged|the same)"
        r"(?! if)|"
        r"(?:says|shows|showed|said|displays) (?:completed|complete|successful|success|refunded|sent|done).{0,40}"
        r"(?:nothing|never|not|still)|"
        r"only (?:got|received|had) (?:half|part|some)|(?:refunded|returned) (?:only )?(?:half|part)|"
        r"(?:still )?(?:has|have|got|received) nothing (?:after|since|yet)|nothing (?:ever )?arrived|"
        r"(?:charge|charged|bill|billed|debit|debited) (?:my|the) (?:card|account|bank)(?: \w+)? (?:twice|two times|"
        r"double)|(?:out|lost|paid) double|went through\W{0,5}twice|"
        r"(?:withdrawal|transfer|payment|deposit|top ?up|money|funds)s? (?:\w+ ){0,2}never (?:arrived|came|landed)|"
        r"(?:kept|keeping|kept all of) (?:my|the) money|(?:didnt|hasnt|havent|never|did not|has not) (?:\w+ )?"
        r"(?:refund|refunded|returned|given back|give back|give me back)(?! .{0,10}(?:if|when))|"
        r"(?:vanished|disappeared|is gone|went missing) from my|where is my money|wheres my money",
        # with the amount, or a night since: "充值了500，银行卡扣了，余额一点没变" ("余额没变，是延迟吗" asks)
        r"(?:扣了|被扣|扣款|已扣|扣钱|付了|转了|充了|充值了|储值|充值)(?:了)?\s?\d+.{0,30}(?:余额|账户里|帐户里).{0,10}"
        r"(?:没变|没动|没有变|不变|还是0|是0|为0|一点没|一分|没到|没有到|还是没|0)|"
        r"余额(?:一点|到现在)(?:都|还是)?(?:没变|没动|没有变|是0|一分没)|"
        r"(?:那边|那里)显示.{0,20}(?:我这边|我这里|我这).{0,10}(?:没|啥也|什么都|什么也)|"
        r"显示(?:了)?[\W]?(?:已完成|完成|成功|已退款|退款成功|completed)[\W]?.{0,16}(?:但|可是|却|我这边).{0,16}"
        r"(?:没|一直没|还没|没有)|"
        r"(?:说好|说会|承诺|答应)(?:会)?(?:退款|退钱|退回).{0,16}(?:没|一分)|退(?:了|回)?(?:一半|部分)|"
        r"(?:失败|取消)(?:了)?.{0,12}钱(?:还|却|也|还是)?(?:照|被|都)?扣|钱(?:被)?扣了.{0,20}(?:失败|没到|没退|没回|没收到)|"
        r"(?:点了|按了)取消.{0,16}(?:钱|款)(?:还是|却|也)?(?:被)?扣|"
        r"钱(?:却|一直|还|到现在|都|也)?没(?:有)?(?:回来|退回来|退回)|"
        r"(?:商家|卖家|公司|房东|店家|商户|学校).{0,6}(?:说|讲).{0,6}(?:没|没有)(?:收到|到)|从来没(?:有)?(?:注册|用)过",
    ], [_IF, r"是(?:不是)?延迟|要等多久"]),
    # a wait dated past its promise: "我24号发的邮件到现在一个字都没回", "reported it Tuesday, it's Friday"
    ("transaction_investigation", "normal", [
        r"(?:callback|call back|reply) (?:you|u) promised|"
        r"since (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|last)|"
        r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),? (?:its|it is|now) (?:monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)|day (?:\d+|two|three|four|five|six|seven) now|"
        r"(?:for )?(?:\d+|two|three|four|five) days now|"
        r"(?:dmd|messaged|emailed|wrote|asked|contacted)(?:\s+\S+){0,3}\s+(?:twice|three times|\d times).{0,40}"
        r"(?:nothing|no reply|no answer|still)|(?:zero|no) updates|third time im asking|after (?:\d+|two|three|four) "
        r"days",
        r"(?:\d{1,2}\s?号|周[一二三四五六日天]|星期[一二三四五六日天]|礼拜[一二三四五六日天]|前天|昨天|上周|上个月|"
        r"半个月|几天前).{0,14}(?:到现在|到今天|至今|直到现在)|(?:现在|已经)?都第[二三四五六七]天了|"
        r"(?:提交|申请|发|交)(?:了)?(?:半个月|" + _NUM_ZH + r"(?:天|个星期|周|个月))了?.{0,10}(?:没|一点|还)|"
        r"一个字都没回|(?:没人|没有人)(?:处理|理|回)",
    ], [r"(?<![a-z])(?:if|what if)(?![a-z])|如果|万一"]),
    # the step repeated and still failing: "已经用单反重拍传了三次，还是被拒", "failed again", "cache也清了，还是"
    ("tried_already", "normal", [
        r"(?:resubmit\w*|re-?upload\w*|retried|tried again|sent it again|did it again).{0,40}(?:failed|rejected|"
        r"declined|denied)|still (?:rejected|declined)|"
        r"(?:rejected|failed|declined|denied) (?:for )?the (?:2nd|second|3rd|third|4th|fourth|5th|fifth|\d+th) time|"
        r"(?:fail\w*|declin\w*|reject\w*|denied)(?: \w+){0,3}\W{0,3}(?:this is |its |thats |for )?(?:the )?" + _NTH
        + r" time|" + _NTH + r" time(?: \w+){0,4} (?:it |its |that )?(?:fail\w*|declin\w*|reject\w*|denied)|"
        r"(?:reset|changed|re-?set)(?: (?:my|the))? (?:password|pw|pwd|pass)(?: \w+)? (?:(?:\d+|two|three|four|five|"
        r"several|many|multiple) times|twice).{0,30}(?:still|but|and) (?:cant|cannot|can not|not|no|doesnt|wont|"
        r"unable)|"
        r"(?:rejected|denied) (?:\d+|two|three|four|five) times|"
        r"(?:checked|tried|did) everything.{0,60}still|(?:its|it is) not my (?:internet|wifi|connection|network)|"
        r"(?:picture|photo|image) was (?:sharp|clear)|"
        r"(?:says|shows|showing|getting|get) [\W]?(?:cannot cancel|too many attempts)|"
        # the screen itself sends them to support: "mine says 'account locked, contact support'"
        r"(?:says|shows|showing|screen)\W{0,3}[^.?]{0,40}contact (?:customer )?support|"
        # ... in other words: "the app told me to contact support", "a message telling me to reach out to support"
        r"(?:app|screen|message|error|notice|pop-?up|notification|system)(?: \w+){0,4} (?:told|tells|telling|asked|"
        r"asks|asking|said|saying|wants)(?: me)?(?: to| i (?:need|have|must) to| i should)?(?: please)? (?:contact|"
        r"reach out to|get in touch with|call|message|talk to) (?:customer )?(?:support|service|you)",
        r"(?:试|换|传|拍|上传|提交|申请|点|重拍|重传|重寄|重发|寄|弄)(?:了)?" + _NUM_ZH + r"(?:次|遍|回)了?.{0,10}"
        r"(?:还是|仍然|依然|都|也)?(?:说|显示|提示)?(?:被拒|不行|失败|没用|不过|没过|链接|已失效)|"
        r"(?:已经|都)(?:试|换|传|上传|提交|重寄|重发|要我重寄|要我重发)(?:了)?" + _NUM_ZH + r"(?:次|遍|回)|"
        r"第[二三四五六七八九十]次(?:了)?(?:被拒|失败|被退)|(?:被拒|失败|被退)(?:了)?第[二三四五六七八九十]次|"
        r"(?:被拒|失败|被退|没过|没成功|不成功)(?:了)?.{0,8}第(?:[二三四五六七八九十]|\d+)次|"
        r"第(?:[二三四五六七八九十]|\d+)次(?:了)?(?:又|还是|也|都)(?:被拒|失败|被退|没过|没成功|不成功)|"
        r"要我(?:重寄|重发|重传)" + _NUM_ZH + r"次|已经.{0,12}" + _NUM_ZH + r"(?:次|遍|回)了?\W?(?:还是|仍然|依然|也)|"
        r"(?:上传|重传|传|提交|拍|重拍|试|换|申请)(?:了)?" + _NUM_ZH + r"(?:次|遍|回)了?\W?(?:还是|仍然|依然)|"
        r"(?:清了|换过了|重装了|确认是对的|确认过|没问题).{0,20}(?:还是|依然|仍然|一直)|"
        r"(?:照片|照得|拍得).{0,6}(?:很|都很|都|非常)清楚.{0,20}(?:失败|被拒|不过|没过|换了)|"
        r"(?:画面|页面|屏幕|提示|显示)(?:说|上写)?.{0,10}(?:要|请)联系客服|"
        r"(?:app|系统|页面|画面|屏幕|消息|通知|弹窗|软件)(?:上)?(?:说|显示|提示|弹出|跳出)?.{0,8}(?:叫我|让我|要我|请我)(?:去)?"
        r"(?:联系|找)(?:一下)?客服|"
        r"(?:资料不符|资料不一致|信息不符).{0,16}(?:但|可是|明明)|(?:一直|还是|又)(?:失败|被拒).{0,20}(?:已经|都)?(?:试|换)"
        r"(?:了)?" + _NUM_ZH + "次|"
        r"(?:已经|都)联系(?:过|了)?客服(?:了)?.{0,20}(?:但|可是|却|说)|"
        r"(?:网络|网|号码|邮箱)(?:也)?(?:没问题|换过了|确认是对的)|验证完了.{0,20}还是被|"
        # registered with a number or address a former employer switched off
        r"(?:前|旧|以前的?|原来的?)公司的?.{0,10}(?:停用|注销|不用|离职|关)|被(?:前|旧|以前的?)?公司(?:停用|注销|关)",
    ], [_IF]),
    # the team asked to act on one payment now: "可以帮我取消刚刚那笔吗", "cancel pls", "多打了一个0"
    ("transaction_investigation", "high", [
        r"cancel (?:pls|please|it now|that one|the one)|the one i just sent|"
        r"(?:change|fix|stop|cancel)(?: \w+){0,4} right now|(?:go|goes|going|went|gone) to (?:the |a )?wrong "
        r"(?:account|iban|person|number|address|account number)",
        r"(?:帮我|帮忙|替我|麻烦)(?:帮我|帮忙)?(?:取消|撤回|改回|拦截|追回|处理)(?:一下)?"
        r"(?:刚才|刚刚|那笔|这笔|来|回来)|"
        r"(?:转|付|打)了\d{3,}.{0,10}多(?:打|输|按)了(?:一个|个)?(?:0|零)|把\d+(?:输|打|填)成(?:了)?\d+|\d+(?:变成|输成|打成)(?:了)?\d+",
    ], [r"(?<![a-z])(?:if|what if|hypothetically|not happened)(?![a-z])|如果|万一|要是|假如|以后"]),
    # a screen or code quoted: "代码 T-409", "code 503", "白屏，转圈圈", "a blank box", "提示不支持"
    ("account_access", "normal", [
        r"(?:with |error )?code [a-z]?-?\d{3}(?!\d)|blank (?:box|screen|page)|"
        r"(?:number|line)(?: \w+){0,4} (?:doesnt|does not|wont|didnt) connect|doesnt show up as an option|"
        r"(?:code|codes) (?:is |are )?(?:always|keeps being|still) rejected|stopped working.{0,60}(?:cant|cannot) "
        r"(?:get in|log ?in)",
        r"(?:旧的?|以前的?|原来的?)(?:手机号|号码|电话|手机号码|sim卡?).{0,6}(?:停了|停用|注销|不用了|没了|丢了)|"
        r"代码\s?[a-z]{0,3}-?\d{2,}|错误码|白屏|闪退|提示不支持|看不到附件|打不通|"
        r"(?:账号|账户|帐号|帐户)(?:突然|又|竟然|已经)?被(?:锁|冻结|封)(?:住)?(?:了)?.{0,16}(?:登不|看不到|画面|所以|联系)|"
        r"(?:通过|验证完|认证完).{0,10}(?:又|隔天又|又变回|变回)(?:了)?.{0,4}未(?:验证|认证)",
    # a crash or blank screen at the login is the login answer's (network, cache), as in English ("crashes at login")
    ], [_IF, r"(?:有用|管用|有效)吗|要不要", r"(?:登录|登陆)(?:页面|页|画面|界面|的时候|时)?.{0,6}(?:闪退|白屏)"]),
    # someone else in the account, or one's data out: "三笔异常转账", "他一直用我的帐号在付款", "被人发到群里"
    ("hacked_account", "high", [
        r"(?:using|uses|used) my account (?:to )?(?:pay|buy|send)|"
        r"(?:ex|someone|somebody|he|she|they|roommate|flatmate) (?:still )?(?:has|have|knows|know) my (?:phone|pin|"
        r"password|code|login)|used my (?:okpay|account|wallet|card|phone)(?: \w+){0,6} without (?:asking|permission|"
        r"my permission|telling me)|(?:my )?(?:phone|laptop|bag|wallet) (?:was |got |has been )?(?:stolen|snatched)|"
        r"(?:my )?(?:phone number|balance|data).{0,20}"
        r"(?:leaked|posted)|already (?:give|gave|told|sent) (?:it|them|him|her|my password|the code)",
        r"(?:前男友|前女友|前夫|前妻|别人|室友|同事)(?:还)?(?:知道|有)(?:我的)?(?:密码|手机|验证码|支付密码)|"
        r"(?:孩子|小孩|儿子|女儿|家人|老公|老婆|室友|朋友|弟弟|妹妹)(?:偷偷|背着我|没经过我同意|擅自|私自)(?:用|拿)|"
        r"手机(?:昨天|今天|刚刚|刚才)?.{0,8}(?:被偷|被抢)|"
        r"(?:" + _NUM_ZH + r"|一)笔(?:异常|陌生|不明|不认识|奇怪)|(?:异常|陌生|不明)(?:的)?(?:转账|交易|扣款).{0,12}"
        r"(?:一共|总共|共|\d)|用我的(?:账号|帐号|账户|帐户)在(?:付款|消费|转账|买)|被人发到|"
        r"(?:已经|都)(?:给|告诉|发给)(?:了)?(?:他|对方|他们)?(?:了)?(?:密码|验证码)|"
        r"(?:退|返)(?:我)?(?:双倍|两倍)|(?:账号|帐号|户口|账户|帐户).{0,6}(?:被|俾)(?:人)?盗用|盗用(?:了|咗)",
    ], [_IF, PREVENT, r"(?<![a-z])make sure(?![a-z])"]),  # PREVENT: 防止, 避免, a fear of it ("害怕被盗用")
    # a seller or platform gone after payment: "their profile is gone", "stopped answering", "ghosting me"
    ("scam", "normal", [
        r"(?:profile|account|page|shop|store|site) (?:is |was )?(?:gone|deleted|disappeared)|stopped answering|"
        r"ghosting me|remote (?:control|access|desktop) (?:app|software|tool)",
        r"远程(?:控制|协助|桌面)(?:软件|app)?|(?:让|要|叫)我(?:下载|装|安装)(?:一个)?.{0,6}(?:软件|app)|"
        # a fee first to receive a prize or a payment: "叫我先储值才能领奖金"
        r"(?:让|要|叫)我(?:先)?(?:充值|储值|交|付|转).{0,8}(?:才能|才可以)(?:领|拿|提|收|解)",
    ], [r"(?<![a-z])(?:what if|in case)(?![a-z])"]),
    # a call asked for, to the customer's own number: "麻烦你们直接打给我", "call me at ..."
    ("asked_for_human", "normal", [
        r"call me (?:back |at |on |asap|now)|(?:my )?number is \+?\d",
        r"(?:直接|马上|尽快)?打(?:电话)?给我|(?:我的)?(?:号码|电话)(?:是)?\s?\d{4}",
    ], [r"(?<![a-z])(?:if|what if)(?![a-z])|如果|万一"]),
    # a holder who died, said as "my late father" ("已故"): the deceased row's case in other words
    ("deceased", "high", [
        r"(?:my|our) late (?:father|mother|dad|mum|mom|husband|wife|son|daughter|brother|sister|grand\w+|partner)",
        r"已故|过世|去世|往生",
    ], []),
    # dev15: cases said mildly or inside a question, next to the FAQ question in almost the same words.
    # A refund wished for one's own payment, politely ("would it be possible to get a refund on the payment I made this
    # morning?", "那笔订单我想退款，可以吗", "可不可以把昨天那笔钱退给我"); how refunds work stays the cancel answer's
    ("refund_request", "normal", [
        r"(?:would it be possible|is it possible|could i|can i|could you|can you|would you|may i)(?: please)?(?: to)? "
        r"(?:get|have|receive|process|issue|give me|do)? ?(?:a |my )?refund(?: of| on| for)? (?:the |my |that |this )"
        r"(?:\w+ )?(?:payment|order|purchase|transfer|charge|top ?up|subscription|transaction)s? "
        r"(?:i (?:just )?(?:made|paid|did|sent|placed)|from|yesterday|today|this morning|last|earlier)",
        r"(?:那|这)(?:笔|单|个)(?:订单|钱|款|交易|付款|充值|消费)?.{0,8}(?:我)?(?:想|要|想要|需要)(?:申请)?退(?:款|钱)|"
        r"(?:能不能|可不可以|可以|能否|能)(?:帮我)?把.{0,10}(?:那|这)笔.{0,6}(?:钱|款)?(?:退|还)(?:给|回给)我|"
        r"(?:可不可以|能不能|可以|能否)(?:帮我)?退(?:款|钱)给我",
    ], [_IF, r"(?<![a-z])(?:how|usually|normally|policy)(?![a-z])|怎么|如何|怎样|流程|步骤|一般|通常"]),
    # a detail typed wrong or a payment made by mistake, then the team asked to act ("typed the wrong account number,
    # could you reverse it?", "one digit was off ... is there any way you can get it back?"); "can I undo it" asks
    ("wrong_transfer", "high", [
        r"(?:wrong|one digit|a digit|digit (?:was )?(?:off|wrong)|typo|mistyped).{0,120}(?:(?:can|could|would|will) "
        r"(?:you|u|someone|somebody|your team)|is there (?:any ?way|anything) (?:you|u|your team) (?:can|could))"
        r"(?: please| guys| kindly)? (?:\w+ ){0,2}(?:reverse|cancel|undo|stop|recall|recover|retrieve|"
        r"get (?:it|the money|my money|them) back|pull (?:it )?back|bring (?:it )?back|return it)",
    ], [_IF]),
    ("transaction_investigation", "normal", [
        r"(?:by mistake|by accident|accidentally|mistakenly).{0,80}(?:can|could|would) (?:you|u|someone|your team)"
        r"(?: please| kindly)? (?:\w+ ){0,2}(?:reverse|cancel|undo|stop|recall|get (?:it|the money) back)"
        r"(?: it| that| this)?(?: for me)?",
    ], [_IF]),
    # a payment in one's own history told mildly: "a 12.00 payment to 'QX Digital' that I don't think I made",
    # "账单里有一笔…的扣款，我不认识这个商户", "有一筆「…」的扣款，這是誰啊"; what to do on seeing one is the security
    # answer's
    ("stolen_funds", "urgent", [
        r"(?:payment|charge|transaction|transfer|debit|purchase|withdrawal)s?\b.{0,60}(?:i|we) (?:dont|do not) "
        r"(?:think|believe) (?:i|we) (?:made|did|authori[sz]ed|sent|paid|bought|ordered)",
        r"(?:一笔|有笔|几笔|这笔|那笔).{0,24}(?:扣款|付款|交易|消费|转账|支出|扣费|转出).{0,16}(?:我)?(?:完全|根本|都|也|并)?"
        r"不认(?:识|得)(?:这个|这家|那个|那家|该)?(?:商户|商家|公司|收款人|收款方|名字|人)|"
        r"(?:一笔|有笔|几笔|这笔|那笔).{0,30}(?:扣款|付款|交易|消费|转账|支出|扣费|转出).{0,6}(?:这|那)是(?:谁|哪个)",
    ], [_IF, PREVENT]),
    # the account under review or restricted and nothing works, asked how long ("账户显示审核中，什么都转不了，要多久")
    ("frozen_funds", "high", [
        r"(?:账户|账号)[^,，。]{0,8}(?:审核|审查|限制|受限).{0,20}(?:什么都|啥都|全都|都)(?:不能|没法|没办法|无法|操作不了|"
        r"用不了|转不了|动不了)",
    ], [_IF]),
    # the answer's step done and still failing, told casually: "changed the pw, still can't log in lol", "i do clear
    # cache and reinstall app but still not login", "enough balance and tried wifi and mobile data", "uploaded it three
    # times ... the photos are sharp", "每次都说看不清，可是照片很清楚"; asked whether to do it ("should I") is the
    # FAQ's
    ("tried_already", "normal", [
        r"(?:reset|changed|set) (?:the |my |a )?(?:new )?(?:password|pw|pwd|pass)\b.{0,40}(?:still|yet) (?:cant|cannot|"
        r"can not|not able to|unable to|doesnt let me|wont let me|not) (?:log|sign|get in|login|enter)|"
        r"(?:clear|clean|cleared|cleaned) (?:the |my |app )?(?:cache|cookies)(?: and| &|,)? .{0,40}(?:still|but still|"
        r"no luck)|"
        r"(?:enough|plenty of|sufficient) (?:balance|money|funds)(?: \w+){0,3} (?:and|,) (?:i )?"
        r"(?:tried|switched|changed|used) (?:\w+ ){0,2}(?:wifi|wi-fi|data|4g|5g|network)|"
        r"(?:uploaded|submitted|resubmitted|sent|resent)(?: \w+){0,3} (?:\d+|two|three|four|five|several|many|"
        r"multiple) times.{0,60}(?:rejected|declined|denied|unreadable|blurry)|"
        r"(?:rejected|declined|denied|unreadable|blurry).{0,60}(?:photos?|pictures?|images?|scans?) "
        r"(?:are|is|were|was) (?:\w+ )?(?:sharp|clear|crisp|perfectly (?:clear|fine))",
        r"(?:重新|再次|又)?(?:拍|上传|传|提交)(?:了)?(?:好几|[两三四五几多]|\d+)(?:次|遍).{0,20}(?:每次|都|还是|一直)(?:都)?"
        r"(?:说|显示|提示)?(?:看不清|模糊|不清楚|不清晰|无法辨识|无法识别)|"
        r"(?:看不清|模糊|不清楚|不清晰|无法辨识|无法识别).{0,16}(?:可是|但是|但|可)(?:我的)?(?:照片|相片|证件照)?(?:明明|其实)?"
        r"(?:很|都很|非常|挺|超)(?:清楚|清晰)",
    ], [_IF, r"(?<![a-z])(?:should i|do i need|is it worth|what (?:should|do|can) i do|what now)(?![a-z])|"
        r"要不要|需不需要|该不该|怎么办|咋办|(?:要|该)怎么|怎么处理"]),
    # someone else signed in, in Taiwan and Hong Kong words: "新裝置登入，但不是我", "個帳戶好似俾人hack咗"
    ("hacked_account", "urgent", [
        r"(?:新|陌生|不明|其他|别的)(?:的)?(?:设备|手机|电脑).{0,6}(?:登录|登陆).{0,20}(?:但|可|可是|但是)(?:是)?(?:那)?"
        r"(?:并|根本)?不是我|(?:被|给)(?:人|别人)?hack|hack(?:了|左)",
    ], [_IF, PREVENT, r"会不会|会唔会|怕|怎样|怎么|如何|避免|防止"]),
    # dev16: cases said in voices the rows had not seen (non-native English, someone writing for a parent or friend,
    # Cantonese, quoted app screens), each next to the FAQ question in the same voice.
    # money sent to the wrong party, told with the verb left bare ("I was transfer to wrong number", "i transfer to
    # wrong person already") or with a pinyin abbreviation ("转错zh了", "转给了别人"); asked about, it is the FAQ's
    ("wrong_transfer", "high", [
        r"(?<![a-z])(?:i|we|he|she|my \w+) (?:was |am |have |had |already |just )?(?:transfer|send|pay|wire)"
        r"(?: \w+){0,3}"
        r" (?:to )?(?:the |a )?wrong (?:person|number|account|recipient|people|wallet|address|phone number|guy|id)",
        r"(?:转|打|汇|付)错了?(?:zh|账户|账号|户头|卡号|号码)|错.{0,12}(?:转|打|汇|付)(?:到|给)了别人",
    ], [_IF, ASKS]),
    # a refund wanted in other words ("I want my money refunded"), or a merchant asking the team to refund a customer
    ("refund_request", "normal", [
        r"(?<![a-z])(?:i |we )?(?:want|need|would like|id like|wanna) (?:my |the |our |this |that )?(?:money|payment|"
        r"funds|order|purchase|charge)s? (?:to be )?(?:refunded|returned|back)(?![a-z])",
        r"(?:帮|替|请)(?:我)?(?:给|为|帮)(?:这个|这位|那个|那位|我的|一个)?(?:客户|顾客|客人|买家)退(?:款|钱)",
    ], [_IF, r"(?<![a-z])(?:how|can i|could i|is it possible)(?![a-z])|怎么|如何|能不能|可以吗|能否"]),
    # the same case said for someone else: a parent's old number gone so codes go nowhere ("my mom lost her old phone
    # number"); asked "what now", it is the login answer's
    ("account_access", "high", [
        r"(?:lost|lose|gave up|cancelled|canceled|changed|no longer (?:has|have|uses|use)) "
        r"(?:my|his|her|their|our|the) "
        r"(?:old |registered |previous |linked )?(?:phone number|mobile number|number|sim|sim card|email|e-mail)"
        r"(?: \w+){0,3}.{0,30}(?:code|link|reset|otp)s? (?:\w+ )?(?:goes|go|went|is going|are going|gets sent|"
        r"get sent) "
        r"(?:nowhere|to the old|to that|to her old|to his old|to my old)|"
        r"(?:lost|lose|gave up|no longer (?:has|have)) (?:my|his|her|their) (?:old |registered )?(?:phone number|"
        r"mobile number|number|sim|email).{0,60}(?:stuck|cant|cannot|can not|unable|locked out)",
    ], [_IF, r"(?<![a-z])(?:what (?:now|should|do|can)|how (?:do|can|should))(?![a-z])|怎么办|咋办"]),
    # a scam someone fell for, told for a friend or a grandparent: the money sent to someone who then vanished, or a
    # password given to a caller "from OKPay"; how to spot one is the security answer's
    ("scam", "high", [
        r"(?:sent|paid|gave|transferred|invested)(?: \w+){0,8} (?:to )?(?:an? |the |some |this |that )?(?:\w+ )?"
        r"(?:investment|trading|crypto|forex|online|facebook|instagram|tiktok|telegram|dating)?(?: \w+)? ?(?:guy|man|"
        r"woman|person|seller|buyer|agent|group|platform|site|app|mentor|advisor|friend)(?: \w+){0,4} (?:and )?"
        r"(?:now )?"
        r"(?:he|she|they|it)? ?(?:has |have )?(?:vanished|disappeared|ghosted|blocked|stopped (?:answering|replying|"
        r"responding)|deleted)",
        r"(?:call|text|message|sms|email|dm)s? (?:from|claiming to be from|saying it was) "
        r"(?:okpay|you|support|the bank)"
        r".{0,40}(?:gave|told|sent|shared|read) (?:them|him|her|it)(?: \w+)? (?:my|his|her|their|the) (?:password|pw|"
        r"pin|code|otp|sms code|verification code|login)",
    ], [_IF, PREVENT]),
    # a review refused and no reason given, in other words ("they never say why", "they dont tell me why")
    ("review_problem", "normal", [
        r"(?:kyc|verif\w*|identity|id|ic|passport|documents?)(?: \w+){0,3} (?:rejected|declined|denied|refused|failed)"
        r".{0,40}(?:never|dont|do not|didnt|did not|doesnt|does not|wont|will not) (?:say|said|tell|told|explain|"
        r"give)(?: me| us)? (?:why|the reason|a reason|any reason)",
    ], [_IF]),
    # the promised 24 hours waited for support's reply, or a reset done, and still nothing (mainland and Cantonese)
    ("tried_already", "normal", [
        r"(?:已经|都)?等了(?:超过|快|足足)?(?:24|二十四)\s?(?:个)?小时(?:了)?.{0,16}(?:还是|仍然|依然|都|也|还)(?:没|未|不)",
        r"(?:已经|早就)(?:reset|重置|重设|改)了?\s?(?:密码|password|pw)?.{0,12}(?:都是|还是|仍然|依然|都)"
        r"(?:登录|登陆|登)(?:不到|不了|不上|不进)",
    ], [_IF]),
    # the app's screen quoted: withdrawals or payments switched off on the account ("提款功能已暫停")
    ("frozen_funds", "high", [
        r"(?:提款|提现|出金|转账|收款|付款|交易)(?:功能)?(?:已经|已|被)(?:暂停|停用|关闭|禁用|冻结)|"
        r"(?:提款|提现|出金|转账|收款|付款|交易)(?:功能)?(?:暂停|停用)(?:了|中)",
        r"(?:withdrawals?|transfers?|payments?) (?:are |is |have been |has been )?(?:disabled|paused|unavailable|"
        r"switched off)(?! (?:if|when|during))",
    ], [_IF, r"(?<![a-z])(?:why (?:would|do|does|might)|usually|in general)(?![a-z])|一般|通常|为什么会"]),
    # an outside probe's classes: money at stake, asked as a question whose words an FAQ owns ("I was tricked into
    # sending money, can I cancel the payment?"). A scam the customer fell for (tricked, conned, fooled, cheated, a
    # fake seller / buyer / landlord / investment, 上当, 受骗, 俾人呃), in en, zh-Hans, zh-Hant and Cantonese; how not
    # to be taken in, or what if one were, stays the security answer's
    ("scam", "high", [
        r"(?<![a-z])(?:was|were|got|get|been|being|getting|am|im) (?:\w+ )?(?:tricked|conned|fooled|cheated|duped|"
        r"swindled|deceived|defrauded|hoodwinked|catfished|ripped off|taken in)(?![a-z])|"
        r"(?<![a-z])(?:tricked|conned|fooled|cheated|duped|swindled|deceived|defrauded|hoodwinked|scammed) (?:me|us|"
        r"my \w+|him|her|them|into|out of)(?![a-z])|"
        r"(?<![a-z])fell for (?:an? |the |this |that |his |her |their |some )?(?:\w+ ){0,2}(?:scam|trick|con|fake|lie|"
        r"story|scheme|hoax)|"
        r"(?:paid|sent|gave|transferred|wired|deposited|invested)(?: \w+){0,6} (?:to |with |in |into )?"
        r"(?:an? |the |this |that |some )?fake (?:seller|buyer|shop|store|landlord|agent|broker|investment|exchange|"
        r"platform|website|site|company|job|employer|recruiter|lender|charity|ticket|vendor|merchant)|"
        r"fake (?:seller|buyer|shop|store|landlord|broker|investment|exchange|platform|employer|recruiter|lender|"
        r"charity|vendor|merchant|invoice)s?(?: \w+){0,4} (?:took|has|got|stole|kept|tricked|conned|cheated|wont|"
        r"blocked|disappeared|vanished)",
        r"上当|上了当|受骗|(?:给|被|让)(?:人|他|她|佢|对方|骗子|个骗子)?呃|呃(?:了|走)?(?:我|钱|我的钱)|呃了\s?(?:\d|"
        r"[一二两三四五六七八九十百千万几])|"
        r"(?:遇到|碰到|遇上|撞到)(?:了)?(?:一个)?(?:假|骗)|(?:付|转|给|打)(?:了)?(?:钱|款)?给(?:了)?(?:一个)?假(?:的)?"
        r"(?:卖家|买家|商家|房东|中介|客服|平台|网站|投资)",
    ], [_SUPPOSE, PREVENT, SCAM_QUESTION,
        r"(?<![a-z])(?:how|ways?) (?:do|can|to|should|would) (?:i |you |we |people |someone )?(?:avoid|spot|tell|know|"
        r"recogni[sz]e|identify|protect|stay safe|not (?:get|be))|(?:common|usual|typical|latest|new) (?:\w+ )?"
        r"(?:tricks|scams|frauds|signs)|avoid|dont (?:get|be) (?:tricked|fooled|conned|cheated)|"
        r"防|避免|识别|分辨|辨别|(?:才|就|先)不会|不被|(?:怎样|怎么|如何)(?:才|才能|能|可以)?不|不会再|不上当|不受骗"]),
    # the money gone with an amount, overnight or "just like that", also in sarcasm ("5k gone overnight. So how do I
    # turn on 2FA, genius?", "一夜之间钱没了，怎么开二次验证"); whether money can vanish stays the security answer's
    ("stolen_funds", "urgent", [
        r"(?:" + AMOUNT + r"|(?<![\w.])\d[\d,.]*\s?k(?![a-z0-9])|(?:all )?(?:my |the )?(?:money|funds|balance|savings|"
        r"coins|crypto|usdt|btc|everything))(?: (?:\w+ ){0,3})?(?:was |is |has |have |had |just |all |got |been )*"
        r"(?:gone|vanished|disappeared|drained|wiped(?: out)?|evaporated)(?![a-z]).{0,40}(?:overnight|over night|"
        r"last night|in my sleep|while i (?:was )?(?:slept|sleeping|asleep)|out of nowhere|just like that|"
        r"(?:all of a )?sudden)|"
        r"(?:overnight|over night|last night|in my sleep|while i (?:was )?(?:slept|sleeping|asleep)|woke up|wake up|"
        r"out of nowhere|just like that|all of a sudden|suddenly).{0,40}(?:" + AMOUNT + r"|(?<![\w.])\d[\d,.]*\s?k"
        r"(?![a-z0-9])|money|funds|balance|savings|coins|crypto|usdt|btc|everything)(?: (?:\w+ ){0,3})?"
        r"(?:was |is |has |have |had |just |all |got |been )*(?:gone|vanished|disappeared|drained|wiped(?: out)?|"
        r"evaporated)(?![a-z])|"
        r"(?<![\w.])\d[\d,.]*\s?k(?![a-z0-9])(?: (?:just|all|is|was|has|had|got|been))* (?:gone|vanished|disappeared|"
        r"drained)(?![a-z])",
        r"(?:一觉醒来|睡醒|睡一觉|醒来|起床|一夜之间|一晚上|一个晚上|一夜|昨晚|半夜|突然|莫名其妙|平白无故)(?:起来)?.{0,16}"
        r"(?:钱|余额|资产|存款|积蓄|币|u|usdt|\d|[一二两三四五六七八九十百千万]+(?:块|元))?.{0,6}"
        r"(?:不见了|没了|没有了|没有晒|没晒|清空了|清零了|蒸发|全没|被清空)",
    ], [_SUPPOSE, PREVENT, r"会不会|会唔会|可不可能|有没有可能|(?<![a-z])(?:can|could|would|might|will|does|do) "
        r"(?:my |the |your )?(?:money|funds|balance|savings|crypto|it)(?: ever| just)? (?:be )?(?:disappear|vanish|go|"
        r"get|gone)"]),
    # a message someone got that asks to click a link or says the account is locked, told as received and not asked
    # about ("I got an email saying my account is locked and to click a link, how do I log in?"); whether it is real,
    # "I haven't clicked", or what to do on getting one stays the security answer's
    ("scam", "high", RECEIVED_LURE, [_SUPPOSE, PREVENT, SCAM_QUESTION,
        r"(?<![a-z])(?:should|do|would|will|does) (?:i|we|you|okpay) (?:ever )?(?:click|open|tap|follow|send|reply)|"
        r"(?:你们|官方|okpay)(?:会|会不会)|要不要点|该不该点|能不能点|可以点吗"]),
    # a transaction in one's own history one does not know, then how to cancel it ("我不认识这笔交易，怎么取消？")
    ("stolen_funds", "urgent", [
        r"(?:不认识|不认得|没见过|不记得|没印象)(?:这|那|呢|嗰)(?:一)?笔|(?:这|那|呢|嗰)笔(?:交易|扣款|付款|转账|消费|"
        r"记录|钱|支出|转出)?(?:我)?(?:完全|根本|都|也|并)?(?:不认识|不认得|没见过|不记得|没印象)",
    ], [_SUPPOSE, PREVENT]),
    # paid for something and it never came (a marketplace, a shop online): a dispute, even asked as how to cancel;
    # asked hypothetically ("what if I pay and never receive it") it is the cancel answer's
    ("merchant_dispute", "normal", [
        r"(?:paid for|bought|ordered|purchased|paid (?:a |the )?(?:seller|shop|store|vendor|merchant))(?: \w+){0,8}"
        r".{0,40}(?:and|but|,)(?: i| we)?(?: still| just)? (?:never|didnt|did not|havent|have not|hasnt|has not) "
        r"(?:got|get|gotten|received|receive|been shipped|been delivered)(?! (?:a |an |any |the |my )?(?:confirmation|"
        r"receipt|email|e-mail|code|sms|otp|notification|refund|money|funds|payment|reply|response))|"
        r"(?:paid for|bought|ordered|purchased)(?: \w+){0,8}.{0,40}(?:nothing|it|they|the \w+|my \w+) (?:ever )?"
        r"(?:never )?(?:came|arrived|showed up|was delivered|were delivered|got delivered)(?! (?:back|through))"
        r"(?<!\bit came)(?<!\bthey came)(?<!\bit arrived)(?<!\bthey arrived)",
        r"(?:买|购买|订|下单|拍)(?:了|咗)?.{0,20}(?:付|给|转|畀|俾)(?:了|咗)?(?:钱|款).{0,20}(?:(?:没|没有|未|冇)(?:收到|到|发)"
        r"(?:货|东西|商品|包裹|快递)|(?:货|东西|商品|包裹|快递)(?:一直|都|还|到现在)?(?:没|没有|未|冇)(?:到|来|收到|发)|"
        r"(?:收|到)(?:不|唔)到(?:货|东西|商品|包裹|快递))",
    ], [_SUPPOSE, r"(?<![a-z])(?:usually|normally|policy|in general)(?![a-z])|一般|通常"]),
    # staff of a shop given their own sign-in on the owner's account: the FAQs do not cover it
    ("not_covered", "normal", [
        r"(?:cashier|staff|employee|worker|assistant|team member)s?(?: \w+){0,3} (?:own|separate) (?:login|account|"
        r"access|sign in)|sub-?accounts?|sub-?users?|staff accounts?",
        r"子账户|子账号|(?:员工|收银员|店员)(?:的)?(?:账号|账户|登录|子账号)",
    ], []),
    # topics the FAQs do not answer: fees, a limit to a figure, a named currency, business accounts, shared wallets,
    # a name change, data requests, cards, a refugee document, a country of residence unlike the passport's
    ("not_covered", "normal", [
        r"(?:charge|charges|cost|costs) (?:for|to) (?:send|sending|withdraw|transfer|receiv)|debit card|"
        r"(?:over|more than|above) \$\d|\$\d{1,3},\d{3}|gdpr|copy of (?:all )?(?:the )?(?:personal )?data|"
        r"(?:changed|change|new|married) (?:my )?(?:sur|last |family |maiden )?name|name change|"
        r"journalist|press (?:team|office|inquiry|enquiry)|media (?:inquiry|enquiry)|"
        r"second user|share (?:one|a|the) wallet|joint account|integrat\w* okpay|okpay (?:at|into) (?:our )?checkout|"
        r"business account|corporate account|merchant account|partnership|on behalf of (?:a|our|my) (?:\w+ ){0,3}"
        r"(?:company|startup|business|shop|store)|(?:app|the) language|going to support|"
        r"will (?:you|okpay) support(?! (?:ever|staff|team|agents?|people)\b)|"
        # a named bank's card or account: payout times and refunds to it are the bank's and support's
        r"(?:barclays|hsbc|lloyds|natwest|santander|monzo|revolut|chase|wells fargo|citibank|bank of america|dbs|"
        r"ocbc|maybank|standard chartered) (?:card|account|debit|credit)",
        r"手续费标准|收费标准|费率|年化|起投|收益多少|对公(?:账户|帐户)|企业(?:账户|帐户)|商户接入|"
        r"额度(?:能|可以)?(?:提|升|提高)(?:到|至)(?:多少|\d)|具体(?:数字|金额|额度)是?多少|"
        r"(?:存|充值?|换)(?:入)?(?:越南盾|日元|韩元|泰铢|比索|卢比|披索|卢布|里拉)|"
        r"记者|采访|难民|(?:妈妈|妈|爸爸|爸|老公|老婆|家人|朋友)的(?:账号|帐号|账户|帐户)是用我(?:的)?身份证|(?:人在|住在).{1,6}(?:护照|证件)是|(?:身份证|证件|账号|帐号)是我(?:妈|爸|老公|老婆|朋友|家人|哥|姐)的|"
        r"改名|名字(?:怎么|要怎么|如何)改|改.{0,14}(?:帐号|账号|账户|帐户|实名)(?:上)?的名字|改成(?:夫|父|母)姓|"
        r"(?:商务)?合作(?:要|的话|事宜|洽谈|窗口)|金流|我们是.{0,12}(?:公司|平台|电商|商家|商户)|(?:哪个|什么)网络.{0,4}$|选哪个网络|(?:30|\d+)天内不能再?申请|"
        r"(?:账户|帐户|我)(?:为什么)?(?:突然)?(?:收不了|收不到|不能收)款",
    ], []),  # uncovered asked hypothetically too ("if I changed my surname")
]
