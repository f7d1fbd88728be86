"""AES "safe mode": decrypting WeChat's `<Encrypt>` envelope and encrypting our replies (wechatpy's WeChatCrypto)."""

from __future__ import annotations

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException


class CryptoRefused(Exception):
    """The envelope failed: wrong msg_signature, another app's AppID, or undecryptable content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SafeMode:
    def __init__(self, token: str, aes_key: str, appid: str) -> None:
        self._crypto = WeChatCrypto(token, aes_key, appid)

    def decrypt(self, body: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The inner XML. Checks `msg_signature` over the Encrypt text and that the AppID inside is ours."""
        try:
            return str(self._crypto.decrypt_message(body, msg_signature, timestamp, nonce))
        except InvalidSignatureException:
            raise CryptoRefused("bad msg_signature") from None
        except InvalidAppIdException:
            raise CryptoRefused("the message is for another AppID") from None
        except (KeyError, TypeError):
            raise CryptoRefused("no Encrypt element") from None
        except Exception as exc:  # malformed XML (ExpatError), bad base64, bad padding: all "not ours"
            raise CryptoRefused(f"undecryptable envelope ({type(exc).__name__})") from None

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        return str(self._crypto.encrypt_message(xml, nonce, timestamp))
