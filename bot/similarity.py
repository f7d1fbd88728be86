"""How alike two questions are, without a model: weighted character n-grams, cosine.

Chinese has no spaces and people type on phones (typos, homophones, abbreviations), so a question becomes the
character bigrams (and, weakly, the single characters) of its Chinese runs and the words of its Latin runs, after
the filler every question carries (请问 / 怎么 / 吗 / how do I …) is taken out. Words that nearly every question to an
IP assistant carries (专利, 商标, 申请, 企业 …) weigh little, so "专利年费减缴" and "专利质押" are not alike merely for
sharing 专利. Weights are fixed, not learned from the queue, so a score means the same today as tomorrow and one
question's match does not move with what else was asked. Pure functions, no download, no state: used to group the
unanswered questions for officials and to find an official answer for a new question (`bot.knowledge`).

Measured on the examples in `tests/bot/test_similarity.py` (docs/assistant.md, *The knowledge loop*).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

Vector = dict[str, float]

# Said around every question; removed before the n-grams are taken (longest first, so 怎么样 goes before 怎么).
_FILLER_ZH = sorted(
    {
        "请问一下",
        "请问",
        "您好",
        "你好",
        "麻烦问一下",
        "问一下",
        "想问一下",
        "想问",
        "咨询一下",
        "咨询",
        "怎么样",
        "怎么办",
        "怎么",
        "怎样",
        "如何",
        "什么样",
        "什么",
        "啥",
        "哪些",
        "哪个",
        "哪里",
        "哪儿",
        "是不是",
        "是否",
        "能不能",
        "能否",
        "可不可以",
        "可以",
        "有没有",
        "有无",
        "需不需要",
        "需要",
        "我们公司",
        "我们企业",
        "我司",
        "我们",
        "咱们",
        "我想",
        "我要",
        "我",
        "多长时间",
        "要多久",
        "多久",
        "多少钱",
        "多少",
        "几个",
        "几件",
        "一下",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "嘛",
        "没",
        "了",
        "的",
        "得",
        "地",
        "么",
    },
    key=len,
    reverse=True,
)
_FILLER_RE = re.compile("|".join(re.escape(f) for f in _FILLER_ZH))
_STOP_EN = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "am",
        "be",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "i",
        "we",
        "you",
        "our",
        "my",
        "me",
        "us",
        "how",
        "what",
        "which",
        "when",
        "where",
        "who",
        "whom",
        "why",
        "there",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "with",
        "about",
        "any",
        "some",
        "have",
        "has",
        "get",
        "please",
        "tell",
        "know",
        "want",
        "need",
        "if",
        "at",
        "by",
        "from",
        "as",
        "long",
        "much",
        "many",
        "take",
        "does",
        "get",
    ]
)
# Present in most questions to an IP assistant: they say little about which question it is.
_COMMON = frozenset(
    {
        "专利",
        "商标",
        "申请",
        "企业",
        "公司",
        "知识",
        "识产",
        "产权",
        "办理",
        "政策",
        "代理",
        "机构",
        "国家",
        "patent",
        "patents",
        "trademark",
        "trademarks",
        "apply",
        "application",
        "company",
        "ip",
        "policy",
    }
)
# Abbreviations people type, spelled out first (so 软著 and 软件著作权 are one thing).
_ALIASES = {
    "软著": "软件著作权",
    "高企": "高新技术企业",
    "高新企业": "高新技术企业",
    "优审": "优先审查",
    "小巨人": "专精特新小巨人",
    "减免": "减缴",
    "费减": "费用减缴",
}
_ALIAS_RE = re.compile("|".join(re.escape(a) for a in sorted(_ALIASES, key=len, reverse=True)))
_CJK = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z0-9]+")

BIGRAM_WEIGHT = 1.0
UNIGRAM_WEIGHT = 0.3
COMMON_WEIGHT = 0.15


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, abbreviations spelled out, the filler taken out."""
    folded = _ALIAS_RE.sub(lambda m: _ALIASES[m.group(0)], unicodedata.normalize("NFKC", text).lower())
    return _FILLER_RE.sub("", folded)


def features(text: str) -> Vector:
    """The weighted n-grams of a question (see the module's docstring). Cached: the same examples are compared
    with every new question; callers must not change the result."""
    return _features(text)


@functools.lru_cache(maxsize=16384)
def _features(text: str) -> Vector:
    counts: Counter[str] = Counter()
    weights: Vector = {}
    norm = normalise(text)
    for run in _CJK.findall(norm):
        for ch in run:
            counts[ch] += 1
            weights[ch] = UNIGRAM_WEIGHT
        for i in range(len(run) - 1):
            gram = run[i : i + 2]
            counts[gram] += 1
            weights[gram] = COMMON_WEIGHT if gram in _COMMON else BIGRAM_WEIGHT
    for word in _LATIN.findall(norm):
        if word in _STOP_EN or len(word) < 2:
            continue
        stem = word[:-1] if len(word) > 4 and word.endswith("s") else word
        counts[stem] += 1
        weights[stem] = COMMON_WEIGHT if stem in _COMMON or word in _COMMON else BIGRAM_WEIGHT
    # Binary presence, weighted: a word said twice is not twice the question.
    return {gram: weights[gram] for gram in counts}


def cosine(a: Vector, b: Vector) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(w * large[g] for g, w in small.items() if g in large)
    if dot == 0.0:
        return 0.0
    return dot / (math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values())))


def similarity(a: str, b: str) -> float:
    """0 (nothing in common) to 1 (the same question, filler aside)."""
    return cosine(features(a), features(b))


def best_match(text: str, examples: Sequence[str]) -> float:
    """How close `text` comes to the closest of `examples` (0 when there are none)."""
    probe = features(text)
    return max((cosine(probe, features(e)) for e in examples), default=0.0)


def group(texts: Sequence[str], threshold: float) -> list[list[int]]:
    """Indexes of `texts` grouped by similarity: two texts at least `threshold` alike are in one group, and so
    are texts linked through others (single linkage). Groups keep the order of their first text, members their
    order; the same input gives the same groups.

    Only pairs that share a distinctive n-gram (a bigram or word of full weight) are compared: two questions with
    nothing but single characters and common words in common stay far below any useful threshold, and the queue is
    grouped in milliseconds instead of comparing every pair."""
    vectors = [features(t) for t in texts]
    postings: dict[str, list[int]] = {}
    for i, vector in enumerate(vectors):
        for gram, weight in vector.items():
            if weight >= BIGRAM_WEIGHT:
                postings.setdefault(gram, []).append(i)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    compared: set[tuple[int, int]] = set()
    for docs in postings.values():
        for x, i in enumerate(docs):
            for j in docs[x + 1 :]:
                if (i, j) in compared or root(i) == root(j):
                    continue
                compared.add((i, j))
                if cosine(vectors[i], vectors[j]) >= threshold:
                    a, b = root(i), root(j)
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())
