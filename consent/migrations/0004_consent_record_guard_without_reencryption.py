"""Consent records: encrypted free-text columns may only be cleared, with no exception left.

Master-key rotation used to re-encrypt every column, so the guard of migration 0002 let a
transaction that set ``consent.reencrypting`` write new ciphertext. Values are now sealed with the
person data keys, which rotation does not touch (it re-wraps the keys), so that way round the
guard — open to any session that sets the variable — is closed.
"""

from django.db import migrations

GUARD = r"""
CREATE OR REPLACE FUNCTION consent_record_guard() RETURNS trigger AS $$
DECLARE
    mutable text[] := ARRAY['status', 'withdrawn_at', 'withdrawn_by_id', 'withdrawal_channel',
                            'withdrawal_reason', 'superseded_at', 'justification', 'guardian_name',
                            'best_interests_reference'];
    erasable text[] := ARRAY['justification', 'guardian_name', 'best_interests_reference'];
    column_name text;
    new_value text;
BEGIN
    IF (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
        RAISE EXCEPTION 'consent records are immutable; record a new version instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND OLD.status <> 'active' THEN
        RAISE EXCEPTION 'a % consent record cannot become %', OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = OLD.status AND (
        NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at
        OR NEW.withdrawn_by_id IS DISTINCT FROM OLD.withdrawn_by_id
        OR NEW.withdrawal_channel IS DISTINCT FROM OLD.withdrawal_channel
        OR NEW.superseded_at IS DISTINCT FROM OLD.superseded_at
        OR (NEW.withdrawal_reason IS DISTINCT FROM OLD.withdrawal_reason
            AND coalesce(NEW.withdrawal_reason, '') <> '')
    ) THEN
        RAISE EXCEPTION 'withdrawal and supersession details are set once, with the status'
            USING ERRCODE = 'restrict_violation';
    END IF;
    FOREACH column_name IN ARRAY erasable LOOP
        new_value := to_jsonb(NEW) ->> column_name;
        IF new_value IS DISTINCT FROM (to_jsonb(OLD) ->> column_name) AND coalesce(new_value, '') <> '' THEN
            RAISE EXCEPTION 'consent_consentrecord.% may only be cleared', column_name
                USING ERRCODE = 'restrict_violation';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# the guard of 0002, with its re-encryption exception
PREVIOUS = r"""
CREATE OR REPLACE FUNCTION consent_record_guard() RETURNS trigger AS $$
DECLARE
    mutable text[] := ARRAY['status', 'withdrawn_at', 'withdrawn_by_id', 'withdrawal_channel',
                            'withdrawal_reason', 'superseded_at', 'justification', 'guardian_name',
                            'best_interests_reference'];
    erasable text[] := ARRAY['justification', 'guardian_name', 'best_interests_reference'];
    reencrypting boolean := coalesce(current_setting('consent.reencrypting', true), '') = 'on';
    column_name text;
    new_value text;
BEGIN
    IF (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
        RAISE EXCEPTION 'consent records are immutable; record a new version instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND OLD.status <> 'active' THEN
        RAISE EXCEPTION 'a % consent record cannot become %', OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = OLD.status AND (
        NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at
        OR NEW.withdrawn_by_id IS DISTINCT FROM OLD.withdrawn_by_id
        OR NEW.withdrawal_channel IS DISTINCT FROM OLD.withdrawal_channel
        OR NEW.superseded_at IS DISTINCT FROM OLD.superseded_at
        OR (NEW.withdrawal_reason IS DISTINCT FROM OLD.withdrawal_reason
            AND coalesce(NEW.withdrawal_reason, '') <> '' AND NOT reencrypting)
    ) THEN
        RAISE EXCEPTION 'withdrawal and supersession details are set once, with the status'
            USING ERRCODE = 'restrict_violation';
    END IF;
    FOREACH column_name IN ARRAY erasable LOOP
        new_value := to_jsonb(NEW) ->> column_name;
        IF new_value IS DISTINCT FROM (to_jsonb(OLD) ->> column_name)
           AND coalesce(new_value, '') <> '' AND NOT reencrypting THEN
            RAISE EXCEPTION 'consent_consentrecord.% may only be cleared', column_name
                USING ERRCODE = 'restrict_violation';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_person_data_keys")]

    operations = [migrations.RunSQL(GUARD, PREVIOUS)]
