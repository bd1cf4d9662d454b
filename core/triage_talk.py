"""Conversation patterns for triage: small talk, closing the loop, vague openers, and replies to "which of these?".

Like the incident table (core/triage_rules.py) these run on prepared text: lower case, simplified Chinese,
apostrophes dropped ("didn't" -> "didnt").
"""

from __future__ import annotations

import re

# Too little to go on: a careful agent would ask what it is about (matched on the whole prepared message).
VAGUE = re.compile(
    r"^\W*(?:(?:hi|hello|hey)\W+)?(?:(?:any ?one|any ?body|some ?one)(?: there| here)?\W+)?(?:i\W+)?(?:need|want|have|"
    r"got|ask)?\W*(?:(?:some|an?|one|quick|small|little)\W*){0,2}"
    r"(?:help|problem|question|issue|support|assistance|query|trouble)s?(?:\W+(?:please|pls|plz|here|asap))?\W*$|"
    r"^\W*(?:help me|can you help(?: me)?|can (?:someone|anyone) help(?: me)?)\W*$|"
    r"^\W*(?:我)?(?:想)?(?:问一?下|咨询一?下|请教一?下|问个事|咨询个事|打扰一?下)\W*$|"
    r"^\W*(?:你好|您好|hi|hello)?\W*(?:我)?(?:想|要)?(?:咨询|问|请教)(?:一?下|个|一个)(?:问题|事情?)?\W*$|"
    r"^\W*(?:你好|您好|请问|在吗)?\W*(?:我)?(?:有个|有一个|有些|有点|有)?(?:问题|事情?|疑问|麻烦)\W*(?:找你们|要问|想问|"
    r"(?:想|要)?(?:咨询|请教|问))?\W*"
    r"(?:想)?(?:问一?下|咨询一?下|请教一?下)?\W*$|^\W*(?:帮帮我|求助|救命|帮个忙|在线等)\W*$"
)
# Only that something is wrong, no topic: "it doesn't work", "不行啊", "something wrong with my account", "app出问题了".
# Terms (canonical synonym forms): a message whose known words are all of these, one of them trouble, is asked what
# it is about; the FAQ those words lean to (login) would be a guess.
TROUBLE_TERMS = frozenset({"broken", "error", "不行"})
NO_TOPIC_TERMS = TROUBLE_TERMS | {"app", "account"}
# Small talk, by kind. Matched text is removed; if nothing but filler remains, the message is a greeting.
GREETINGS: list[tuple[str, list[str]]] = [
    ("thanks", [
        r"(?<![a-z])(?:thank(?:s| you| u| ya| yu)?(?: (?:so|very) much| a lot| a bunch)?(?: for (?:the|your) "
        r"(?:info|information|help|answer|reply|response|explanation|quick reply|support))?|thx|thanx|thnx|tks|ty|"
        r"tysm|cheers|"
        r"appreciate (?:it|that|your help)|much appreciated|bye|goodbye|see you|have a (?:nice|good|great|lovely) "
        r"(?:day|one|evening|weekend|night))(?![a-z])",
        r"谢谢你?们?|谢了|谢啦|谢拉|谢喔|谢哦|谢谢啦|多谢|感谢|感恩|辛苦了|拜拜|再见|3q|🙏|❤️?|♥|🥰|😘|祝你|祝您|"
        r"麻烦(?:你|你们|您)?了(?![\u4e00-\u9fff])",
        # the answer worked: closes the loop like thanks ("thanks, that helped!", "好了，解决了")
        r"(?<!not )(?:that|it|this) (?:really )?(?:helped|helps|worked|works)|works now|working now|all good|"
        r"problem solved|(?<![a-z])(?<!not )(?<!un)(?:solved|fixed|resolved|sorted)(?![a-z])",
        r"(?<![没不未])解决了|搞定了?|成功了|能用了|可以用了|(?<![没])有用|好使了|登上了|登进去了",
    ]),
    ("greeting", [
        r"(?<![a-z])(?:hi+|hello+|hey+|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|gm|greetings|"
        r"any(?:one|body) (?:there|here|around|online|home)|is any(?:one|body) there|are you there|you there|hello\?|"
        r"any(?:one|body)(?=\W*\?))(?![a-z])",
        r"你好|您好|大家好|各位好|哈喽|哈啰|嗨|hello|在吗|在不在|在么|有人吗|有人在吗|早上好|下午好|晚上好|早安|晚安|^喂|👋",
    ]),
    ("ack", [
        r"(?<![a-z])(?:ok+|okay|okie|k+|kk|fine|alright|all right|got it|gotcha|cool|great|nice|sure|noted|"
        r"understood|perfect|sounds good|i see|no problem|np|roger|will do|yes|yep|yeah|no worries)(?![a-z])",
        r"好的|好吧|好滴|好哒|好嘞|行吧|(?<![没不未])好了|好啦|^\W*(?:好|行|嗯|哦|噢|对)+\W*$|嗯嗯|哦哦|(?<![没不未])收到(?!了?(?:钱|款|退款|"
        r"邮件|短信|验证码|通知|消息|提醒))|(?<![不没])明白了?|(?<![不没])知道了|(?<![想要来去先再多])了解了?(?!一下|下|更多|清楚)|"
        r"(?<![不没])懂了|(?<![不没])可以了|没问题|👍|👌|✅|😊|🙂|😀|😄",
    ]),
]
# A choice among the options of a "which" question, by position ("the first one", "第二个", "后者").
ORDINAL = re.compile(
    r"(?P<first>(?<![a-z])(?:the )?(?:first|1st|top|upper) (?:one|option|choice)|第一个|第一项|前者|上面(?:那|这)个)|"
    r"(?P<last>(?<![a-z])(?:the )?(?:second|2nd|last|bottom|lower|other) (?:one|option|choice)|"
    r"第二个|第二项|后者|下面(?:那|这)个)"
)
# Something pressing: never taken for small talk ("有人吗？我有急事").
URGENT = re.compile(r"(?<![a-z])(?:urgent|urgently|emergency|asap|help)(?![a-z])|急|救命|求助|帮帮")
# None of the choices: a person sorts it out.
NONE_OF = re.compile(
    r"(?<![a-z])(?:neither|none of (?:these|them|those|the above)|something else|not (?:that|those|these|"
    r"either)(?: one)?|"
    r"(?:another|other|different) (?:thing|issue|problem|question|topic))(?![a-z])|"
    r"都不是|都不对|都没有|以上都不|其他问题|别的问题|其它问题|不是这个|不是这些|另外的问题"
)
# The customer closes the loop with more than small talk: "thanks, I reset my password and it works now",
# "好的我去试试", "perfect, the transfer arrived". Only with thanks or an acknowledgement, and only when nothing
# in the message is still open (CLOSING_OPEN).
CLOSING = re.compile(
    r"(?<![a-z])(?:works|working|worked|fixed|solved|resolved|sorted|arrived|came through|went through|received it|"
    r"got it|all good|(?:i|ill|i will|let me|gonna|going to|will) (?:try|check|do) (?:that|it|this|again|now)|"
    r"(?:ill|i will|let me|i can|then i(?:ll)?|so i(?:ll)?|im going to|i am going to|gonna) (?:go )?[a-z]+|"
    r"makes sense|"
    r"understood|answers my question|answered my question|that answers)(?![a-z])|"
    r"可以了|好了|解决了|搞定|成功了|到账了|收到了|能用了|登上了|登进去了|(?:可以|能)登录了|(?:我)?(?:去|再)?试(?:试|一下|一试)|明白了|懂了|"
    r"知道了|了解|(?:我)?(?:去|再)?(?:看看|看一下|等等|等一下|等一等|联系客服)|解答|"
    r"我(?:这就|马上|现在|待会|等下|先|就)?(?:去|再|等)"
)
CLOSING_OPEN = re.compile(
    r"\?|？|(?<![a-z])(?:but|still|however|not|no|cant|cannot|doesnt|didnt|dont|wont|isnt|hasnt|havent|wasnt|again|"
    r"how|why|what|where|when|which|another|also|error|help)(?![a-z])|但|可是|还是|还有|另外|不|没|怎么|为什么|吗|失败|错误|"
    r"多久|多长|几天|什么时候|何时|哪|如何|是否|(?<![a-z])(?:need|needs|too long|asap|urgent)(?![a-z])"
)
# Words that may surround small talk without making it a question ("hi there", "thanks team", "在吗客服").
GREETING_FILLER = [
    r"(?<![a-z])(?:there|team|guys|all|everyone|folks|support|okpay|bot|admin|mate|sir|madam|again|for|the|your|"
    r"help|so|much|very|a|lot|and|you|u|now|it|that|this|then|!|\.)(?![a-z])",
    r"客服|你们|大家|朋友|亲|啊|呀|哈|哈哈|呢|吧|了|的|哦|嘛|哈喽|一下|小助手|助手|机器人|帮助|帮忙|你|打扰",
]

# The sentences of a message that ask (end in a question mark), when it has more than one sentence: a question among
# pleasantries and background ("My dad asked me what OKPay is... In plain words, what does it do?").
_SENTENCE = re.compile(r"[^?？!！。.\n]*[^?？!！。.\n\s][^?？!！。.\n]*[?？]*")


def asks(text: str) -> list[str]:
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    return [s for s in sentences if s.endswith(("?", "？"))] if len(sentences) > 1 else []
