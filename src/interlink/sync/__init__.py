"""The sync engine: intake, reconcile (pure), matching, links, ledger, orchestration and jobs."""
