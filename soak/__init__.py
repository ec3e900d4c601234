"""The loopback soak (``make soak``): gunicorn on 127.0.0.1 under partner caseworkers working their
GraphQL inbox and protection officers sending referrals over REST, driven by locust, then a count
check of every referral the clients saw created.

- ``world``: the throw-away operation the clients work in (organisations, API tokens, persons with
  their consent, receiving services), written through the services as the product writes it.
- ``server``: gunicorn as a real subprocess on a socket bound here to a free port of 127.0.0.1.
- ``locustfile``: the clients; what each saw is appended to a records file.
- ``check``: the count check (the database against the records) and the figures (p95, rates).
- ``__main__``: ``python -m soak``, one run per worker count, in a database of its own.

See docs/performance.md, "Loopback soak".
"""
