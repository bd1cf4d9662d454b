"""Triage rows for customers who already did what an FAQ advises and it still fails, and for cases told as a story.

The labelling policy (tests/core/test_triage_eval.py): a customer who says they ALREADY DID what the FAQ advises
(checked spam, waited the promised time, reset the password, re-uploaded, checked the network or the address) and it
still fails is a handoff, the FAQ's answer is exhausted; the same steps asked about hypothetically ("should I check
spam if the code doesn't come?") get the FAQ. Also here: codes that go to a number or address the customer no longer
has, money that left one side and did not land told in other words, and requests that the team act on one payment.

Rows of the incident table (core/triage_rules.py explains their form); they come after core/triage_rows_money.py.
"""

from __future__ import annotations

from core.triage_shapes import LONG_WAIT

# asked hypothetically, or asked whether to do the step: the FAQ's question ("要不要先去垃圾箱找找")
HYPOTHETICAL = (r"(?<![a-z])(?:if|what if|in case|suppose|should i|do i need to|is it worth)(?![a-z])|"
                r"如果|万一|要是|假如|的话|要不要|是不是要|需不需要|该不该|有没有用|会不会")
# a question about what to do, for rows whose statement alone is the case ("账号被锁了怎么办" is the FAQ's)
ASKS_HOW = r"怎么|如何|怎样|咋|吗|么|(?<![a-z])(?:how|what (?:can|should|do) i)(?![a-z])"
# some of the transaction answer's checks done, asking about the ones it has left (an outage, a limit): its answer
# still has something to say ("switched to mobile data, still nothing. Is your system down or is there a limit?")
ASKS_REST = (r"^(?![\s\S]*(?:spam|junk|password|log ?in|sign ?in|reset|code|kyc|verif|upload|photo|selfie))[\s\S]*"
             r"(?<![a-z])(?:is|are|could|might|maybe|any)(?: [a-z]+){0,5} (?:system|systems|servers?|outage|"
             r"maintenance|down|limits?)(?![a-z])[^.!?]{0,40}\?")
_STILL_ZH = r"(?:也|都|还是|仍然|依然|一样|还|又)(?:是)?(?:一直|老是|总是)?"
_FAILS_ZH = (r"(?:被)?(?:没用|不行|失败|登不|登录不|进不去|转不|付不|提不|卡|报错|错误|被拒|被退|没过|不通过|没通过|"
             r"转圈|一样|没到|没收到|收不到|处理中|pending|被挡|挡着|驳回|显示失败)")

DONE_ROWS: list[tuple[str, str, list[str], list[str]]] = [
    # the step the FAQ gives, done, and it still fails: spam looked through, the password reset, the cache
    # cleared, the network changed, the status page checked, the photo uploaded again
    ("tried_already", "normal", [
        r"(?:checked|looked (?:in|through)|searched|went through|checked in) (?:my |the |all )?(?:spam|junk|"
        r"promotions|trash)|not even in (?:the |my )?(?:spam|junk)|(?:spam|junk)(?: folder)? too|whitelisted|"
        r"(?:just|already) reset (?:it|my password|the password|my pw)|even after (?:a |the |i )?(?:password )?"
        r"reset|after (?:resetting|i reset|reset)(?: my| the)?(?: password| pw)?.{0,40}(?:still|invalid|incorrect|"
        r"wrong|cant|error)|reset (?:my |the )?(?:password|pw)(?: \w+){0,4} (?:but|and) (?:it )?still|"
        r"(?:cleared|clearing|cleaned) (?:the |my |app )?(?:cache|cookies|app data)(?: \w+){0,3} (?:already|too)|"
        r"(?:cleared|clearing|cleaned|reinstalled|rebooted|restarted)(?: \w+){0,4}.{0,60}(?:still|no luck|same "
        r"(?:thing|error|problem))|"
        r"(?:tried|switched|changed|swapped|moved)(?: to| from)? (?:\w+ ){0,2}(?:wifi|wi-fi|data|4g|5g|networks?|"
        r"connections?|mobile data|hotspot).{0,80}(?:still|same|no luck|keeps|doesnt|wont)|"
        r"tried (?:wifi and data|data and wifi|(?:two|2|both|different|several|multiple|three|3) networks)|"
        r"checked (?:my |the )?(?:wifi|network|connection|settings|balance).{0,60}(?:still|now what|no luck)|"
        r"status page (?:is |was |says |shows )?(?:all )?(?:systems? )?(?:are |is )?"
        r"(?:green|fine|ok|normal|operational).{0,50}(?:but|still|"
        r"none|keeps|fail)|"
        r"(?:re-?upload(?:ed)?|re-?submitted|retook|uploaded (?:\w+ ){0,3}again|submitted (?:\w+ ){0,2}again|"
        r"upload again|(?:took|taken) (?:a )?new (?:photo|picture|selfie)s?).{0,80}(?:rejected|declined|denied|"
        r"reject|still|again|failed)|"
        r"(?:already |i )(?:contacted|emailed|messaged|wrote to) (?:you|support|customer service).{0,60}"
        + LONG_WAIT,
        r"垃圾(?:箱|邮件|信|桶|邮箱|信箱)?.{0,12}(?:也|都)?(?:翻|看|找|查|检查)(?:过|了|遍)|"
        r"(?:翻|看|找|查)(?:过|了|遍)(?:了)?垃圾|"
        r"(?:重置|重设|改|找回|设)(?:完|好)?(?:了|过)?(?:新)?密码(?:之后|以后|后|了)?.{0,10}" + _STILL_ZH + _FAILS_ZH
        + r"|(?:清|清理|清除)(?:了|过|除)?(?:缓存|cache|cookie).{0,24}" + _STILL_ZH + _FAILS_ZH
        + r"|(?:缓存|cache)(?:也|都)?(?:清|清理|清除)(?:了|过).{0,24}" + _STILL_ZH + _FAILS_ZH
        + r"|(?:重装|重启|卸载|更新)(?:了|过).{0,24}(?:还是|仍然|依然)" + _FAILS_ZH
        + r"|(?:换|试|用|切|转)(?:了|过|成|到)?(?:别的|其他|另一个|手机|(?:两|三|几|好几)(?:个|种)|不同的?)?"
        r"(?:网络|wifi|4g|5g|流量|热点).{0,20}"
        + _STILL_ZH + _FAILS_ZH
        + r"|(?:网络|网|wifi)(?:也|都)?(?:换|切|试)(?:成|到|了|过).{0,24}" + _STILL_ZH + _FAILS_ZH
        + r"|网(?:络)?也试(?:了|过).{0,16}" + _STILL_ZH + _FAILS_ZH
        + r"|(?:4g|5g|wifi|流量|网络|数据)(?:和|跟|与|、|或)(?:4g|5g|wifi|流量|网络|数据)(?:都|也)试(?:过)?了"
        r"|余额(?:是|也|都)?(?:明明)?(?:够|充足|足够|没问题)(?:的)?.{0,6}(?:网络|网|wifi)(?:也|都)?(?:换过|换了|试过|试了|"
        r"没问题|正常)|(?:网络|网|wifi)(?:也|都)?(?:换过|换了|试过|试了|没问题|正常).{0,16}余额(?:是|也|都)?(?:够|充足|足够)"
        r"|(?:服务)?状态页(?:面)?(?:我)?(?:也|都)?(?:看|查)(?:了|过).{0,12}(?:没有|没|不是)(?:在)?(?:维护|故障|问题)"
        r"|维护.{0,10}(?:结束|完成|恢复)了?.{0,16}(?:还是|仍然|依然|还)(?:在)?(?:处理中|pending|失败|不行|没到)"
        r"|(?:重新|再次|又|第二次)(?:拍|上传|传|提交|交|送|认证|验证)(?:了|过)?.{0,30}" + _STILL_ZH + _FAILS_ZH
        + r"|(?:双重验证|二次验证|两步验证|2fa)(?:也|都)?(?:打开|开|开启|设置)(?:了|好).{0,20}(?:还是|仍然|依然)",
    ], [HYPOTHETICAL, ASKS_REST]),
    # codes go to a number, SIM or address the customer no longer has: only support can move them
    ("account_access", "high", [
        r"(?:code|sms|text|otp)s? (?:\w+ ){0,4}to (?:my |the )?(?:\w+ )?(?:sim|number|phone|email)(?: \w+){0,3},? "
        r"(?:which|that) (?:has no|i no longer|i cant|doesnt|is dead|is gone)|"
        r"(?:phone |mobile )?number (?:is |was |has )?(?:change|changed|gone|expired|cancell?ed).{0,40}(?:code|sms|"
        r"otp|cannot|cant)|old (?:number|phone|sim|email) (?:cannot|cant|can not|no longer|doesnt|is dead)|"
        r"(?:email|e-mail|address|number|hotmail|gmail)(?: \w+){0,4} (?:i |which i |that i )?(?:cant|cannot|can no "
        r"longer|no longer) (?:get into|access|use)(?: it)? ?(?:anymore|any more)|"
        r"(?:changed|switched|new|lost|lost access to|no longer have|dont have) (?:my |the |a )?(?:old )?"
        r"(?:phone number|phone|number|email|e-mail|mail|sim|mobile)(?: address| card| number)?\b.{0,40}(?:(?:cant|"
        r"cannot|dont|do not|no longer|never) (?:get|receive) (?:any |the |a |my )?(?:reset )?(?:links?|codes?|emails?|"
        r"sms|texts?|otps?)|(?<![a-z])no (?:more )?(?:reset )?(?:links?|codes?|emails?|sms|texts?|otps?)\b|(?:links?|"
        r"codes?|emails?|sms|texts?|otps?) (?:never|dont|doesnt|wont|isnt|arent|not) )",
        r"(?:手机号|号码|手机|邮箱|电话)(?:已经)?(?:到期|停用|停机|注销|不用了|用不了|没了|没有了|没用了|不能用了|丢了).{0,24}"
        r"(?:收不到|没收到|收不了).{0,4}(?:验证码|短信|邮件|码|code|otp|sms|链接|link)|"
        r"(?:码|验证码|短信|邮件).{0,4}(?:寄|发|送|传|send|sent)\s?(?:去|到)(?:了)?(?:我)?(?:的)?(?:旧|以前|原来|前)|"
        r"验证码.{0,6}(?:去了|发到|到了)(?:他|她|我(?:妈|爸|老公|老婆|女儿|儿子|女|仔))(?:的)?(?:部)?(?:手机|电话)|"
        r"手机(?:坏了|丢了|没了|送修).{0,8}收不到(?:验证)?码|(?:邮箱|信箱)(?:已经)?(?:用不到|用不了|登不进去|进不去)",
    ], [HYPOTHETICAL, ASKS_HOW]),
    # locked, told and asked to be opened: "my account is lock after i try password many time, please open it"
    ("account_locked", "high", [
        r"account (?:is |was |got |has been )?lock(?:ed)?(?: \w+){0,8}.{0,20}(?:please|pls|plz|open it|unlock it)",
        r"(?:账户|账号|account)(?:俾人|被人|给人)锁(?:了|住)",
    ], [HYPOTHETICAL, ASKS_HOW]),
    # someone else in the account: a login the customer does not know, the account used by another
    ("hacked_account", "urgent", [
        r"login from .{0,30}(?:i dont|i do not|dont|do not) recogni[sz]e|logged in from .{0,30}(?:wasnt|not) me",
        r"(?:登录|登陆)(?:记录|纪录).{0,16}(?:不认识|不是我|陌生)|(?:不认识|陌生)的?(?:ip|设备)(?:登录|登陆)|"
        r"盗用(?:了)?(?:我的)?(?:账户|账号)|有人盗用|(?:账户|账号)(?:好像|似乎|可能)?被人(?:登|登录|登陆)(?:过|了)",
    ], [r"会不会|怕|防止|避免|如何防|怎么防|怎么看|怎么查|如何查|如何看|有没有"]),
    # a code or password given to someone posing as staff; a stranger's money to be "returned" elsewhere
    ("scam", "high", [
        r"(?:gave|sent|told) (?:them|him|her|the guy|someone|it) (?:the |my )?(?:code|otp|password|2fa|pin)|"
        r"(?:return|send) it (?:back )?to (?:a |another |a different |his |her )(?:account|wallet|address)|"
        r"(?:he|she|they|the guy|seller) (?:blocked|ghosted) me",
    ], [HYPOTHETICAL]),
    # money that left one side and did not land, told in other words; amounts short; money in from a stranger
    ("transaction_investigation", "normal", [
        r"(?:wallet|okpay|balance|money) (?:was |got |has been )?(?:deducted|debited|charged|taken).{0,40}(?:bank|card|"
        r"account|he|she|they|recipient|seller) (?:shows|has|got|received|sees) nothing|"
        r"(?:paid|sent|transferred)(?: \w+){0,4}.{0,20}(?:the |my )?(?:shop|seller|merchant|store|landlord|vendor)s? "
        r"(?:says|said|claims|is saying) (?:they|he|she|it) (?:never|didnt|did not|hasnt|havent) "
        r"(?:got|get|received|receive)|"
        r"(?:money|it|funds) (?:go|goes|went|gone) out (?:from|of) (?:my )?account.{0,40}(?:not|never|didnt) "
        r"(?:receive|get|arrive)|(?:says|said|claims) (?:he|she|they) (?:paid|sent).{0,60}(?:still see nothing|"
        r"nothing on my|havent (?:got|received|seen)|not (?:received|arrived))|still see nothing|"
        r"still (?:says|shows) (?:(?:its|it is|as) )?(?:overdue|unpaid|not paid)|"
        r"(?:landed|arrived|came|received|got)(?: \w+){0,3}.{0,20}(?:\d+|some) (?:dollars |usd |euros? |eur )?less "
        r"than|less than (?:what|the amount) (?:he|she|they|i) (?:sent|paid)|"
        r"amount (?:is|was) (?:wrong|incorrect|short)|(?:less|short) (?:by )?\d|"
        r"sent me (?:money |\w+ )?.{0,30}(?:and )?i (?:never|didnt|havent) (?:got|get|received|receive)|"
        r"refunds?.{0,60}(?:got nothing|nothing (?:yet|after|so far)|havent (?:got|received|seen))|"
        r"(?:sent|paid|transferred).{0,40}(?:digit wrong|went to (?:someone|somebody) else)|"
        r"(?:son|daughter|kid|child|kids|children) (?:made|bought|spent|used).{0,40}without (?:asking|permission|"
        r"my permission|telling)|(?:someone|somebody|stranger)(?: i dont know)? sent me|"
        r"^\W*(?:pls |please )?(?:cancel|reverse|stop) (?:it|that|this)(?: now| please| pls)?\W*$",
        r"(?:那边|那里)(?:显示)?(?:已经)?(?:扣款|扣了|扣钱|转了|付了).{0,16}我(?:这边|这里)?(?:的)?(?:余额|账户|钱包)?"
        r".{0,6}(?:一直|还|都|并)?(?:没|没有)(?:动|变|到|收到|看到|进)|"
        r"(?:说|表示|话)(?:他|她)?(?:已经)?(?:打|转|付|汇|发|交|给)(?:了)?(?:钱|款)?.{0,12}(?:但|可)(?:是)?.{0,4}我(?:这边|这里)?"
        r".{0,4}(?:没有|没)(?:收到|看到|到账)|"
        r"(?:付了|给了|转了|交了)(?:钱|款)?.{0,12}(?:卖家|商家|店家|商户|收款人|对方)(?:却|还)?(?:说|话|表示)(?:还|一直|都)?"
        r"(?:没有|没|未)收到(?!.{0,10}(?:是不是|是)?(?:延迟|正常)(?:吗|么|的))|"
        r"(?:说|表示).{0,10}已经(?:打|转|付|汇|发|交)(?:到|给|进)?.{0,12}了.{0,6}我(?:这边|这里)?.{0,6}(?:还|都|一直)?"
        r"(?:没看到|没收到|没到账|找不到|查不到|没有)|"
        r"(?:扣款成功|扣了|已扣|扣钱了|扣款了)(?:了)?.{0,16}(?:没进账|没入账|空空|没到账|没收到|查不到|没有进账|没生成|"
        r"没出来)(?!.{0,10}(?:是不是|是)?(?:延迟|正常)(?:吗|么|的))|扣了(?:但|可是|却)(?:是)?显示失败|"
        r"显示(?:完成|成功).{0,10}(?:对方|收款人).{0,8}(?:查不到|没有|看不到)|"
        r"失败(?:了)?.{0,4}(?:钱|款)(?:又|也|还|却)(?:没|没有)退|只退了(?:一半|部分|一部分|\d)|"
        r"(?:钱|款)(?:已经|都)(?:出去|过去)了|"
        r"(?:取消|退款).{0,8}" + LONG_WAIT + r".{0,12}(?:退款|钱)?.{0,4}(?:还|都|一直)?(?:没|没有)(?:回|到|退)|"
        r"(?:充|转|提)的?(?:usdt|币|u).{0,6}(?:[一二两三四五六七八九十]|\d+)个?小时了?(?:还|都)(?:没|没有)到|"
        r"(?:超过|过了|等了)(?:了)?(?:超过)?24\s?(?:个)?(?:钟|钟头)",
    ], [HYPOTHETICAL]),
    # the team asked to act on one payment: get it back, take it back, change it
    ("transaction_investigation", "normal", [
        r"(?:帮我|帮忙)(?:把钱|把它)?(?:追回|拿回|要回|找回)(?:来)?|(?:麻烦|请|帮我)(?:直接)?(?:给我|帮我)?"
        r"(?:撤了|撤回|取消了|取消掉|撤销)|(?:我想|我要)(?:改|修改|更改|换)(?:一下)?(?:收款人|金额|收款账号|地址)"
        r".{0,10}(?:那笔|这笔)|(?:按|点)了两次(?:付款|支付|确认)",
    ], [r"怎么|如何|吗|能不能|可不可以|是否|的话|如果|万一|要是"]),
    ("double_charge", "high", [r"(?:shows?|showing|appears?) (?:up )?twice", r"(?:按|点)了两次(?:付款|支付|确认)"],
     [HYPOTHETICAL]),
    # a review refused with an empty reason, refused though the photo was clear, approved without the limits;
    # a document the guide does not name; still not passed since a dated day
    ("review_problem", "normal", [
        r"(?:verif\w*|kyc|id|identity|review)\W+(?:\w+\W+){0,2}(?:failed|rejected|declined)\W+(?:no|without) "
        r"(?:explanation|reason)|"
        r"only (?:have )?(?:a |my )?(?:student (?:card|id)|residence (?:permit|card)|work permit|birth certificate)|"
        r"no passport.{0,30}no (?:driver|id|licen)|"
        r"(?:verified|verification (?:is )?done|passed (?:the )?(?:kyc|verification)).{0,30}limits? (?:is |are )?"
        r"still (?:so )?(?:low|the same)",
        r"原因(?:那|的)?(?:一)?(?:栏|项|里)?.{0,4}(?:是空的|空白|空着|没写|什么都没有|是空)|"
        r"(?:被退|被拒|退件|驳回|没过|失败)(?:了)?.{0,6}(?:可是|但是|但|可)(?:我的)?(?:照片|证件|资料).{0,6}(?:很清楚|清楚|"
        r"都对|没问题)|"
        r"(?:认证|验证)(?:了|过了|完了|通过了).{0,12}(?:限额|额度).{0,6}(?:低|没变|没提高|一样)|"
        r"只有(?:居留证|学生证|户口本|出生证|工作证|驾照|护照)|"
        r"(?:上周|上星期|上礼拜)[一二三四五六日天]?(?:交|提交|送|申请|上传)的?.{0,12}(?:还|都|仍)(?:没|没有|未)"
        r"(?:过|通过|消息|结果)",
    ], [HYPOTHETICAL]),
    # codes asked for that were never set up, a device-risk screen for days, helping into a relative's account
    ("account_access", "high", [
        r"never (?:set up|enabled|turned on|activated) (?:2fa|two[- ]factor|two[- ]step)",
        r"(?:设备风险|风险设备|请稍后再试).{0,12}" + LONG_WAIT + r"|(?:帮忙|帮我|帮我们)(?:登|登录|登进)(?:进去)?",
    ], [HYPOTHETICAL, ASKS_HOW]),
    # a promised follow-up that never came, a ticket closed unanswered, a help page or support button that
    # does not work, an error code quoted
    ("complaint", "normal", [
        r"ticket (?:got |was |has been )?closed without|loops me back|"
        r"(?:link|button|page) (?:on|in) (?:your|the) (?:site|app|website).{0,30}(?:loops|redirects|goes back|"
        r"is blank|spins)",
        r"(?:说|答应)(?:会)?跟进.{0,12}(?:没下文|没消息|没回|没动静|没人)|(?:到现在|至今)(?:都|还)?没(?:有)?(?:下文|动静)|"
        r"(?:联络客服|联系客服|客服|用户中心|帮助中心|个人中心)(?:按钮)?(?:按|点)(?:下去|进去|了|开).{0,8}(?:一直转圈|转圈|"
        r"空白|没反应|打不开|白屏)",
    ], [HYPOTHETICAL]),
    ("transaction_investigation", "normal", [
        r"error (?:code )?[a-z]{1,3}-?\d{2,}|(?:lower|less) than it should be",
        r"变成.{0,8}了.{0,4}我(?:没|没有|从没)(?:换|兑换|操作)过",
    ], [HYPOTHETICAL]),
]
