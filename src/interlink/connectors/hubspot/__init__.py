"""HubSpot: CRM v3 objects, properties, associations v4, OAuth, webhooks."""
