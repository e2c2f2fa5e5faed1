"""A workspace's accounts in HubSpot, Accelo and Accord, with credentials encrypted at rest."""
