-- referrals_referralcount kept by triggers: see referrals.models.ReferralCount.

CREATE OR REPLACE FUNCTION referrals_count_add(
    org uuid, to_org uuid, from_org uuid, svc uuid, st text, urg text, delta integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    which text;
BEGIN
    FOREACH which IN ARRAY ARRAY['received', 'sent'] LOOP
        CONTINUE WHEN (which = 'received' AND to_org IS DISTINCT FROM org)
                   OR (which = 'sent' AND from_org IS DISTINCT FROM org);
        INSERT INTO referrals_referralcount
            (organisation_id, side, service_id, status, urgency, internal, slot, count)
        VALUES (org, which, svc, st, urg, to_org = from_org, pg_backend_pid() % 16, delta)
        ON CONFLICT (organisation_id, side, service_id, status, urgency, internal, slot)
        DO UPDATE SET count = referrals_referralcount.count + EXCLUDED.count;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION referrals_view_permission_id() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE ct.app_label = 'referrals' AND ct.model = 'referral' AND p.codename = 'view_referral'
$$;

-- a group view grant given or taken: the organisation of that group sees one referral more or less
CREATE OR REPLACE FUNCTION referrals_count_on_grant() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    grant_row referrals_referralgroupobjectpermission;
    delta integer;
    org uuid;
    r record;
BEGIN
    IF TG_OP = 'INSERT' THEN grant_row := NEW; delta := 1; ELSE grant_row := OLD; delta := -1; END IF;
    IF grant_row.permission_id IS DISTINCT FROM referrals_view_permission_id() THEN RETURN NULL; END IF;
    SELECT id INTO org FROM partners_organisation WHERE group_id = grant_row.group_id;
    IF org IS NULL THEN RETURN NULL; END IF;
    SELECT to_organisation_id, from_organisation_id, to_service_id, status, urgency INTO r
    FROM referrals_referral WHERE id = grant_row.content_object_id;
    IF FOUND THEN
        PERFORM referrals_count_add(
            org, r.to_organisation_id, r.from_organisation_id, r.to_service_id, r.status, r.urgency, delta
        );
    END IF;
    RETURN NULL;
END $$;

-- a referral's status, urgency or service changed: each group that sees it moves it between keys
CREATE OR REPLACE FUNCTION referrals_count_on_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org uuid;
BEGIN
    FOR org IN
        SELECT o.id FROM referrals_referralgroupobjectpermission g
        JOIN partners_organisation o ON o.group_id = g.group_id
        WHERE g.content_object_id = NEW.id AND g.permission_id = referrals_view_permission_id()
    LOOP
        PERFORM referrals_count_add(
            org, OLD.to_organisation_id, OLD.from_organisation_id, OLD.to_service_id, OLD.status, OLD.urgency, -1
        );
        PERFORM referrals_count_add(
            org, NEW.to_organisation_id, NEW.from_organisation_id, NEW.to_service_id, NEW.status, NEW.urgency, 1
        );
    END LOOP;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS referrals_count_grant ON referrals_referralgroupobjectpermission;
CREATE TRIGGER referrals_count_grant
    AFTER INSERT OR DELETE ON referrals_referralgroupobjectpermission
    FOR EACH ROW EXECUTE FUNCTION referrals_count_on_grant();

DROP TRIGGER IF EXISTS referrals_count_change ON referrals_referral;
CREATE TRIGGER referrals_count_change
    AFTER UPDATE OF status, urgency, to_service_id, to_organisation_id, from_organisation_id
    ON referrals_referral
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.urgency IS DISTINCT FROM NEW.urgency
          OR OLD.to_service_id IS DISTINCT FROM NEW.to_service_id
          OR OLD.to_organisation_id IS DISTINCT FROM NEW.to_organisation_id
          OR OLD.from_organisation_id IS DISTINCT FROM NEW.from_organisation_id)
    EXECUTE FUNCTION referrals_count_on_change();
