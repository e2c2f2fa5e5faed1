"""Bulk pull (HubSpot -> Accelo) and push (Accelo -> HubSpot) jobs.

A job streams the source system page by page through the sync engine, with the same rules, matching and
batched, rate-limited writes as live syncing, and checkpoints after every batch:

- ``service``: start, list, read, cancel and resume jobs (the REST API, the CLI and the admin UI use it);
- ``runner``: one *slice* of a job on a worker: claim it under a lease kept alive by a heartbeat, index the
  target system's match keys, sync batch after batch, then yield the worker to live syncing and re-enqueue;
- ``index``: the target's records by match key, in the database, so twins are looked up without one vendor
  search per record and without holding anything in memory;
- ``predictions``: what a dry run remembers of its own predictions, so it predicts every record as the real
  run will treat it (a contact whose company the run would create is predicted created, not waiting);
- ``tasks``: ``jobs.run`` (one slice) and ``jobs.sweep`` (resumes jobs whose worker died).
"""
