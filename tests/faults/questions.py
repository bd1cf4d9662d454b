"""The questions the fault tests ask: one per FAQ, so each answer shows which question it answers."""

from __future__ import annotations

QUESTIONS = {  # question -> the FAQ that answers it
    "how do I reset my password?": "login",
    "how can I contact customer support?": "contact",
    "is OKPay safe?": "security",
    "how do I verify my identity?": "verification",
    "what is OKPay?": "about",
}


def asking(*faq_ids: str) -> dict[str, str]:
    """The questions of these FAQs only (a test that needs fewer kinds of answer), in this order."""
    by_faq = {faq: question for question, faq in QUESTIONS.items()}
    return {by_faq[faq]: faq for faq in faq_ids}
