from django.db import models


class RecentWrite(models.Model):
    """When a caller (a user, through any of their sessions and tokens) last sent a request that
    writes, and how far the primary's write-ahead log had got by then: their reads go to a replica
    only once it has replayed that far (``hub.replicas``). One row per user, written only when
    read replicas are configured."""

    user_id = models.BigIntegerField(primary_key=True)
    written_at = models.DateTimeField()
    # pg_current_wal_insert_lsn() - '0/0' just after the request: the byte position in the WAL
    wal_position = models.BigIntegerField()

    class Meta:
        db_table = "hub_recentwrite"  # named in hub/replicas.py's SQL

    def __str__(self) -> str:
        return f"user {self.user_id} wrote at {self.written_at:%Y-%m-%d %H:%M:%S}"
