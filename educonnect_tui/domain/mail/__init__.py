"""E-mail: messages queued in the outbox with the change they announce, then delivered."""
