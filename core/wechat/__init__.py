"""The WeChat adapter, split by concern: signature and crypto, parsing, reply rendering, the API client, tokens.

wechatpy does signatures, AES crypto, parsing and reply XML; the HTTP API is called with aiohttp (wechatpy's
client is synchronous and has no timeouts), against `WECHAT_API_BASE`.
"""
