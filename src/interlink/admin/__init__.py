"""The admin web UI: a server-rendered sub-app mounted at /admin that calls the same services as the REST API.

``interlink.admin.app.create_admin_app`` builds it; ``interlink.app.create_app`` mounts it. Sign-in is per
workspace (see ``interlink.admin.auth``); every page shows only the signed-in user's workspace. Nothing is
imported here, so ``interlink users …`` and every other command start without loading the UI.
"""
