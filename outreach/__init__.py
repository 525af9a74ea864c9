"""Outreach: the alert outbox, delivery to social workers, visit lists and their outcomes.

Visit lists come from the scoring step as frames keyed by a household hash; this package
stores them as alerts and visit tasks, queues messages in an outbox in the same
transaction, delivers them through apprise with retries, exports township lists for the
responsible worker and records what the visit found (labels flow back to the model).
"""
