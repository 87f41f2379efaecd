"""Work done outside requests, started by `flask tracker worker` (tracker.jobs.worker): the daily
reminders (reminders), sending mail (mail) and delivering webhooks (webhooks). Views and services only
enqueue: they write outbox rows in the transaction of the change that causes them."""
