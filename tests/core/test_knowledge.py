"""Knowledge base loading: the packaged default, a deployment's own file, and the errors it gets."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from core.errors import KnowledgeBaseError
from core.knowledge import MESSAGE_KEYS, load_knowledge_base
from core.language import detect_language, prepare

FAQ_IDS = ["about", "contact", "login", "security", "transaction-failed", "verification", "cancel-transaction"]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def test_default_has_the_seven_faqs_in_three_languages(kb):
    assert sorted(e.id for e in kb.entries) == sorted(FAQ_IDS)
    for faq_id in FAQ_IDS:
        assert detect_language(kb.answer(faq_id, "en")) == "en"
        assert detect_language(kb.answer(faq_id, "zh-Hans")) == "zh-Hans"
        assert detect_language(kb.answer(faq_id, "zh-Hant")) == "zh-Hant"
    assert kb.languages == ("zh-Hans", "zh-Hant", "en")


def test_answers_keep_the_guide_facts(kb):
    login = kb.answer("login", "en")
    for fact in ("Forgot password", "e-mail or phone number", "locked", "cache", "exact error message"):
        assert fact in login
    assert "24 hours" in kb.answer("transaction-failed", "en")
    assert "transaction number" in kb.answer("transaction-failed", "en")
    assert "24 小时" in kb.answer("verification", "zh-Hans")
    assert "2FA" in kb.answer("security", "en")
    assert "忘记密码" in kb.answer("login", "zh-Hans")
    assert "忘記密碼" in kb.answer("login", "zh-Hant")


def test_brand_is_configuration(kb):
    assert "OKPay" in kb.answer("about", "en") and "{brand}" not in kb.answer("about", "en")
    other = load_knowledge_base(brand="ZetaPay")
    assert "ZetaPay" in other.answer("about", "en") and "OKPay" not in other.answer("about", "en")
    assert "ZetaPay" in other.message("handoff", "en", ticket=7)
    assert other.topics("en")[0][1].startswith("What ZetaPay")


def test_messages_fill_ticket_or_drop_the_ticket_aside(kb):
    assert "#42" in kb.message("handoff", "en", ticket=42)
    assert "#42" in kb.message("ticket_solved", "zh-Hant", ticket=42)
    assert "{ticket}" not in kb.message("handoff", "en") and "24" in kb.message("handoff", "en")
    for key in MESSAGE_KEYS:
        for lang in kb.languages:
            assert kb.message(key, lang).strip()
    assert detect_language(kb.message("greeting", "zh-Hant")) == "zh-Hant"
    with pytest.raises(KeyError):
        kb.message("no_such_message", "en")


def test_topics_and_entries(kb):
    topics = kb.topics("zh-Hans")
    assert [faq_id for faq_id, _ in topics] == [e.id for e in kb.entries]
    assert all(title for _, title in topics)
    assert kb.entry("login").questions["en"]
    with pytest.raises(KeyError):
        kb.entry("nope")


def test_knowledge_base_is_immutable(kb):
    with pytest.raises(AttributeError):
        kb.brand = "Other"
    with pytest.raises(TypeError):
        kb.synonyms["x"] = ("y",)  # type: ignore[index]
    with pytest.raises(AttributeError):
        kb.entries[0].id = "other"  # type: ignore[misc]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kb.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD_ENTRY = """
  - id: opening-hours
    title: {zh-Hans: 营业时间, en: Opening hours}
    questions:
      zh-Hans: [你们几点上班]
      en: [when are you open]
    answer:
      zh-Hans: 我们 24 小时在线。
      en: We are online around the clock.
"""


def test_a_deployment_file_with_only_entries_loads(tmp_path):
    kb = load_knowledge_base(_write(tmp_path, "entries:" + GOOD_ENTRY), brand="Acme")
    assert [e.id for e in kb.entries] == ["opening-hours"]
    assert kb.answer("opening-hours", "zh-Hant") == "我們 24 小時線上。"
    assert "Acme" in kb.message("greeting", "en")  # messages fall back to the packaged defaults


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("entries:\n  - title: {en: x, zh-Hans: x}\n    questions: {en: [x]}\n    answer: {en: x, zh-Hans: x}\n",
         "entry #1: missing or invalid 'id'"),
        ("entries:" + GOOD_ENTRY.replace("      en: We are online around the clock.\n", ""),
         "entry 'opening-hours': answer: missing en"),
        ("entries:" + GOOD_ENTRY + GOOD_ENTRY, "entry 'opening-hours': duplicate id"),
        ("entries:" + GOOD_ENTRY + "    answers: {en: typo}\n",
         "entry 'opening-hours': unknown key 'answers'; did you mean 'answer'?"),
        ("entries:" + GOOD_ENTRY.replace("en: [when are you open]", "fr: [quand]"),
         "entry 'opening-hours': questions: unknown language 'fr'"),
        ("entries:" + GOOD_ENTRY + "faq: []\n", "unknown top-level key 'faq'"),
        ("entries:" + GOOD_ENTRY + "messages:\n  hello: {en: hi, zh-Hans: 你好}\n", "messages: unknown key 'hello'"),
        ("entries:" + GOOD_ENTRY + "messages:\n  thanks: {en: thanks}\n", "messages: thanks: missing zh-Hans"),
        ("entries: []\n", "'entries' must be a non-empty list"),
        ("- just a list\n", "must be a mapping"),
        ("entries: [\n", "YAML syntax error (line 2, column 1): expected the node content"),
        ("entries:\n  - id: x\n    title: [1\n", "(a flow sequence that began at line 3, column 12)"),
    ],
)
def test_malformed_files_name_the_entry_and_key(tmp_path, body, expected):
    path = _write(tmp_path, body)
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(path)
    assert expected in str(err.value)
    assert err.value.path == str(path)
    assert expected in err.value.report()


def test_missing_file_is_a_knowledge_base_error(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="cannot read"):
        load_knowledge_base(tmp_path / "absent.yaml")


def test_uncovered_topics_are_data_of_the_default_knowledge_base(kb):
    fees = kb.not_covered["fees"]
    assert fees.matches("what are the fees") and fees.matches("手续费多少")
    assert not fees.matches("any feedback?")  # whole words only
    assert kb.not_covered["cards_and_banks"].matches(prepare("怎麼綁定銀行卡"))  # topics run on prepared text
    assert not any(t.matches("i forgot my password") for t in kb.not_covered.values())


NOT_COVERED = """
not_covered:
  opening-hours-abroad:
    keywords:
      en: [holiday hours]
      zh-Hant: [假日營業]
    patterns:
      en: ['open (?:on|during) (?:sunday|saturday)s?']
    unless:
      en: ['\\bnot\\b']
"""


def test_a_deployment_lists_its_own_uncovered_topics(tmp_path):
    kb = load_knowledge_base(_write(tmp_path, "entries:" + GOOD_ENTRY + NOT_COVERED))
    topic = kb.not_covered["opening-hours-abroad"]
    assert topic.matches("what are your holiday hours") and topic.matches("are you open on sundays")
    assert topic.matches(prepare("假日營業嗎"))  # keywords are kept in the prepared (simplified) form
    assert not topic.matches("you are not open on sundays?")
    plain = load_knowledge_base(_write(tmp_path, "entries:" + GOOD_ENTRY))
    assert dict(plain.not_covered) == {}  # not inherited: OKPay's gaps are not every deployment's


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("not_covered:\n  fees:\n    patterns:\n      en: ['fee(']\n", "not_covered: 'fees': invalid pattern 'fee('"),
        ("not_covered:\n  fees:\n    words:\n      en: [fee]\n", "not_covered: 'fees': unknown key 'words'"),
        ("not_covered:\n  fees: {}\n", "not_covered: 'fees': must be a mapping"),
        ("not_covered:\n  fees:\n    keywords:\n      fr: [frais]\n",
         "not_covered: 'fees': keywords: unknown language 'fr'"),
        ("not_covered: [fees]\n", "not_covered: must be a mapping"),
    ],
)
def test_malformed_uncovered_topics_are_named(tmp_path, section, expected):
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(_write(tmp_path, "entries:" + GOOD_ENTRY + section))
    assert expected in str(err.value)


# A text ASKS for a secret when, within one sentence, a request form comes before the secret's name: "please
# send/provide/tell/enter ...", "send us ...", "what is your ...", "请(你)发送/提供/告诉/输入...", "(把)...发给我们"
# (the secret may come between 把 and the verb), "你的...是什么".
# A warning names the same secrets with a negation at the request form ("never send your password", "请勿发送密码",
# "不要把验证码发给我们"), so a request form negated within it or just before it is a warning, not a request; a negation
# elsewhere in the sentence ("if it's not working, please send ...", "不好意思，请发送...") does not excuse a request.
_SECRET = re.compile(r"password|passcode|\b(?:verification |sms |2fa |one-time |security )?codes?\b|\bpin\b|"
                     r"\botp\b|recovery phrase|seed phrase|private key|mnemonic|"
                     r"密码|密碼|验证码|驗證碼|动态码|動態碼|助记词|助記詞|私钥|私鑰|口令|\bPIN\b", re.I)
_REQUEST = re.compile(r"\b(?:please|kindly|could you|can you|would you|we need|need you to)\b[^.?!;]{0,40}?"
                      r"\b(?:send|provide|tell|enter|type|give|share|reply|post|dm|confirm|let us know)\b|"
                      r"\b(?:send|tell|give|dm|message)\s+(?:us|me)\b|\bwhat(?:'s| is| are) your\b|"
                      r"\b(?:provide|enter|type|confirm)\s+your\b|"
                      r"(?:请|請|麻烦|麻煩)(?!勿)[^，。；！？：]{0,8}?(?:发|發|提供|告诉|告訴|输入|輸入|填写|填寫|回复|回覆|私信)|"
                      r"(?:把|將|将)?[^，。；！？：]{0,20}?(?:发|發|告诉|告訴|提供|私信)(?:给|給)?(?:我们|我們|我|客服)|"
                      r"(?:你|您)的[^，。；！？]{0,6}?是(?:什么|什麼|多少)",
                      re.I)
_NEGATION = re.compile(r"\b(?:never|don'?t|do not|not)\b|勿|不要|别|別|绝不|絕不|不会|不會|不能")
_SENTENCE = re.compile(r"[.?!;。？！；\n]")


def _asks_for_a_secret(text: str) -> bool:
    for sentence in _SENTENCE.split(text):
        for request in _REQUEST.finditer(sentence):
            if _NEGATION.search(sentence[max(0, request.start() - 12):request.end()]):
                continue  # "never send your password", "请勿发送密码": a warning
            if _SECRET.search(sentence[request.start():]):
                return True
    return False


@pytest.mark.parametrize("text", [
    "Please send us the verification code you received.", "To check, please provide your password and e-mail.",
    "What is your recovery phrase?", "Kindly enter your PIN below.", "Send us the 6-digit code from the SMS.",
    "请发送你收到的验证码。", "请提供你的登录密码，方便我们核实。", "請告訴我們你的助記詞。", "麻烦输入你的 PIN 码。",
    "请把登录时收到的短信验证码发给我们。", "把助记词发给客服就能帮你找回资产。", "不好意思，请发送验证码。",
    "If it is still not working, please send us your password so we can check.",
])
def test_the_secret_request_check_catches_a_request(text: str) -> None:
    """The check below is only as good as this: each of these asks, and would be caught."""
    assert _asks_for_a_secret(text)


@pytest.mark.parametrize("text", [
    "Please never send us your password or codes.", "Do not tell anyone your recovery phrase, not even us.",
    "不要把验证码发给我们或任何人。", "请勿向任何人提供密码。",
    "Please tell us the error you see; never your password.",
])
def test_the_secret_request_check_lets_a_warning_through(text: str) -> None:
    assert not _asks_for_a_secret(text)


def test_the_bot_never_asks_for_passwords_codes_or_recovery_phrases(kb) -> None:
    """README (Conversations): "The bot never asks for passwords, codes or recovery phrases." Every fixed text the
    bot sends, the intake questions among them, in every language; warnings about those secrets are allowed."""
    intake_questions = {topic.question for topic in kb.intake.values()}
    assert intake_questions and intake_questions <= set(MESSAGE_KEYS)  # the intake prompts are checked below
    asking = [(key, lang) for key in MESSAGE_KEYS for lang in kb.languages
              if _asks_for_a_secret(kb.message(key, lang))]
    assert asking == []
    # the texts do name these secrets (as warnings): the check told warnings from requests, it did not just miss them
    for key in ("handoff", "intake_transaction", "intake_login", "public_safety", "secret_warning_wallet"):
        assert all(_SECRET.search(kb.message(key, lang)) for lang in kb.languages), key
