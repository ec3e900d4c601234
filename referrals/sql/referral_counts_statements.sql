-- referrals_referralcount kept by statement-level triggers: one set-based upsert per statement,
-- whatever the number of rows it touched (a cascade of 20 referrals, a bulk grant insert).
-- Replaces the row-level triggers of referral_counts.sql.

DROP TRIGGER IF EXISTS referrals_count_grant ON referrals_referralgroupobjectpermission;
DROP TRIGGER IF EXISTS referrals_count_change ON referrals_referral;
DROP FUNCTION IF EXISTS referrals_count_on_grant();
DROP FUNCTION IF EXISTS referrals_count_on_change();
DROP FUNCTION IF EXISTS referrals_count_add(uuid, uuid, uuid, uuid, text, text, integer);

-- a group view grant given (INSERT) or taken (DELETE): its organisation sees one referral more or less
CREATE OR REPLACE FUNCTION referrals_count_on_grants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO referrals_referralcount AS c
        (organisation_id, side, service_id, status, urgency, internal, slot, count)
    SELECT org.id, sides.side, r.to_service_id, r.status, r.urgency,
           r.to_organisation_id = r.from_organisation_id, pg_backend_pid() % 16,
           CASE WHEN TG_OP = 'INSERT' THEN count(*) ELSE -count(*) END
    FROM changed_grants g
    JOIN partners_organisation org ON org.group_id = g.group_id
    JOIN referrals_referral r ON r.id = g.content_object_id
    CROSS JOIN LATERAL (
        SELECT 'received'::text AS side WHERE r.to_organisation_id = org.id
        UNION ALL
        SELECT 'sent' WHERE r.from_organisation_id = org.id
    ) sides
    WHERE g.permission_id = referrals_view_permission_id()
    GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (organisation_id, side, service_id, status, urgency, internal, slot)
    DO UPDATE SET count = c.count + EXCLUDED.count;
    RETURN NULL;
END $$;

-- referrals whose status, urgency, service or sides changed: each group that sees them moves them
CREATE OR REPLACE FUNCTION referrals_count_on_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO referrals_referralcount AS c
        (organisation_id, side, service_id, status, urgency, internal, slot, count)
    SELECT org.id, sides.side, moved.to_service_id, moved.status, moved.urgency,
           moved.to_organisation_id = moved.from_organisation_id, pg_backend_pid() % 16, sum(moved.delta)
    FROM (
        SELECT n.id, b.to_organisation_id, b.from_organisation_id, b.to_service_id, b.status, b.urgency,
               -1 AS delta
        FROM old_referrals b JOIN new_referrals n ON n.id = b.id
        WHERE (b.status, b.urgency, b.to_service_id, b.to_organisation_id, b.from_organisation_id)
              IS DISTINCT FROM (n.status, n.urgency, n.to_service_id, n.to_organisation_id, n.from_organisation_id)
        UNION ALL
        SELECT n.id, n.to_organisation_id, n.from_organisation_id, n.to_service_id, n.status, n.urgency, 1
        FROM old_referrals b JOIN new_referrals n ON n.id = b.id
        WHERE (b.status, b.urgency, b.to_service_id, b.to_organisation_id, b.from_organisation_id)
              IS DISTINCT FROM (n.status, n.urgency, n.to_service_id, n.to_organisation_id, n.from_organisation_id)
    ) moved
    JOIN referrals_referralgroupobjectpermission g
        ON g.content_object_id = moved.id AND g.permission_id = referrals_view_permission_id()
    JOIN partners_organisation org ON org.group_id = g.group_id
    CROSS JOIN LATERAL (
        SELECT 'received'::text AS side WHERE moved.to_organisation_id = org.id
        UNION ALL
        SELECT 'sent' WHERE moved.from_organisation_id = org.id
    ) sides
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(moved.delta) <> 0
    ON CONFLICT (organisation_id, side, service_id, status, urgency, internal, slot)
    DO UPDATE SET count = c.count + EXCLUDED.count;
    RETURN NULL;
END $$;

CREATE TRIGGER referrals_count_grants_given
    AFTER INSERT ON referrals_referralgroupobjectpermission
    REFERENCING NEW TABLE AS changed_grants
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_count_on_grants();

CREATE TRIGGER referrals_count_grants_taken
    AFTER DELETE ON referrals_referralgroupobjectpermission
    REFERENCING OLD TABLE AS changed_grants
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_count_on_grants();

CREATE TRIGGER referrals_count_changes
    AFTER UPDATE ON referrals_referral
    REFERENCING OLD TABLE AS old_referrals NEW TABLE AS new_referrals
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_count_on_changes();
