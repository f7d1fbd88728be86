"""rasa_sdk custom actions, served inside the backend at `POST /bot/actions` (see `bot.routes`).

Thin by design: each reads the tracker, calls `bot.lookups` (or the pure `bot.eligibility` / `bot.facts`), and
renders the reply through `bot.actions.common`.
"""
