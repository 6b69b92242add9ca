"""rxdjango: live state for Django pages, streamed over WebSockets.

A nested DRF ModelSerializer defines the state of a page. A ContextChannel serves that
state, keeps it cached, and sends every committed change to the browsers that show it.
"""
