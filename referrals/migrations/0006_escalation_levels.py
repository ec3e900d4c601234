
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0005_person_read_log'),
        ('partners', '0004_operation_coordinator_service_outcome_due_days'),
        ('pathways', '0001_initial'),
        ('referrals', '0005_merge_counts_and_notification_inbox'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalreferral',
            name='escalation_level',
            field=models.PositiveSmallIntegerField(default=0, help_text="0, 1 or 2: the level reached on the current clock (answer; outcome once accepted)"),
        ),
        migrations.AddField(
            model_name='historicalreferral',
            name='outcome_due_by',
            field=models.DateTimeField(blank=True, help_text="Accepted: the outcome is due by then (the service's outcome_due_days)", null=True),
        ),
        migrations.AddField(
            model_name='referral',
            name='escalation_level',
            field=models.PositiveSmallIntegerField(default=0, help_text="0, 1 or 2: the level reached on the current clock (answer; outcome once accepted)"),
        ),
        migrations.AddField(
            model_name='referral',
            name='outcome_due_by',
            field=models.DateTimeField(blank=True, help_text="Accepted: the outcome is due by then (the service's outcome_due_days)", null=True),
        ),
        migrations.AlterField(
            model_name='historicalreferral',
            name='escalated_at',
            field=models.DateTimeField(blank=True, help_text='When it last climbed a level', null=True),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('new_referral', 'New referral'), ('referral_acknowledged', 'Referral acknowledged'), ('referral_accepted', 'Referral accepted'), ('referral_declined', 'Referral declined'), ('outcome_recorded', 'Outcome recorded'), ('onward_outcome_recorded', 'Outcome recorded on an onward referral'), ('referral_withdrawn', 'Referral withdrawn'), ('consent_withdrawn', 'Consent withdrawn: delete your copy'), ('referral_escalated', 'Referral overdue'), ('outcome_overdue', 'Outcome overdue'), ('consent_expired', 'Consent expired'), ('request_due_soon', 'Data-subject request due soon')], max_length=32),
        ),
        migrations.AlterField(
            model_name='referral',
            name='escalated_at',
            field=models.DateTimeField(blank=True, help_text='When it last climbed a level', null=True),
        ),
        migrations.AlterField(
            model_name='referralevent',
            name='kind',
            field=models.CharField(choices=[('sent', 'Sent'), ('acknowledged', 'Acknowledged'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('completed', 'Completed'), ('closed', 'Closed'), ('withdrawn', 'Withdrawn'), ('consent_withdrawn', 'Withdrawn: consent withdrawn'), ('assigned', 'Assigned'), ('referred_onward', 'Referred onward'), ('escalated', 'Escalated: no answer or no outcome by its due date'), ('payload_erased', 'Shared data erased')], max_length=24),
        ),
        migrations.AddIndex(
            model_name='referral',
            index=models.Index(condition=models.Q(('outcome_due_by__isnull', False), ('status', 'accepted')), fields=['outcome_due_by'], name='referral_outcome_due_idx'),
        ),
        # a referral escalated before levels existed was escalated to the receiving side: level 1
    migrations.RunSQL(
        "UPDATE referrals_referral SET escalation_level = 1 "
        "WHERE escalated_at IS NOT NULL AND status IN ('sent', 'acknowledged')",
        reverse_sql=migrations.RunSQL.noop,
    ),
]
