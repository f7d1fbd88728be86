"""WeChat domain: the official-account webhook, mini-program login, subscribe-message pushes and their outbox."""
