"""A local stand-in for WeChat, for `make run` and the tests (WeChat's servers cannot be reached from here).

`app.py` answers the HTTP API we call (token, stable_token, jscode2session, custom/send, subscribe/send) and
records what was sent (`GET /_standin/sent`); `server.py` plays WeChat's server towards our `/wechat` webhook
(signs or encrypts a user's message, retries like WeChat, decrypts the reply); `chat.py` is the terminal chat.
"""
