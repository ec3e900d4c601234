"""The job runner's own housekeeping: jobs of a dead worker go back to the queue, old jobs go."""

from __future__ import annotations

from procrastinate import App


async def jobs_retry_stalled(app: App, *, seconds_since_heartbeat: float) -> list[int]:
    """Put back in the queue every job that was running on a worker which stopped sending heartbeats
    (killed, or its machine lost) more than ``seconds_since_heartbeat`` ago. The job runs again from
    the start: every job here is written to be run twice safely (deliveries are keyed per channel)."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat)
    for job in stalled:
        await app.job_manager.retry_job(job)
    return [job.id for job in stalled]
