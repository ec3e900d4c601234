-- every count again from the group view grants (slot 0); the caller holds the table lock
DELETE FROM referrals_referralcount;
INSERT INTO referrals_referralcount
    (organisation_id, side, service_id, status, urgency, internal, slot, count)
SELECT o.id, s.side, r.to_service_id, r.status, r.urgency, r.to_organisation_id = r.from_organisation_id, 0, count(*)
FROM referrals_referralgroupobjectpermission g
JOIN partners_organisation o ON o.group_id = g.group_id
JOIN referrals_referral r ON r.id = g.content_object_id
CROSS JOIN LATERAL (
    SELECT 'received'::text AS side WHERE r.to_organisation_id = o.id
    UNION ALL
    SELECT 'sent' WHERE r.from_organisation_id = o.id
) s
WHERE g.permission_id = referrals_view_permission_id()
GROUP BY 1, 2, 3, 4, 5, 6;
