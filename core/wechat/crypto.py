"""AES "safe mode": decrypting WeChat's `<Encrypt>` envelope and encrypting our replies (wechatpy's WeChatCrypto)."""

from __future__ import annotations

import xmltodict  # type: ignore[import-untyped]  # wechatpy's own XML reader (a dependency of it)
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException

from core.wechat.signature import sign, signature_matches


class CryptoRefused(Exception):
    """The envelope failed: wrong msg_signature, another app's AppID, or undecryptable content. `reason` is one of
    a few fixed texts (never an exception's), safe to answer and to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


BAD_SIGNATURE = "bad msg_signature"
OTHER_APPID = "the message is for another AppID"
NO_ENCRYPT = "no Encrypt element"
UNDECRYPTABLE = "undecryptable envelope"


class SafeMode:
    def __init__(self, token: str, aes_key: str, appid: str) -> None:
        self._token = token
        self._appid = appid
        self._crypto = WeChatCrypto(token, aes_key, appid)

    def decrypt(self, body: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The inner XML. Checks `msg_signature` over the Encrypt text (in constant time, before any decryption)
        and that the AppID inside is ours."""
        try:
            # The same reading wechatpy's decrypt_message does; xmltodict refuses entity declarations.
            encrypt = xmltodict.parse(body)["xml"]["Encrypt"]
        except (KeyError, TypeError):
            raise CryptoRefused(NO_ENCRYPT) from None
        except Exception:  # malformed XML (ExpatError) and the like: not an envelope of ours
            raise CryptoRefused(UNDECRYPTABLE) from None
        if not isinstance(encrypt, str):
            raise CryptoRefused(NO_ENCRYPT)
        if not signature_matches(sign(self._token, timestamp, nonce, encrypt), msg_signature):
            raise CryptoRefused(BAD_SIGNATURE)
        try:
            return str(PrpCrypto(self._crypto.key).decrypt(encrypt, self._appid))
        except InvalidAppIdException:
            raise CryptoRefused(OTHER_APPID) from None
        except Exception:  # bad base64, bad padding, not UTF-8 inside
            raise CryptoRefused(UNDECRYPTABLE) from None

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        return str(self._crypto.encrypt_message(xml, nonce, timestamp))
