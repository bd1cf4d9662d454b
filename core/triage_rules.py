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

from core.triage_rows_account import ACCOUNT_ROWS
from core.triage_rows_case import CASE_ROWS
from core.triage_rows_done import DONE_ROWS
from core.triage_rows_money import MONEY_ROWS
from core.triage_rule import Rule
from core.triage_shapes import (
    AMOUNT,
    CASE_DETAILS,
    CHECKED_EN,
    DONE_ZH,
    HOWTO,
    LONG_WAIT,
    MISDIRECTED,
    OVERDUE,
    REFERENCE_QUESTION,
    STEP_EN,
    VERIFYING,
)

_TABLE: list[tuple[str, str, list[str], list[str]]] = [
    *ACCOUNT_ROWS,  # core/triage_rows_account.py: safety and the account first
    ("double_charge", "high", [
        r"charged (?:me )?(?:twice|two times|double|2 times|three times|multiple times)|double[- ]?(?:charged|"
        r"charge|payment|billed|debited|deducted)|duplicate (?:charge|payment|transaction|deduction)|"
        r"paid twice|deducted twice|debited twice|billed twice|taken twice|charged more than once|"
        r"(?:went through|processed|charged|deducted|debited|billed|taken|came out|went out|executed|sent|paid|"
        r"withdrawn) "
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
        r"(?:付款|扣款|交易|支付|充值|订单|转账)(?:被)?重复|重复(?:了)?(?:一次|一笔|两次)|"
        # one purchase, two identical entries: "只买了一次，记录里出现两笔一样的"
        r"(?:只|就|才|明明)(?:买|付|支付|下单|下了一?单|消费|刷|付款|转|充值|充)(?:了|过)?(?:款)?(?:一|1)次.{0,30}"
        r"(?:两|2|二)笔|(?:两|2)笔(?:一样|相同|一模一样|同样|重复)|(?:一样|相同|一模一样)的(?:扣款|付款|交易|记录|扣费|账单).{0,4}"
        r"(?:两|2)笔",
        r"(?:two|2) (?:identical|duplicate) (?:charges|payments|transactions|debits|deductions|entries|withdrawals)|"
        r"(?:charge|payment|transaction|debit|purchase) (?:appears|shows|showing|is listed|shows up) twice|"
        r"only (?:bought|paid|ordered|purchased|made|sent|tapped|clicked)(?: (?:it|one|this|that|for it|pay))? "
        r"(?:once|one)(?![a-z]).{0,60}(?:two|2|twice|double)(?![a-z])|(?:two|2|twice|double)(?![a-z]).{0,60}"
        r"only (?:bought|paid|ordered|purchased|made|sent|tapped|clicked)(?: (?:it|one|this|that|for it|pay))? "
        r"(?:once|one)(?![a-z])",
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
        r"(?:someone|somebody|anyone|anybody) (?:who|that) (?:can|could) (?:actually |really )?(?:help|look at|"
        r"look into|go through|go over|have a look|take a look)|"
        r"(?:could|can|would) (?:someone|somebody|anyone|anybody) (?:please )?(?:have a look|take a look|look at|"
        r"look into)|"
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
    ], [HOWTO]),
    ("complaint", "normal", [
        # asked before and still waiting: "I've contacted support 3 times", "this is my third time asking"
        r"(?:contacted|wrote to|written to|emailed|messaged|asked|called|chased) (?:you|support|customer service|"
        r"your team|you guys)?.{0,20}(?:\d+|two|three|four|five|several|many|multiple) times|"
        r"(?:third|fourth|fifth|3rd|4th|5th) time (?:asking|writing|contacting|i ask|i write|i contact)|"
        # a message sent days ago, even asked as "how long do replies take?": "我发了邮件两天了"
        r"(?:i|ive) (?:already )?(?:sent|emailed|submitted|opened|wrote)(?: (?:an?|the|my|you|you an?))? "
        r"(?:email|e-mail|ticket|message).{0,12}" + LONG_WAIT + r"|"
        r"(?:i|ive) (?:already )?(?:emailed|messaged|contacted|wrote to) (?:you|support|customer service|your team)"
        r"(?: guys)?.{0,6}" + LONG_WAIT + r"|"
        r"(?:发了|发过|提交了|提交过|写了|开了)(?:一封|一个|一条)?(?:邮件|工单|消息|私信).{0,8}" + LONG_WAIT + r"|"
        r"give (?:me )?(?:back )?my money(?: back)?|(?:want|need|demand) my money back (?:now|immediately|today|asap)|"
        r"(?<!not )complain|(?<!not a )complaint|"  # "not complaining, just curious" asks
        r"terrible|horrible|awful|worst|useless|ridiculous|unacceptable|disgusting|pathetic|"
        r"fed up|rubbish|garbage|trash|joke of a|shame on|never (?:use|using) .{0,20} again|waste of time|"
        r"(?:is|what) a joke|disappoint|unhappy|not happy with|dissatisfied|compensat|scandal|outrage|incompetent|"
        r"(?:very|so|really) (?:bad|poor) service|"
        r"poor service|bad service|frustrat|(?:nobody|no one|noone) (?:is )?(?:ever |even |actually |really )?"
        r"(?:answer|repl|respond|help|pick|get(?:s|ting)? back)|(?:chat|live chat|support|hotline|phone|agents?|"
        r"you|you guys|your team) (?:\w+ )?never (?:answers|answered|replies|replied|responds|responded|picks up|"
        r"gets back)|"
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
        VERIFYING + r".{0,30}(?:rejected|declined|denied|refused|failed)(?: \w+){0,2} (?:again|twice|(?:two|three|"
        r"four|five|several|multiple|many|\d+) times)",
        VERIFYING + r".{0,40}(?:no reason (?:was |is )?(?:given|provided)|without (?:a |any )?(?:reason|"
        r"explanation)|(?:didnt|did not|doesnt|wont) (?:say|tell me|explain|give (?:me )?(?:a |any )?(?:reason|"
        r"explanation)))",
        r"(?:kyc|verification|review) (?:was |is |got |has been )?(?:approved|passed|done|completed).{0,30}"
        r"(?:but|yet)",
        VERIFYING + r".{0,12}(?:被拒|被驳回|驳回|拒绝|没通过|未通过|失败|不通过)(?:了)?.{0,12}"
        r"(?:好几|十几|几十|[两三四五几多]|\d+)(?:次|遍)|"
        + VERIFYING + r".{0,20}(?:一直|总是|老是|还是)?(?:失败|不通过|没通过|被拒|过不了|通不过).{0,12}"
        r"(?:试|弄|提交|传|做)了"
        r"(?:好几|十几|几十|很多|好多|无数|[两三四五几多]|\d+)(?:次|遍)|"
        + VERIFYING + r".{0,20}(?:也|都|并)?(?:没|未|不)(?:有)?(?:说|给|告诉|告知|解释)(?:我)?(?:任何)?(?:原因|理由)|"
        r"(?:认证|验证|审核)(?:已经|都)?(?:通过|成功|完成)(?:了)?.{0,6}(?:但|可|却|然而)(?:是)?.{0,20}(?:没|未|不|还是)|"
        r"(?:认证|验证|审核)(?:过|通过|完成)(?:了)?.{0,16}(?:限额|额度)(?:还是|仍然|依然|也|都|并)?(?:没|未|没有)(?:提高|提升|变|"
        r"增加|上调)|(?:认证|验证|审核)(?:过|通过|完成|完)了?.{0,16}(?:还是|仍然|依然)(?:转不|付不|提不|不能|无法|用不了|不行)|"
        + VERIFYING + r".{0,20}(?:被拒|拒绝|没通过|未通过|不通过|驳回).{0,20}(?:证件|身份证|护照|资料|信息)(?:都|全)?"
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
        STEP_EN + r".{0,40}" + CHECKED_EN + r".{0,60}(?:still|yet) (?:fails|failing|failed|not working|doesnt work|"
        r"stuck|pending|declined|cant|wont)|"
        r"(?:maintenance (?:is |was |has )?(?:over|ended|finished|done)|status page (?:says|shows|is) "
        r"(?:everything is |all )?(?:fine|ok|okay|normal|green|no issues|operational)).{0,40}still|"
        r"(?:fails|failed|failing|declined|doesnt go through|didnt go through).{0,40}(?:i |ive )?(?:already )?"
        + STEP_EN + r".{0,40}" + CHECKED_EN,
        DONE_ZH + r".{0,20}" + DONE_ZH + r".{0,30}(?:还是|仍然|依然|都|也)(?:不行|没用|失败|登录不|登不|进不去|一样|"
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
        r"(?:deducted|charged|debited|taken|(?<!nothing )left my)|"  # "failed and nothing left my balance" asks why
        r"(?:deducted|charged|debited).{0,40}(?:but|yet).{0,30}(?:failed|"
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
        r"(?:扣了|被扣|已扣|扣款(?:成功|了)).{0,12}(?:但|可|却|然而)(?:是)?.{0,12}(?:没|未)(?:有)?(?:收到|到账|入账|支付|付款)"
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
        r"追回|拦截)|" + AMOUNT + r".{0,30}(?:取消|撤回|撤销|cancel|reverse|undo)|(?:取消|撤回|撤销)(?:掉)?.{0,20}"
        + AMOUNT + r"|"
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
        + LONG_WAIT,
        r"(?:mine|my (?:\w+ )?(?:withdrawal|transfer|payment|deposit|verification|kyc|review|application|refund)) "
        r"(?:has been|is|was|been)(?: \w+){0,3} (?:for |since )?(?:over |more than |almost |nearly )?" + LONG_WAIT,
    ], [r"(?<![a-z])(?:if|what if|suppose)(?![a-z])|如果|万一|要是|假如"]),
    # support promised a reply within 24 hours and days went by: "你们说24小时内回复，现在都三天了"
    ("complaint", "normal", [
        r"(?:回复|回我|答复|工单|ticket|reply|response|answer|get back).{0,30}" + LONG_WAIT,
        r"(?:promised|said|supposed to|within) (?:\w+ ){0,3}24 ?(?:hours|hrs|h).{0,30}" + LONG_WAIT,
        r"(?:说|承诺|保证|说好)(?:会)?(?:在)?24\s?(?:个)?小时.{0,30}" + LONG_WAIT,
        # about the handling, not one step ("identity check taking too long" asks how long reviews take)
        r"(?:this|it|everything|you|you guys|your team|support)(?: is|s|re| are)? taking (?:way |far |so |much )?"
        r"too long|"
        r"(?:need|want) (?:this|it) (?:resolved|fixed|sorted|solved) (?:today|now|asap|immediately)|"
        r"(?:please|pls|plz|can you|could you|kindly) (?:\w+ )?follow ?up",
        r"请(?:尽快)?跟进|麻烦(?:尽快)?跟进|帮(?:我)?跟进",
        r"(?:也|都|一直|还)不回(?:我|复|消息|私信)?|谁(?:来)?(?:管|负责)(?:啊|呢|吗)?(?:[?？!！。,，]|$)",
    ], [r"how long|usually|normally|多久|多长时间|要几天|几天(?:能|可以|会|才)|一般|正常要"]),
    ("transaction_investigation", "normal", MISDIRECTED, []),
    # a reference pasted beside a general question the FAQ answers, nothing asked of the team
    # ("交易编号TX99812显示失败，要检查什么", "Order #200184 is still pending, can it be cancelled before it
    # completes?")
    ("transaction_investigation", "normal", CASE_DETAILS, [REFERENCE_QUESTION]),
    # past the promised 24 hours; "how long does it usually take, 3 days?" asks about delays
    ("transaction_investigation", "normal", OVERDUE, [
        r"how long|how many days|usually|normally|多久|多长时间|要几天|几天(?:能|可以|会|才)|多少天|一般|正常要"]),
    *MONEY_ROWS,  # core/triage_rows_money.py: cases told in an FAQ's own words
    *DONE_ROWS,  # core/triage_rows_done.py: the FAQ's advice already followed, and stories
    *CASE_ROWS,  # core/triage_rows_case.py: a case told among other words, and more uncovered topics
]


# Words without which a row cannot match: checked first, so most messages skip the costly rows. Keyed by the
# row's own pattern list (the reason repeats: six rows are transaction_investigation), so rows added or moved in
# _TABLE keep their gates.
_NEEDS = {
    id(MISDIRECTED): re.compile(
        r"balance|余额|wrong|else|错|别人|old|previous|former|outdated|expired|20|chain|explorer|scan|链"),
    id(CASE_DETAILS): re.compile(
        r"\d|[一二两三四五六七八九十百千万]|check|look into|investigat|trace|track|查|核实|看看|#|0x"),
    id(OVERDUE): re.compile(
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
