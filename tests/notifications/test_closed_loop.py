"""The transition table says who is told of what; checked against the hand-written oracle, and
every notice kind it names is a kind of the outbox."""

from referrals import transitions
from referrals.models import Notification
from tests.referrals.expected_matrix import ESCALATION_SOURCES, NOTICES


def test_the_table_tells_whom_the_oracle_says():
    table = {
        **{action: (t.notify, t.notice) for action, t in transitions.STATE_CHANGES.items()},
        "consent_withdrawn": (transitions.CONSENT_WITHDRAWAL.notify, transitions.CONSENT_WITHDRAWAL.notice),
        **{t.action: (t.notify, t.notice) for t in transitions.ESCALATIONS},
    }
    assert table == NOTICES
    assert {t.action: t.sources for t in transitions.ESCALATIONS} == ESCALATION_SOURCES


def test_every_notice_the_table_names_is_an_outbox_kind():
    named = {t.notice for t in transitions.TABLE.values() if t.notice}
    named |= {transitions.CONSENT_WITHDRAWAL.notice, *(t.notice for t in transitions.ESCALATIONS)}
    named |= {transitions.NEW_REFERRAL_NOTICE, transitions.ONWARD_NOTICE}
    assert named <= set(Notification.Kind.values)
