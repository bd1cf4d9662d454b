"""Triage behaviour a customer would notice: the right answer, in their script, or a person."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from core.intake import topic_for
from core.knowledge import KnowledgeBase, load_knowledge_base
from core.language import detect_language, prepare, to_traditional
from core.triage import (
    PRIORITY_RANK,
    Answer,
    Clarify,
    Greet,
    Handoff,
    Triage,
    TriageContext,
    _first_rule,
    decision_to_dict,
)
from core.triage_rule import HAN_CHAR, LATIN_CHAR, needed
from core.triage_rules import _NEEDS, RULES

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="module")
def triage(kb) -> Triage:
    return Triage(kb)


@pytest.mark.parametrize(
    ("text", "kind", "lang"),
    [("hi", "greeting", "en"), ("你好", "greeting", "zh-Hans"), ("在嗎", "greeting", "zh-Hant"),
     ("thanks!", "thanks", "en"), ("謝謝", "thanks", "zh-Hant"), ("ok", "ack", "en"), ("好的", "ack", "zh-Hans"),
     ("👍", "ack", "en"), ("ok thanks", "thanks", "en"), ("大家好", "greeting", "zh-Hans"),
     ("您好，打扰一下", "greeting", "zh-Hans")],
)
def test_small_talk_is_a_brief_greeting_never_a_ticket(triage, kb, text, kind, lang):
    d = triage.decide(text)
    assert isinstance(d, Greet) and d.kind == kind and d.lang == lang
    assert d.reply == kb.message(kind, lang)


def test_greeting_lists_the_topics(kb):
    reply = kb.message("greeting", "en")
    for topic in ("login", "security", "verification", "contact"):
        assert topic in reply


def test_a_greeting_with_a_question_is_answered(triage, kb):
    d = triage.decide("hi, I can't log in")
    assert isinstance(d, Answer) and d.faq_id == "login" and d.reply == kb.answer("login", "en")


@pytest.mark.parametrize(
    ("text", "faq_id", "lang"),
    [("忘记密码了怎么办", "login", "zh-Hans"), ("忘記密碼了怎麼辦", "login", "zh-Hant"),
     ("how do I turn on 2FA", "security", "en"), ("转账一直没到账", "transaction-failed", "zh-Hans"),
     ("KYC 要多久", "verification", "zh-Hans"), ("can I cancel a payment?", "cancel-transaction", "en"),
     ("你們的客服電話是多少", "contact", "zh-Hant"), ("what is okpay", "about", "en"),
     ("我的2FA怎么开启", "security", "zh-Hans")],
)
def test_faq_questions_get_the_answer_in_the_customers_language(triage, kb, text, faq_id, lang):
    d = triage.decide(text)
    assert isinstance(d, Answer), d
    assert (d.faq_id, d.lang) == (faq_id, lang)
    assert d.reply == kb.answer(faq_id, lang)
    assert 0 < d.confidence <= 1


def test_traditional_answers_are_converted_with_opencc(triage, kb):
    d = triage.decide("帳戶被鎖了，要怎麼登入")
    assert d.lang == "zh-Hant" and d.reply == to_traditional(kb.answer("login", "zh-Hans"))


@pytest.mark.parametrize(
    ("text", "reason", "priority"),
    [("转人工", "asked_for_human", "normal"), ("I want to talk to a real person", "asked_for_human", "normal"),
     ("我的钱被盗了", "stolen_funds", "urgent"), ("someone logged into my account, not me", "hacked_account", "urgent"),
     ("有人冒充客服让我转账", "scam", "high"), ("my account is frozen", "frozen_funds", "high"),
     ("I was charged twice", "double_charge", "high"), ("我要找律师起诉你们", "legal", "high"),
     ("order #88120934 paid but not received", "transaction_investigation", "normal"),
     ("I want to file a complaint", "complaint", "normal"), ("what's the bitcoin price", "not_covered", "normal"),
     ("", "empty", "low"), ("   ", "empty", "low")],
)
def test_incidents_and_requests_for_a_person_are_handed_off(triage, text, reason, priority):
    d = triage.decide(text)
    assert isinstance(d, Handoff), d
    assert (d.reason, d.priority) == (reason, priority)


def test_urgent_handoff_tells_the_customer_to_secure_the_account(triage):
    d = triage.decide("my account was hacked and my USDT is gone")
    assert isinstance(d, Handoff) and d.priority == "urgent"
    assert "2FA" in d.reply and "password" in d.reply
    zh = triage.decide("账号被盗了")
    assert "二次验证" in zh.reply and zh.lang == "zh-Hans"


def test_handoff_reply_previews_without_a_ticket_number(triage, kb):
    d = triage.decide("转人工")
    assert "{" not in d.reply and "OKPay" in d.reply and "24" in d.reply
    assert "#7" in kb.message("handoff", d.lang, ticket=7)  # the pipeline fills the number once it exists


def test_security_questions_about_hacking_are_answered_not_escalated(triage):
    d = triage.decide("how do I protect my account from being hacked")
    assert isinstance(d, Answer) and d.faq_id == "security"


def test_a_question_the_knowledge_base_does_not_cover_is_handed_off(triage):
    for text in ("can you recommend a stock", "is OKPay hiring?", "阿斯顿发生地方", "qwertyuiop asdfgh"):
        d = triage.decide(text)
        assert isinstance(d, Handoff), (text, d)


def test_an_answer_that_did_not_help_goes_to_a_person(triage):
    ctx = TriageContext(previous_faq_id="login", turns=2)
    d = triage.decide("还是不行", ctx)
    assert isinstance(d, Handoff) and d.reason == "unresolved" and d.faq_id == "login"
    assert isinstance(triage.decide("I still can't log in"), Answer)


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [("hello", "zh-TW", "en"), ("你好", "zh-TW", "zh-Hant"), ("你好", None, "zh-Hans"), ("👍", "zh_CN", "zh-Hans"),
     ("👍", None, "en"), ("12345", "zh-HK", "zh-Hant"), ("my 账户 is locked", "en", "zh-Hans"),
     ("我的帳戶 login 不了", None, "zh-Hant"), ("", "de", "en")],
)
def test_language_detection(text, hint, lang):
    assert detect_language(text, hint) == lang


def test_mentions_of_the_bot_are_not_content(triage, kb):
    d = triage.decide("@okpay_bot my transfer is stuck")
    assert isinstance(d, Answer) and d.faq_id == "transaction-failed"
    bare = triage.decide("@okpay_bot")
    assert isinstance(bare, Greet) and bare.reply == kb.message("greeting", "en")


def test_topics_the_knowledge_base_does_not_cover_go_to_a_person(triage):
    for text in ("what are your fees", "手续费多少", "how do I close my account", "怎么绑定银行卡",
                 "do you have an API", "is there a referral bonus"):
        d = triage.decide(text)
        assert isinstance(d, Handoff) and d.reason == "not_covered", (text, d)


def test_uncovered_topics_come_from_the_knowledge_base_not_the_code(tmp_path):
    entry = """
entries:
  - id: fees
    title: {zh-Hans: 费用, en: Fees}
    questions:
      zh-Hans: [手续费多少, 转账收费吗]
      en: [what are your fees, how much does a transfer cost, is there a fee for withdrawals]
    answer: {zh-Hans: 转账免费。, en: Transfers are free.}
"""
    path = tmp_path / "kb.yaml"
    path.write_text(entry, encoding="utf-8")
    d = Triage(load_knowledge_base(path)).decide("what are your fees")
    assert isinstance(d, Answer) and d.faq_id == "fees"  # this deployment covers fees
    path.write_text(entry + "not_covered:\n  careers:\n    keywords:\n      en: [jobs, hiring]\n", encoding="utf-8")
    d = Triage(load_knowledge_base(path)).decide("are you hiring? any jobs for a fees expert")
    assert isinstance(d, Handoff) and d.reason == "not_covered"
    d = Triage(load_knowledge_base(path)).decide("my account was hacked")  # incidents stay in code
    assert isinstance(d, Handoff) and d.reason == "hacked_account" and d.priority == "urgent"


def test_an_entry_added_for_an_uncovered_topic_answers_it_and_the_rest_of_the_topic_stays_with_people():
    """The packaged base lists dark mode and gift cards as not covered; an admin then writes a dark-mode entry."""
    from core.knowledge import knowledge_base_from_data, read_data

    content = read_data()
    assert any("dark mode" in str(t) for t in content["not_covered"].values())
    content["entries"].append({
        "id": "dark-mode", "title": {"en": "Dark mode", "zh-Hans": "深色模式"},
        "questions": {"en": ["how do I turn on dark mode", "switch the app to the dark theme"],
                      "zh-Hans": ["怎么打开深色模式"]},
        "answer": {"en": "Settings > Appearance > Dark.", "zh-Hans": "设置 > 外观 > 深色。"}})
    triage = Triage(knowledge_base_from_data(content))
    for text in ("how do I turn on dark mode", "怎么打开深色模式", "is there a dark mode?"):
        d = triage.decide(text)
        assert isinstance(d, Answer) and d.faq_id == "dark-mode", (text, d)
    for text in ("can I buy a gift card with okpay", "can I set up a family account for my kids"):
        d = triage.decide(text)
        assert isinstance(d, Handoff) and d.reason == "not_covered", (text, d)
    d = triage.decide("dark mode, and also my account was hacked")  # an incident still outranks the entry
    assert isinstance(d, Handoff) and d.reason == "hacked_account"


def test_language_hint_flows_through_context(triage):
    d = triage.decide("👍", TriageContext(language_hint="zh-Hant"))
    assert d.lang == "zh-Hant" and detect_language(d.reply) == "zh-Hant"


def test_decision_to_dict(triage):
    ans = decision_to_dict(triage.decide("forgot my password"))
    assert set(ans) == {"action", "faq_id", "confidence", "lang", "reply", "reason", "options"}
    assert ans["action"] == "answer" and ans["faq_id"] == "login" and ans["reason"] is None
    hand = decision_to_dict(triage.decide("agent please"))
    assert hand["action"] == "handoff" and hand["reason"] == "asked_for_human"
    greet = decision_to_dict(triage.decide("thanks"))
    assert greet["action"] == "greet" and greet["faq_id"] is None and greet["reason"] is None


def test_raising_min_confidence_answers_less_and_asks_instead(kb):
    strict = Triage(kb, min_confidence=0.99)
    d = strict.decide("forgot my password")
    assert isinstance(d, Clarify) and d.options[0] == "login"  # below the bar it asks, never guesses
    assert isinstance(strict.decide("what are the fees for crypto"), Handoff)


# ---- asking instead of guessing (issue 13) ---------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "faq_id"),
    [("刚付的款能撤销吗", "cancel-transaction"), ("which coins do u support", "about"),
     ("付款一直轉圈然後失敗", "transaction-failed"), ("转账", "transaction-failed")],
)
def test_a_leading_faq_below_the_answer_bar_is_asked_about_not_handed_off(triage, kb, text, faq_id):
    d = triage.decide(text)
    assert isinstance(d, Clarify) and d.kind == "which", d
    assert faq_id in d.options and 1 <= len(d.options) <= 2
    assert d.reply == kb.message("clarify_which", d.lang)


@pytest.mark.parametrize(("text", "faq_id"), [
    ("how long does KYC usually take?", "verification"), ("身份认证一般要多久？", "verification"),
    ("无法登录OKPay钱包", "login"), ("用户中心里能找到客服吗？", "contact"),
    ("Can I shop on foreign websites with OKPay?", "about"), ("撤銷交易要怎麼做", "cancel-transaction"),
])
def test_a_clear_question_is_answered_not_asked_about_for_a_word_another_faq_happens_to_use(triage, text, faq_id):
    # each of these was met with "which of these?" because a filler word ("usually", "多久", "钱包") occurs only in
    # another FAQ's samples; only a word that FAQ names as its own (title or keywords) is evidence for it
    d = triage.decide(text)
    assert isinstance(d, Answer) and d.faq_id == faq_id, d


@pytest.mark.parametrize(("text", "options"), [
    ("sent usdt to my friend, he didnt get it yet", {"about", "transaction-failed"}),
    ("can i cancel a payment? and where do i contact support", {"contact", "cancel-transaction"}),
])
def test_a_word_another_faq_names_as_its_own_makes_the_bot_ask_which(triage, text, options):
    d = triage.decide(text)
    assert isinstance(d, Clarify) and d.kind == "which" and set(d.options) == options, d


@pytest.mark.parametrize("text", ["help", "i have a problem", "问题", "有個問題想問", "你好，想咨询个问题", "求助"])
def test_a_vague_message_gets_one_short_question_with_every_topic(triage, kb, text):
    d = triage.decide(text)
    assert isinstance(d, Clarify) and d.kind == "vague"
    assert set(d.options) == {e.id for e in kb.entries}


# only that something is wrong, nothing it is wrong with: asked what about, not given the login answer its words
# lean to; the same words with a topic keep that topic's FAQ
@pytest.mark.parametrize("text", ["it's not working", "still broken", "用不了了", "帳戶出問題了",
                                  "my account isn't working"])
def test_a_message_that_only_says_something_is_wrong_is_asked_what_about(triage, text):
    d = triage.decide(text)
    assert isinstance(d, Clarify) and d.kind == "vague", d


@pytest.mark.parametrize(("text", "faq_id"), [
    ("login doesn't work", "login"), ("登录出问题了", "login"), ("my payment isn't working", "transaction-failed"),
    ("提现不行", "transaction-failed"), ("轉帳不能用", "transaction-failed"),
])
def test_something_wrong_with_a_named_topic_gets_that_topics_answer(triage, text, faq_id):
    d = triage.decide(text)
    assert isinstance(d, Answer) and d.faq_id == faq_id, d


# Cases the guide sends to support, said mildly (issue 13, dev4), and next to them (NEAR_QUESTIONS) the questions
# with the same words that the FAQs answer.
MILD_CASES = [
    # the answer's own steps were done and the lock stayed, or money is behind it: support verifies the holder
    ("I've reset the password twice and the account is still locked", "account_locked"),
    ("密码重置了三次，账号还是被锁定", "account_locked"), ("账号锁了，里面还有五千块", "account_locked"),
    ("清了缓存又换了网络，还是登录不进去", "tried_already"),
    # the registered phone or e-mail is gone, so the reset the login answer describes cannot reach the customer
    ("my old phone number is no longer in use so I can't get the reset code", "account_access"),
    ("原来的手机号停机了，收不到验证码", "account_access"),
    # this customer's identity check went wrong
    ("KYC got rejected again, no explanation", "review_problem"), ("我的实名认证被驳回了三次", "review_problem"),
    ("审核通过了可是额度还是没变", "review_problem"),
    # money that left and did not land, one payment to undo, an own case past the promised time
    ("the app says the transfer was successful but my friend never got it", "transaction_investigation"),
    ("付款失败，但是余额被扣了", "transaction_investigation"),
    ("my balance seems lower than it should be", "transaction_investigation"),
    ("请帮我撤回今天上午转的那笔500块", "transaction_investigation"),
    ("please reverse the transfer i made yesterday", "transaction_investigation"),
    ("how long can a withdrawal be under review? mine has been 2 days", "transaction_investigation"),
    ("认证一般要多久？我的已经等了五天了", "transaction_investigation"),
    ("说好24小时内回复，现在都四天了", "complaint"), ("I opened a ticket a week ago and got no reply", "complaint"),
    ("my account can no longer withdraw, what happened?", "frozen_funds"), ("账户显示异常，不能提现", "frozen_funds"),
    ("I'd like to dispute a charge from a merchant", "merchant_dispute"),
    ("商品和描述不符，卖家也不退款", "merchant_dispute"),
    ("there's a login from a new location I don't recognise", "hacked_account"),
    ("在别的设备上看到我的账号登录过", "hacked_account"),
    ("got a message asking for my recovery phrase, is this really from okpay?", "scam"),
    # personal details only support can correct
    ("生日写错了，需要更正", "not_covered"), ("I need to correct my date of birth on my account", "not_covered"),
    ("我想把账户绑定的手机号换成新的", "not_covered"),
    ("my passport expired, how do I update my documents", "not_covered"),
    ("我的身份证过期了，换了新的，怎么更新", "not_covered"),
    # more of the same classes, in other words
    ("hello, money I sent on monday still isn't there, could you look?", "transaction_investigation"),
    ("my withdrawal was approved but the money never reached my bank", "transaction_investigation"),
    ("付款给商家显示成功，商家说没收到钱", "transaction_investigation"), ("網友叫我投資，現在錢提不出來", "scam"),
    ("there's a charge I don't remember making", "stolen_funds"), ("有一笔消费我不记得", "stolen_funds"),
    ("this is taking way too long, I need this resolved today", "complaint"),
    ("my refund was promised in 24 hours, it's been 4 days", "complaint"),
    ("人脸识别过不了，试了很多次", "review_problem"),
    ("I lost access to my authenticator app and can't log in", "account_access"),
    ("我的谷歌验证器换手机后没了，登录不了", "account_access"),
    ("我充值的钱到了别人的账户", "transaction_investigation"),
    ("我转了1000但对方只收到900", "transaction_investigation"),
    ("the amount credited is less than what I sent", "transaction_investigation"),
    ("充错币种了，能找回吗", "transaction_investigation"),
    ("my bank returned the withdrawal, where is the money now", "transaction_investigation"),
    ("我是商家，客户说付款了我没收到", "transaction_investigation"), ("please follow up on ticket 44120", "complaint"),
    ("我收到一笔陌生人的转账，对方让我退回去", "scam"), ("someone opened an okpay account in my name", "scam"),
    ("请帮我把账户里的个人资料全部删除", "not_covered"),
    ("how do i fund my account", "not_covered"), ("can you recommend a good coin to buy", "not_covered"),
]
# What the guide sends to support in its own words (issue 13, dev5): a reset that itself fails, an unknown
# transaction to report, money taken that did not land, the answer's checks done; next to them (GUIDE_QUESTIONS)
# the same words asked as questions, which the answers answer.
GUIDE_CASES = [
    ("找回密码一直不成功", "account_locked"), ("the password reset keeps failing", "account_locked"),
    ("密码重设了三次还是登不进去", "account_locked"), ("换了手机登录后账号被锁了，要我验证身份", "account_locked"),
    ("换了新号码，验证码发不到我这里，登录不了", "account_access"),
    ("账户里有一笔我从没发起过的提现", "stolen_funds"), ("想反馈一笔可疑的转账", "stolen_funds"),
    ("昨晚有笔消费，我当时在睡觉", "stolen_funds"), ("我感觉有人在用我的账号", "hacked_account"),
    ("支付没成功，钱却被扣了", "transaction_investigation"), ("取消了订单钱还没退回来", "transaction_investigation"),
    ("提现显示成功但余额没变", "transaction_investigation"), ("多付了300，怎么退", "transaction_investigation"),
    ("钱已经扣了，可是商家说没收到", "transaction_investigation"),
    ("错误代码 E4031 一直出现", "transaction_investigation"),
    ("refund for order 55123 please", "transaction_investigation"),
    ("请帮我撤销刚才那笔转账", "transaction_investigation"),
    ("please cancel my last payment", "transaction_investigation"),
    ("网络换了，缓存也清了，还是付不了款", "tried_already"), ("维护结束了还是转不出去", "tried_already"),
    ("I checked the status page and switched networks, the transfer is still stuck", "tried_already"),
    ("验证通过了限额还是没提高", "review_problem"), ("证件是真的，认证却被拒绝了", "review_problem"),
    ("限额突然被降低了", "frozen_funds"), ("麻烦帮我解决", "asked_for_human"),
    ("the order was cancelled but I never got my money back", "transaction_investigation"),
    ("my ID is genuine but verification keeps getting rejected", "review_problem"),
    ("大额转账被要求验证身份，验证完了钱还是转不出去", "review_problem"),
    ("服务状态页面显示正常，但是我的转账还是失败", "tried_already"),
    ("The status page says everything is fine but my transfer is still pending", "tried_already"),
    ("我的账户被锁定了，我已经重置过密码了", "account_locked"),
    ("My account got locked after I tried to reset my password, can someone verify me?", "account_locked"),
    ("I see a payment to a merchant I've never heard of in my history", "stolen_funds"),
    ("付款一直显示网络错误，换了wifi和4G都不行，服务状态页面也没显示维护", "tried_already"),
    ("my bill payment failed twice, I already checked my balance and network", "tried_already"),
    ("客服多久回复？我发了邮件两天了", "complaint"),
    ("I emailed support 3 days ago, how long do replies take?", "complaint"),
    # the lead's policy (round 2): one step of the answer's done and it still fails exhausts the answer (these four
    # were the answer's questions before)
    ("the reset password email never came, checked spam too", "tried_already"),
    ("清了缓存还是登不上", "tried_already"), ("I cleared my cache but still can't log in", "tried_already"),
    ("登入一直顯示錯誤，清了快取也沒用", "tried_already"),
]
# dev13's classes, said mildly (fresh wordings, not the set's): a payee nobody knows, a wait dated by its weekday or
# "since the 20th", the app itself sending them to support, a reset asked for again and again, money gone to someone
# else through a wrong detail, a person asked for softly, a channel that never answers, a new SIM, closing the account
MILD_CASES_2 = [
    ("my history shows a transfer to a name I've never seen", "stolen_funds"),
    ("帳單上有筆付款，收款方的名字我從來沒見過", "stolen_funds"),
    ("sent my landlord the rent friday, he still says nothing came", "transaction_investigation"),
    ("提现从上个月20号到现在还在处理", "transaction_investigation"),
    ("修改交易的申请交了四天，一点消息都没有", "transaction_investigation"),
    ("got a message in the app telling me to reach out to support about my account", "tried_already"),
    ("app叫我联系客服，说账户有问题", "tried_already"),
    ("requested the reset link four times and nothing has come", "account_access"),
    ("重置邮件我点了好几次发送，一封都没收到", "account_access"),
    ("typed the wrong email, it went to someone else, can you recover it?", "wrong_transfer"),
    ("手机号输错了，钱转到别人那里了，能帮忙追回吗", "wrong_transfer"),
    ("is there anybody who could go through this with me?", "asked_for_human"),
    ("no one ever replies to my emails", "complaint"),
    ("the live chat never answers, been sitting here forever", "complaint"),
    ("I switched to a new carrier number, verification texts aren't reaching me", "account_access"),
    ("换了新的电话卡以后验证码就收不到了", "account_access"),
    ("验证码send到我旧邮箱，那个邮箱已经没用了", "account_access"),
    ("从早上开始转账都失败，换了三个网络都一样", "tried_already"),
    ("想取消我的OKPay账户", "not_covered"), ("I'd like to shut down my account", "not_covered"),
]
# ... and the questions in the same words, which keep their FAQ
NEAR_QUESTIONS_2 = [
    ("我发现交易记录里有可疑的交易，该怎么办", "security"), ("發現帳戶有奇怪的交易該怎麼辦？", "security"),
    ("見到唔認識嘅交易點算？", "security"),
    ("what should I do if I see a transfer to someone I don't know?", "security"),
    ("should I be looking through my payments every so often for anything odd?", "security"),
    ("is okpay having issues right now?", "transaction-failed"), ("哪里能看到平台是不是出问题了", "transaction-failed"),
    ("登唔到會唔會係網絡嘅問題", "login"), ("付款失败是不是网络不好", "transaction-failed"),
    ("提現要幾耐先到？", "transaction-failed"), ("认证资料写错了会有什么后果", "verification"),
    ("what info should I send support about a stuck transfer?", "transaction-failed"),
    ("手机号输错了钱转到别人那里怎么办", "cancel-transaction"),
    ("if the app tells me to contact support, how do I do that?", "contact"),
    ("if I change my sim, will I still get the codes?", "login"), ("平时要留意什么才能避免被骗", "security"),
]
# dev14's classes, phone-typed (fresh wordings, not the set's): a refund asked for in two words, a wrong payee's detail
# abbreviated, "who charged me", a contact detail gone so no link comes, a failure counted ("3rd time"), a password
# changed "not by me", an amount with no currency, the limit's figure and a name change asked noun first, the other side
# says nothing came while mine says done
SHORT_CASES = [
    ("refund please", "refund_request"), ("我要退錢", "refund_request"),
    ("paid the wrong acct pls reverse", "wrong_transfer"), ("who took 80 usd out of my wallet", "stolen_funds"),
    ("記錄裡有筆不是我的轉賬", "stolen_funds"), ("new email so the reset link never comes", "account_access"),
    ("手机号码没有了 收不到otp", "account_access"), ("declined again, 3rd time", "tried_already"),
    ("reset my password twice still cant log in", "tried_already"), ("驗證第二次又被拒絕", "tried_already"),
    ("my pw was changed, not by me", "hacked_account"), ("密码不是我改的", "hacked_account"),
    ("转了800还没到账", "transaction_investigation"),
    ("withdrew 500 still not in my bank", "transaction_investigation"),
    ("每日限额多少", "not_covered"), ("用户名咋改", "not_covered"),
    ("朋友話收唔到 我呢邊顯示成功", "transaction_investigation"),
]
# ... and the questions in the same few words, which keep their FAQ
SHORT_QUESTIONS = [
    ("what if the pw reset fails", "login"), ("重置密码失败了会咋样", "login"),
    ("sent to wrong addr what can i do?", "cancel-transaction"), ("提现24小时还没到正常吗", "transaction-failed"),
    ("what if it fails a 3rd time", "transaction-failed"), ("认证以后限额会提高吗", "verification"),
    ("你們的資料會外流嗎", "security"), ("would my data leak if i use okpay", "security"),
]
# dev15's classes, said mildly, politely or inside a question (fresh wordings, not the set's): a refund wished for one's
# own payment, a wrong detail or a mistake then the team asked to act, a payment in one's history "I don't think I made"
# or "这是谁", an account under review where nothing works, the answer's step done told casually, a lock without the
# participle, a contact detail gone mentioned in passing, a name on the account wrong, someone else signed in (TW/HK),
# a check asked for in Cantonese, a bank named without 銀行, a payment that "went out" twice
MILD_CASES_3 = [
    ("I'd honestly like my money back for that purchase", "refund_request"),
    ("would it be possible to refund the order I paid yesterday?", "refund_request"),
    ("那笔充值我想退款，可以吗", "refund_request"), ("可不可以把上周那笔钱退给我", "refund_request"),
    ("我想攞返嗰單嘅錢，可唔可以退款俾我？", "refund_request"),
    ("I think I put the wrong phone number on that payment, could you pull it back?", "wrong_transfer"),
    ("paid the plumber but one digit was wrong, is there any way you could recover it?", "wrong_transfer"),
    ("accidentally paid the same invoice again, could you reverse it for me?", "transaction_investigation"),
    ("there's a 30.00 charge from 'Zentro Media' in my history that I don't think I authorised", "stolen_funds"),
    ("账单里多了一笔“蓝海网络”的扣费，这个商家我完全不认识", "stolen_funds"),
    ("明細有一筆「東方數碼」的付款，這是誰？", "stolen_funds"),
    ("a charge i don't recognise", "stolen_funds"),
    ("帐户一直在审核中，什么都没办法操作，要等多久？", "frozen_funds"),
    ("我的账号被限制了，转账提现都用不了", "frozen_funds"),
    ("got the reset mail, set a new password, still cant sign in", "tried_already"),
    ("i clear the cache and reinstall, still can not login", "tried_already"),
    ("I have enough money in it and switched to 4g, the payment still fails", "tried_already"),
    ("sent my passport photo four times now, rejected as blurry each time", "tried_already"),
    ("证件照重新拍了好几次，每次都说模糊，可照片明明很清晰", "tried_already"),
    ("my acc is lock since yesterday", "account_locked"),
    ("fyi I don't have access to this gmail anymore so the codes never reach me", "account_access"),
    ("注册用的是学校邮箱，毕业以后邮箱就进不去了", "account_access"),
    ("my name is wrong on my account", "not_covered"), ("the last name on my account is misspelled", "not_covered"),
    ("my first name on the profile has a typo", "not_covered"), ("我帳號上的姓名拼錯了", "not_covered"),
    ("App通知說有陌生裝置登入，可是那不是我", "hacked_account"), ("個account好似俾人hack咗", "hacked_account"),
    ("我上個禮拜過咗數，對方仲未收到，幫我睇吓得唔得", "transaction_investigation"),
    ("提領到玉山要幾天？", "not_covered"), ("my rent went out twice this month", "double_charge"),
]
# ... and the questions in almost the same words, which keep their FAQ (a "what now" after a changed number too)
NEAR_QUESTIONS_3 = [
    ("is it possible to get a refund on a completed payment?", "cancel-transaction"),
    ("how would I get my money back if an order is cancelled?", "cancel-transaction"),
    ("退款一般要怎么申请？", "cancel-transaction"),
    ("if I typed the wrong number, can the payment be reversed?", "cancel-transaction"),
    ("what if one digit of the phone number was wrong, can it be cancelled?", "cancel-transaction"),
    ("what if I see a charge I don't recognise?", "security"), ("看到不认得的扣款记录该怎么办？", "security"),
    ("实名认证审核中一般要多久？", "verification"), ("why might a transfer be put on hold?", "transaction-failed"),
    ("should I clear the cache if I can't log in?", "login"),
    ("if my ID photo gets rejected as blurry, what do I do?", "verification"),
    ("照片被说模糊的话要重新上传吗？", "verification"),
    ("号码换了收不到短信验证码怎么办", "login"), ("邮箱换了收不到验证码怎么办", "login"),
    ("如果手机号停用了，还能收到验证码吗？", "login"), ("換了手機號碼後收不到驗證碼，點算？", "login"),
    ("does the name on my account have to match my ID?", "verification"),
    ("will okpay support ever ask me for my sms code?", "security"), ("客服会不会问我要密码？", "security"),
    ("how do I avoid being scammed when paying people online?", "security"),
    ("ID rejected because it expired, what now?", "verification"),
    ("why do bank transfers get delayed sometimes?", "transaction-failed"), ("客服幾點收工？", "contact"),
    ("過數通常要幾耐先到？", "transaction-failed"), ("提領失敗要檢查什麼？", "transaction-failed"),
    ("會唔會俾人hack？點樣防？", "security"),
]
# dev16's classes, in voices the rows had not seen (fresh wordings, not the set's): money sent to the wrong party with
# the verb left bare or a pinyin abbreviation, a refund wanted in other words or asked for a merchant's customer, a
# parent's number or e-mail gone so codes go nowhere, a scam told for a relative (the money sent and the other side
# vanished, a code given to a caller "from OKPay"), a refusal whose reason "they don't tell", the promised wait or a
# reset done (mainland and Cantonese), a quoted screen with withdrawals switched off, staff logins on a shop's account
MILD_CASES_4 = [
    ("my brother send to wrong account yesterday, 2000 peso", "wrong_transfer"),
    ("we transfer to wrong recipient this morning", "wrong_transfer"),
    ("打错zh了，钱去了陌生人那", "wrong_transfer"), ("手滑付错账户了", "wrong_transfer"),
    ("I need the payment refunded, the shop never sent anything", "merchant_dispute"),
    ("请帮我给那位顾客退款", "refund_request"),
    ("my dad lost his registered number, so the otp goes to the old sim", "account_access"),
    ("grandma no longer has her old email and she cant reset her password", "account_access"),
    ("my aunt paid a crypto mentor on telegram and now he has disappeared", "scam"),
    ("dad got a text from okpay and sent them his sms code, his balance is empty now", "stolen_funds"),
    ("passport got declined and they dont tell me why", "review_problem"),
    ("都等了二十四小时了，还是没人回我", "complaint"), ("我早就重置了密码，还是登不上", "account_access"),
    ("顯示「轉帳功能暫停中」，怎麼辦", "frozen_funds"),
    ("app says withdrawals are disabled on my account", "frozen_funds"),
    ("can each of my employees have their own login for the shop account", "not_covered"),
    ("员工账号可以单独开吗", "not_covered"), ("彈出「帳戶已鎖定」，現在什麼都做不了", "account_locked"),
]
# ... and the questions in the same voices, which keep their FAQ: the case asked about, a reference pasted beside a
# general question, scams heard of, regional and non-native wording, whether staff would ever ask for a password
NEAR_QUESTIONS_4 = [
    ("what if I transfer to the wrong person by mistake?", "cancel-transaction"),
    ("转错zh了怎么办", "cancel-transaction"),
    ("how do refunds work if I cancel an order?", "cancel-transaction"),
    ("if my mom loses her phone number, how can she reset her password?", "login"),
    ("why would a verification be rejected?", "verification"), ("如果等了24小时客服还没回复怎么办", "contact"),
    ("TX-77120 failed, what should I check first?", "transaction-failed"),
    ("交易号A55120还没完成，还能撤销吗", "cancel-transaction"),
    ("is OKPay safe? my coworker says there are lots of scams around", "security"),
    ("老人家要注意什么才不会被骗", "security"), ("啥子叫实名认证", "verification"),
    ("客人刷不了卡是什么原因", "transaction-failed"), ("NID card is accepted for kyc?", "verification"),
    ("login loop on my tablet", "login"), ("would support staff ever ask me for my password?", "security"),
    ("App說密碼不對，但我從來沒改過密碼", "login"), ("they want pictures of my i d card, what for?", "verification"),
    ("客服几点开始上班", "contact"),
]
# An outside probe's classes, where money is at stake and the words are an FAQ's (fresh wordings, none in a set): a scam
# the customer fell for asked as "how do I cancel" (tricked, conned, cheated, fell for, a fake seller / buyer / agent,
# 上当, 受骗, 被騙, 俾人呃), money gone overnight said in sarcasm beside a 2FA question, a message received asking to
# click a link or saying the account is locked, a transaction in one's own history nobody knows, a purchase paid and
# never received
MILD_CASES_5 = [
    # the probe's own messages
    ("I was tricked into sending money, can I cancel the payment?", "scam"),
    ("can I cancel a payment? I was tricked into sending it", "scam"),
    ("Oh wonderful, 5k gone overnight. So how do I turn on 2FA, genius?", "stolen_funds"),
    ("How do I log in? I got an email saying my account is locked and to click a link", "scam"),
    ("I paid for a PS5 on Facebook Marketplace and never got it, how do I cancel the payment?", "merchant_dispute"),
    ("我不认识这笔交易，怎么取消？", "stolen_funds"),
    # fresh wordings of their classes
    ("a guy on a dating app tricked me into sending him 400 dollars, can okpay reverse it?", "scam"),
    ("we got cheated by a fake buyer who sent a fake receipt, how do we get the money back?", "scam"),
    ("I've been conned by an online trader, how long do refunds take?", "scam"),
    ("my sister fell for a fake job offer and paid a training fee, can she cancel?", "scam"),
    ("paid a fake seller on Carousell for concert tickets, how do I cancel the transaction?", "scam"),
    ("我上当了，给一个假中介转了押金，怎么撤回？", "scam"), ("受骗了，刚转的两千块能取消吗？", "scam"),
    ("被一個假買家騙了，錢可以拿回來嗎？", "scam"), ("我阿媽俾人呃咗五千蚊，點樣攞返？", "scam"),
    ("terrific, 2k vanished while I was asleep. how do I set up an authenticator, genius?", "stolen_funds"),
    ("my 800 usdt just disappeared out of nowhere, how do I change my pw?", "stolen_funds"),
    ("一觉醒来三千块没了，怎么改登录密码？", "stolen_funds"),
    ("帳戶的錢一夜之間全沒了，要怎麼開啟雙重驗證？", "stolen_funds"),
    ("got a text telling me to tap a link to verify my wallet, how do I log in now?", "scam"),
    ("I received an email that my account would be closed unless I click a link, what should I do?", "scam"),
    ("收到一封邮件说账户被锁了，让我点击链接，怎么重新登录？", "hacked_account"),
    ("收到簡訊說帳戶被凍結，叫我點連結，現在要怎麼辦？", "frozen_funds"),
    ("這筆扣款我不認得，可以取消嗎？", "stolen_funds"), ("我完全不记得这笔转账，要怎么撤销？", "stolen_funds"),
    ("I ordered a laptop on a marketplace, paid, and never got it. how do I cancel?", "merchant_dispute"),
    ("bought concert tickets online, paid 120 dollars, nothing ever arrived, can I get a refund?", "merchant_dispute"),
    ("在网上买了双鞋，付了款一直没收到货，怎么退款？", "merchant_dispute"),
]
# ... and the same asked hypothetically or in general, which keep their FAQ (how to spot one, what if one came)
NEAR_QUESTIONS_5 = [
    ("how can I tell if a seller is fake?", "security"),
    ("what if I'm tricked into paying someone, can the payment be cancelled?", "cancel-transaction"),
    ("tips to avoid getting conned online?", "security"), ("怎样才能不上当受骗？", "security"),
    ("如何识别假买家？", "security"), ("點樣分辨假賣家？", "security"),
    ("what are common tricks scammers use?", "security"), ("how do I spot a scam?", "security"),
    ("what should I do if I get a text asking me to tap a link?", "security"),
    ("do you send sms with links to unlock accounts?", "security"),
    ("如果收到邮件让我点击链接，要怎么办？", "security"),
    ("can my balance vanish overnight if I don't turn on 2FA?", "security"), ("余额会不会一夜之间没了？", "security"),
    ("如果被骗了钱还能取消吗", "cancel-transaction"),
    ("what should I do if I see a payment I don't recognise?", "security"),
    ("如果发现一笔不认识的交易，要怎么处理？", "security"),
    ("how do I cancel a payment I made by mistake?", "cancel-transaction"),
    ("how do I turn on 2FA so nobody can empty my wallet?", "security"), ("怎么开启二次验证，防止钱被盗？", "security"),
    ("how do I know if an sms is really from okpay?", "security"), ("怎么分辨短信是不是你们发的？", "security"),
    ("如果买东西付了钱没收到货，可以取消吗？", "cancel-transaction"),
]
GUIDE_QUESTIONS = [
    ("重置密码失败了，怎么办", "login"), ("Password reset failed, what should I do?", "login"),
    ("手机号换了怎么改绑定", "login"), ("取消订单后钱会退回吗", "cancel-transaction"),
    ("显示成功了余额没变是正常的吗", "transaction-failed"), ("能帮我撤回吗", "cancel-transaction"),
    ("how do I cancel my last payment", "cancel-transaction"), ("认证后限额会提高吗", "verification"),
    ("OKPay是匿名的吗", "about"), ("Is OKPay anonymous for payments?", "about"), ("能改付款吗", "cancel-transaction"),
    ("注册需要什么资料", "verification"), ("有必要开两步验证吗", "security"),
    ("我睡觉的时候手机放哪里比较安全", "security"), ("出现错误代码怎么办", "login"),
    ("the order was cancelled, will I get my money back?", "cancel-transaction"),
    ("状态页面正常吗", "transaction-failed"), ("认证完了还要等多久", "verification"),
    ("可以发录屏给客服吗", "contact"), ("can I send a screen recording to support to show the problem?", "contact"),
    ("客服一般多久回复邮件", "contact"), ("I emailed support, how long do replies take?", "contact"),
    ("if my account gets locked, can you verify me?", "login"),
    # no step of the answer's done is still the answer's question; the steps asked about hypothetically too
    ("I tried to log in but it still fails", "login"),
    ("Should I check my spam folder if the reset email doesn't come?", "login"),
    ("如果清了缓存还是登不上怎么办", "login"),
    ("I changed my phone and still can't log in", "login"), ("怎么反馈可疑交易", "security"),
    ("钱扣了但对方没收到，是延迟吗", "transaction-failed"),
]
NEAR_QUESTIONS = [
    ("重置密码失败怎么办", "login"), ("密码错了好几次被锁了，怎么解锁", "login"),
    ("I didn't get the password reset email", "login"), ("我可以在别的手机上登录吗", "login"),
    ("why was my verification rejected", "verification"), ("认证通过后限额会提高吗", "verification"),
    ("我的认证还在审核中，一般要多久", "verification"), ("客服一般多久回复", "contact"),
    ("how do I cancel a payment I just made", "cancel-transaction"), ("能不能取消刚才的转账", "cancel-transaction"),
    ("在朋友的手机上登录安全吗", "security"), ("交易失败会扣钱吗", "transaction-failed"),
    # a question around words that also close the loop or report an incident
    ("转账成功了对方多久能收到", "transaction-failed"), ("我在别人的电脑上登录过，需要改密码吗", "security"),
    ("商家不发货的话可以退款吗", "cancel-transaction"), ("OKPay能干啥", "about"),
    # the recipient has not got it yet, with nothing that shows a case: the delay FAQ
    ("朋友说还没收到我转的钱", "transaction-failed"),
    ("my friend says he didn't receive the money yet", "transaction-failed"),
    ("换手机了二次验证怎么办", "security"), ("how do I follow up on my ticket", "contact"),
    ("我转错钱到别人账户了怎么办", "cancel-transaction"),
]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("the payment went through twice", "double_charge"), ("同一笔钱扣了两遍", "double_charge"),
     ("被重複扣款", "double_charge"), ("2fa got turned off and I didn't do it", "hacked_account"),
     ("got a login alert from another country, not me", "hacked_account"),
     ("我的兩步驟驗證被人關掉了", "hacked_account"), ("收到密码修改成功的短信，但我没改过密码", "hacked_account"),
     ("有人自稱是客服要我提供驗證碼", "scam"),
     ("someone called me saying they are from OKPay, move funds to a safe wallet", "scam"),
     ("I see a suspicious withdrawal in my history", "stolen_funds"),
     ("帳戶裡多了一筆我不認識的轉出", "stolen_funds"), ("my withdrawals are disabled, why", "frozen_funds"),
     ("withdrawal rejected, it says risk control", "frozen_funds"),
     ("sent 200 usdt 3 days ago and it still hasnt arrived", "transaction_investigation"),
     ("withdrawal still under review after 4 days", "transaction_investigation"),
     ("提現申請送出三天了，狀態還是審核中", "transaction_investigation"),
     ("实名认证审核一个多星期了还没结果", "transaction_investigation"),
     ("充值了3000台币还没入账", "transaction_investigation"),
     ("I tried everything and still can't log in", "tried_already"),
     # one purchase, two identical entries; a fear said with a report; a crash not at the login; all checks done
     ("只下單一次 卻扣了兩筆", "double_charge"),
     ("there are two identical transactions in my history, I only made one", "double_charge"),
     ("我担心账号被盗了，刚收到陌生设备登录提醒", "hacked_account"), ("打开app就闪退", "account_access"),
     ("switched networks, still failing, status page says all fine", "tried_already"),
     ("whats the usdt to twd rate", "not_covered"), ("how do i buy crypto", "not_covered"),
     ("what's the daily withdrawal limit", "not_covered"), ("提现手续费是多少", "not_covered"), *MILD_CASES,
     *GUIDE_CASES, *MILD_CASES_2, *SHORT_CASES, *MILD_CASES_3, *MILD_CASES_4, *MILD_CASES_5],
)
def test_incidents_and_cases_phrased_as_customers_write_them_go_to_a_person(triage, text, reason):
    d = triage.decide(text)
    assert isinstance(d, Handoff) and d.reason == reason, d


@pytest.mark.parametrize(
    ("text", "reason", "priority"),
    [("my father passed away and had money in his okpay, how can the family get it", "deceased", "high"),
     ("家人过世了，钱包里的资产怎么取出来", "deceased", "high"),
     ("paid a seller 300 usdt and he never shipped the phone", "merchant_dispute", "normal"),
     ("付了款商家一直不发货", "merchant_dispute", "normal"),
     ("my phone was stolen and okpay is logged in on it", "lost_device", "urgent"),
     ("I lost everything, I want to die", "distress", "urgent"),
     ("sent 300 usdt on the wrong network, erc20 instead of trc20", "transaction_investigation", "normal"),
     ("充值的usdt链上显示成功了但是余额没有加", "transaction_investigation", "normal"),
     ("woke up and my balance is 0. it was 2,300 usdt last night", "stolen_funds", "urgent"),
     ("my account is locked and I have almost 10k in it", "frozen_funds", "high"),
     ("my bank is doing a chargeback on my top up", "legal", "high")],
)
def test_cases_only_a_person_can_take_are_handed_off_with_their_priority(triage, text, reason, priority):
    d = triage.decide(text)
    assert isinstance(d, Handoff) and (d.reason, d.priority) == (reason, priority), d


# The labelling policy (tests/core/test_triage_eval.py): the customer's own blocking case, stated, goes to a person
# who asks what the guide says they need; the same case asked about (how/whether/what now) gets the FAQ answer
# (ASKED_CASES, in test_questions_that_only_sound_like_incidents_are_answered).
STATED_CASES = [
    ("我的账户被锁定了", "account_locked", "login"), ("账号被锁住了，登录不了", "account_locked", "login"),
    ("登录的时候提示账户已锁定", "account_locked", "login"), ("登入時說帳號已被鎖定", "account_locked", "login"),
    ("my account is locked", "account_locked", "login"),
    ("My account is locked after too many attempts", "account_locked", "login"),
    ("我刚才转错人了", "wrong_transfer", "transaction"), ("oops i sent to the wrong account number", "wrong_transfer",
                                                     "transaction"),
    ("I sent money to the wrong account", "wrong_transfer", "transaction"),
    ("我轉錯帳了，可以幫我取消嗎", "wrong_transfer", "transaction"),
    ("sent it to the wrong wallet by accident, can you reverse it?", "wrong_transfer", "transaction"),
    ("我要退款", "refund_request", "transaction"), ("i want a refund for an order", "refund_request", "transaction"),
    ("my verification was rejected", "review_problem", "verification"),
    ("实名认证一直不通过", "review_problem", "verification"),
    ("手机号换了，收不到验证码，登录不了", "account_access", None),
]
ASKED_CASES = [
    ("帳號被鎖定了怎麼解鎖", "login"), ("what do I do if my account gets locked", "login"),
    ("the app says account locked, what now", "login"), ("账户被锁定了怎么解锁", "login"),
    ("转错人了怎么办", "cancel-transaction"), ("I sent money to the wrong person, can I undo it", "cancel-transaction"),
    ("转账转错人了，能撤回吗", "cancel-transaction"), ("我要退款怎么操作", "cancel-transaction"),
    ("how do I request a refund", "cancel-transaction"), ("认证被拒了，说照片不清楚", "verification"),
    ("why was my kyc declined", "verification"), ("what if my verification is rejected", "verification"),
    ("手机号换了怎么改绑定", "login"), ("认证被拒绝的原因有哪些", "verification"), ("账户被锁定了吗", "login"),
    ("the verification code was rejected", "login"),
]


@pytest.mark.parametrize(("text", "reason", "intake"), STATED_CASES)
def test_a_stated_blocking_case_goes_to_a_person_who_asks_for_its_details(triage, kb, text, reason, intake):
    d = triage.decide(text)
    assert isinstance(d, Handoff) and d.reason == reason, d
    topic = topic_for(kb.intake, None, d.reason)
    assert (topic.name if topic else None) == intake


@pytest.mark.parametrize(
    ("text", "faq_id"),
    [("what should I do if I see a strange transaction in my history", "security"),
     ("how long does a withdrawal usually take, 3 days?", "transaction-failed"),
     ("提现一般要几天到账", "transaction-failed"), ("安全性高吗？会不会被黑", "security"),
     ("it says exceeds limit when i try to send money", "transaction-failed"),
     ("can i get a refund if the seller never shipped", "cancel-transaction"),
     ("lost my phone, how do I log in on my new one", "login"),
     ("my account is locked, how do I get back in", "login"),
     ("I sent money to the wrong person, can I undo it", "cancel-transaction"),
     ("accidentally paid twice the amount I meant to, can I change it", "cancel-transaction"),
     # a fear of being hacked asked about; a crash at the login; checks left to do asked about; a channel named
     ("害怕账户被盗用，有什么建议", "security"),
     ("I'm worried my account could get hacked, what should I watch out for?", "security"),
     ("每次登录就闪退", "login"), ("登入畫面一直閃退", "login"),
     ("balance is fine and I changed networks, payment still failing, is there maintenance going on?",
      "transaction-failed"), ("能打电话找客服吗，还是只能网上留言", "contact"),
     ("can I leave a message for support somewhere", "contact"), *NEAR_QUESTIONS,
     *GUIDE_QUESTIONS, *ASKED_CASES, *NEAR_QUESTIONS_2, *SHORT_QUESTIONS, *NEAR_QUESTIONS_3,
     *NEAR_QUESTIONS_4, *NEAR_QUESTIONS_5],
)
def test_questions_that_only_sound_like_incidents_are_answered(triage, text, faq_id):
    d = triage.decide(text)
    assert isinstance(d, Answer | Clarify), d
    assert faq_id == getattr(d, "faq_id", None) or faq_id in getattr(d, "options", ())



@pytest.mark.parametrize(
    ("text", "faq_id"),
    [("儲值還沒到帳", "transaction-failed"), ("帳號登入不了", "login"), ("怎麼開啟兩步驟驗證", "security"),
     ("客服專線是多少", "contact"), ("轉帳失敗", "transaction-failed"),
     ("登唔到入去個app，點算", "login")],
)
def test_taiwan_and_hong_kong_wording_is_understood_and_answered_in_traditional(triage, kb, text, faq_id):
    d = triage.decide(text)
    assert d.lang == "zh-Hant"
    assert faq_id == getattr(d, "faq_id", None) or faq_id in getattr(d, "options", ())
    assert detect_language(d.reply) == "zh-Hant"


@pytest.mark.parametrize(
    "text",
    ["thanks, that helped!", "好的明白了", "👍", "thanks, I reset my password and it works now",
     "已經可以登入了，謝謝你們", "ok i'll try that, thank you", "好的我去试试，谢谢",
     "perfect, the transfer arrived, thanks!", "thanks for the info"],
)
def test_closing_the_loop_is_small_talk_not_a_question(triage, text):
    assert isinstance(triage.decide(text), Greet)


@pytest.mark.parametrize("text", ["thanks, but I still can't log in", "好的，但是还是登不上",
                                  "thanks, how do I set up 2fa"])
def test_thanks_with_an_open_problem_is_still_the_problem(triage, text):
    assert isinstance(triage.decide(text), Answer | Clarify)


def test_the_reply_to_a_which_question_chooses_among_the_offered_faqs(triage, kb):
    first = "the money i sent hasnt reached my friend yet"
    asked = triage.decide(first)
    assert isinstance(asked, Clarify) and asked.options == ("transaction-failed", "cancel-transaction")

    def reply(text):
        return triage.decide(text, TriageContext(offered=asked.options, earlier=first))

    assert reply("it is delayed").faq_id == "transaction-failed"
    assert reply("the first one").faq_id == "transaction-failed"
    chosen = reply("第二个")
    assert isinstance(chosen, Answer) and chosen.faq_id == "cancel-transaction"
    assert chosen.reply == kb.answer("cancel-transaction", "zh-Hans")
    none = reply("neither")
    assert isinstance(none, Handoff) and none.reason == "unclear"
    assert reply("someone stole it").reason == "stolen_funds"  # an incident in the reply wins
    assert isinstance(reply("ok"), Clarify)  # nothing chosen: asked again with the two turns together


class KeywordBackend:
    """A stand-in semantic plugin: says every message is about verification."""

    def scores(self, text: str, kb: KnowledgeBase) -> Mapping[str, float]:
        return {"verification": 1.0}


def test_a_semantic_backend_is_blended_in(kb):
    lexical = Triage(kb).decide("how long does the review take")
    blended = Triage(kb, semantic=KeywordBackend()).decide("how long does the review take")
    assert isinstance(blended, Answer) and blended.faq_id == "verification"
    assert blended.confidence != lexical.confidence


# ---- properties -----------------------------------------------------------------------------------

VALID_LANGS = {"zh-Hans", "zh-Hant", "en"}
FAQ_PHRASES_ZH = ["忘记密码了怎么办", "账户被锁定了", "怎么开启二次验证", "转账失败了", "实名认证要多久",
                  "怎么取消交易", "怎么联系客服", "谢谢", "转人工", "我的钱被盗了"]


def _check(d, kb):
    assert isinstance(d, Answer | Handoff | Greet | Clarify)
    assert d.action in {"answer", "handoff", "greet", "clarify"}
    assert 0.0 <= d.confidence <= 1.0
    assert d.reply.strip()
    assert d.lang in VALID_LANGS
    if isinstance(d, Answer):
        assert d.faq_id in {e.id for e in kb.entries}
    if isinstance(d, Handoff):
        assert d.priority in {"low", "normal", "high", "urgent"} and d.reason
    if isinstance(d, Clarify):
        assert d.options and set(d.options) <= {e.id for e in kb.entries}
        assert d.kind == "vague" or len(d.options) <= 2  # "which" offers the close FAQs, never a menu


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_exactly_one_valid_decision(triage, kb, text):
    first = triage.decide(text)
    _check(first, kb)
    assert triage.decide(text) == first  # deterministic


def _whole_pattern(rule, prepared):
    return bool(rule.pattern.search(prepared)) and not (rule.unless and rule.unless.search(prepared))


def test_rules_split_by_script_match_exactly_like_the_whole_pattern(triage):
    """Speed must not change a decision: every rule, on every labelled message and mixes of them."""
    texts = [i["text"] for name in ("triage_eval.yaml", "triage_holdout.yaml", "triage_dev.yaml", "triage_dev5.yaml")
             for i in yaml.safe_load((HERE / name).read_text(encoding="utf-8"))]
    texts += [f"{a} {b}" for a, b in zip(texts[::7], texts[3::11], strict=False)]
    hits = 0
    for text in texts:
        prepared = prepare(text)
        latin, han = bool(LATIN_CHAR.search(prepared)), bool(HAN_CHAR.search(prepared))
        for rule in triage._rules:
            expected = _whole_pattern(rule, prepared)
            hits += expected
            assert rule.matches(prepared, latin, han) == expected, (rule.reason, text)
    assert hits > 300  # the corpus exercises the rules


def _first_whole(rules, prepared):
    """The first rule by priority then table order, every rule's whole pattern searched (no gates, no table)."""
    found = None
    for rule in rules:
        if found is not None and PRIORITY_RANK[rule.priority] <= PRIORITY_RANK[found.priority]:
            continue
        if _whole_pattern(rule, prepared):
            found = rule
    return found


def _labelled_texts() -> list[str]:
    texts = [i["text"] for name in ("triage_eval.yaml", "triage_holdout.yaml", "triage_dev.yaml", "triage_dev2.yaml",
                                     "triage_dev3.yaml", "triage_dev4.yaml", "triage_dev5.yaml")
             for i in yaml.safe_load((HERE / name).read_text(encoding="utf-8"))]
    return texts + [f"{a} {b}" for a, b in zip(texts[::7], texts[3::11], strict=False)]


def test_the_table_finds_the_rule_the_whole_patterns_find(triage):
    """The gate words of all rules are found in one pass and only those rules run: the rule found must be the one
    every whole pattern, searched in turn, finds (and after a rule set aside, the one after it)."""
    matched = 0
    for text in _labelled_texts():
        prepared = prepare(text)
        expected = _first_whole(triage._rules, prepared)
        matched += expected is not None
        assert _first_rule(triage._table, prepared) is expected, text
        if expected is not None:
            after = triage._rules[triage._rules.index(expected) + 1:]
            assert _first_rule(triage._table, prepared, expected) is _first_whole(after, prepared), text
    assert matched > 500  # the corpus exercises the table


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted({w for r in RULES for alts in r.piece_words for ws in alts for w in ws})),
                max_size=6),
       st.text(alphabet=st.sampled_from(list(" ,.?!0123456789我的钱没到账被盗")), max_size=12))
def test_the_table_agrees_with_the_whole_patterns_on_gate_words_in_any_order(triage, words, noise):
    """Texts made of the gate words themselves open many rules at once: still the same rule as the whole patterns."""
    prepared = prepare(" ".join(words) + noise)
    assert _first_rule(triage._table, prepared) is _first_whole(triage._rules, prepared)


def test_each_costly_row_keeps_its_own_gate():
    """Gates are found by the row's pattern list, not its place in the table: adding a row leaves them on theirs."""
    gated = [rule for rule in RULES if rule.needs is not None]
    assert len(gated) == len(_NEEDS) and {rule.reason for rule in gated} == {"transaction_investigation"}
    assert not any(rule.needs.search("how do i log in") for rule in gated)


@pytest.mark.parametrize(
    ("text", "faq_id"),
    [("how do I upload my id for verification", "verification"), ("where do i upload my passport", "verification"),
     ("the reset link said expired, what now", "login"),
     ("how do i get a refund my payment failed", "cancel-transaction"),
     ("can you recommend what to do about my refund", "cancel-transaction")],
)
def test_an_uncovered_topic_matches_whole_words_not_the_end_of_another(triage, text, faq_id):
    """"upload my" is not "load my" (top up), "said expired" not an expired "id", "refund" not "fund"."""
    d = triage.decide(text)
    assert isinstance(d, Answer | Clarify), d
    assert faq_id == getattr(d, "faq_id", None) or faq_id in getattr(d, "options", ())


GATE_SHAPES = [r"\b(?:pass|password)\b.{0,20}(?:reset|forgot)", r"a?bc", r"(?:xy|)zz", r"(?:ab)+c", r"q\bw",
               r"(?:转账|提现).{0,5}失败", r"ab(?!c)d", r"[a-c]x{2,}", r"(?:no|not) (?:yet|really)"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdqwxyz pasword,refgt转账提现失败")), max_size=40))
def test_a_rules_gate_never_turns_away_a_text_it_would_match(text):
    """The words read off a regex (every match contains one) are what lets a rule skip a message: a text the
    regex matches always has one of them; a case-insensitive regex gets no gate at all."""
    for shape in GATE_SHAPES:
        words = needed(shape)
        assert words, shape
        if re.search(shape, text):
            assert any(w in text for w in words), (shape, text, words)
    assert needed(r"(?i)abc") is None and needed(r"a?b?") is None


RULE_ALPHABET = list("abcdefghijklmnopqrstuvwxyz0123456789 #$.,?!") + list("转账提现没到账被盗冻结两次天前号人工客服")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(RULE_ALPHABET), max_size=60))
def test_rules_split_by_script_match_like_the_whole_pattern_on_any_text(triage, text):
    prepared = prepare(text)
    latin, han = bool(LATIN_CHAR.search(prepared)), bool(HAN_CHAR.search(prepared))
    for rule in triage._rules:
        assert rule.matches(prepared, latin, han) == _whole_pattern(rule, prepared), rule.reason


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(categories=["Lo", "Nd", "P", "Zs", "So"]), max_size=80),
       st.sampled_from([None, "en", "zh-TW", "zh-CN", "xx"]))
def test_cjk_noise_and_hints_never_break(triage, kb, text, hint):
    _check(triage.decide(text, TriageContext(language_hint=hint, previous_faq_id="login", turns=3)), kb)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(FAQ_PHRASES_ZH), st.text(alphabet="，。！？ okOK123", max_size=6))
def test_traditional_input_gets_a_traditional_reply(triage, phrase, noise):
    text = to_traditional(phrase) + noise
    d = triage.decide(text)
    assert d.lang == "zh-Hant"
    assert detect_language(d.reply) == "zh-Hant"
    simplified = triage.decide(phrase + noise)
    assert simplified.action == d.action and getattr(simplified, "faq_id", None) == getattr(d, "faq_id", None)



def test_a_very_long_message_is_decided_from_its_start_and_its_end() -> None:
    """A 200,000-character message (pasted logs, a flood) must not hold the engine: triage reads its start and
    its end only, so the middle changes nothing, and a request for a person at the end is still heard."""
    from core.knowledge import load_knowledge_base
    from core.triage import READ_HEAD, Triage, readable

    triage = Triage(load_knowledge_base())
    head, tail = "我的转账一直没到账，已经三天了。", "谢谢。"
    middle = "日志 ERROR timeout 42 " * 10_000
    assert len(readable(head + middle + tail)) <= READ_HEAD + 1024 + 3
    same = [triage.decide(head + m + tail) for m in (middle, middle.replace("42", "7"), "日志 " * 50_000)]
    assert len({(d.action, getattr(d, "faq_id", None), d.confidence) for d in same}) == 1
    assert triage.decide(head + middle + "请帮我转人工客服").action == "handoff"


@pytest.mark.parametrize(("text", "expected"), [
    ("my account is locked", "account_locked"), ("I sent it to the wrong account", "wrong_transfer"),
    ("我要退款", "refund_request"), ("my verification was rejected", "review_problem"),
    ("账户被锁定了怎么办", "login"), ("I reset my password and still can't log in", "tried_already"),
    ("Hi! I've used OKPay for years, love it. Quick one though: how do I turn on two-step verification?", "security"),
])
def test_the_readmes_examples_of_a_stated_case_and_a_question(triage, text, expected):  # type: ignore[no-untyped-def]
    """README, "It knows when to stop": a stated case goes to a person, a question about it gets the answer, advice
    already followed goes to a person, a question among pleasantries gets its answer."""
    d = triage.decide(text)
    assert (d.reason if d.action == "handoff" else d.faq_id) == expected and d.action in ("handoff", "answer")
