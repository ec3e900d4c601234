"""The transition table says who is told of what; checked against the hand-written oracle, and
every notice kind it names is a kind of the outbox."""

from referrals import transitions
from referrals.models import Notification
from tests.referrals.expected_matrix import NOTICES


def test_the_table_tells_whom_the_oracle_says():
    table = {
        **{action: (t.notify, t.notice) for action, t in transitions.STATE_CHANGES.items()},
        "consent_withdrawn": (transitions.CONSENT_WITHDRAWAL.notify, transitions.CONSENT_WITHDRAWAL.notice),
        "escalate": (transitions.ESCALATION.notify, transitions.ESCALATION.notice),
    }
    assert table == NOTICES


def test_every_notice_the_table_names_is_an_outbox_kind():
    named = {t.notice for t in transitions.TABLE.values() if t.notice}
    named |= {transitions.CONSENT_WITHDRAWAL.notice, transitions.ESCALATION.notice}
    named |= {transitions.NEW_REFERRAL_NOTICE, transitions.ONWARD_NOTICE}
    assert named <= set(Notification.Kind.values)
