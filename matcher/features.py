"""Feature encodings: the scikit-learn pipeline fitted over the pool, and the numpy fast path.

Each set feature group (fellowships, languages, tags, contact modes, weekly hours, age band) is
multi-hot encoded and L2-normalised, so the dot product of a seeker's and a sponsor's
group is the cosine of their two sets. ``SponsorIndex.fit`` fits scikit-learn over the pool:
one ``CountVectorizer`` per group learns the vocabulary (``fit_vocabularies``, over the
pool's distinct token sets) and one ``TfidfTransformer`` per group learns how rare each
token is (``fit_rarity``, over the pool's multi-hot rows). With rarity weighting on
(``MatchSettings.rarity_weighting``), sharing a rare language or background counts for more
than sharing one everybody has: each token is weighted by its idf before normalising.
``build_preprocessor`` assembles the fitted pieces into the reference ``ColumnTransformer``;
``encode_group`` encodes one member from the fitted attributes with numpy, which is what
the hot path does (a ``ColumnTransformer`` call on one row costs more than scoring 100k
sponsors), and a test checks both agree.

What fitting learns is an ``Encoding``: plain vocabularies and idf weights. scikit-learn (and
SciPy) are imported only while one is learned, so a process that is handed an ``Encoding``
never loads them: the web app learns it in a short-lived child process
(``matcher.fit_child``), which keeps ~135 MB of libraries out of every web worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
from threadpoolctl import ThreadpoolController

from matcher.rules import SET_GROUPS, group_tokens

HOURS_PER_WEEK = 168
AVAILABILITY_WORDS = 3  # 168 hours packed into three 64-bit words
DENSE_GROUPS = tuple(b for b in SET_GROUPS if b != "availability")
_EMPTY_VOCAB_TOKEN = "\x00"  # a token no member has, so an unused group still has a column
RARITY_GROUPS = ("language", "tags")  # where sharing something rare can count for more


def _tokens_as_given(tokens):
    return tokens


def profile_rows(members) -> np.ndarray:
    """Return the object array (one column per set feature group) the preprocessor reads."""
    rows = np.empty((len(members), len(SET_GROUPS)), dtype=object)
    for j, group in enumerate(SET_GROUPS):
        rows[:, j] = [sorted(group_tokens(m, group)) for m in members]
    return rows


def pool_vocabularies(members) -> dict[str, list]:
    """Return each set feature group's sorted vocabulary over the pool."""
    vocab = {}
    for group in DENSE_GROUPS:
        seen = set()
        for m in members:
            seen |= group_tokens(m, group)
        vocab[group] = sorted(seen) or [_EMPTY_VOCAB_TOKEN]
    vocab["availability"] = list(range(HOURS_PER_WEEK))
    return vocab


@dataclass(frozen=True)
class Encoding:
    """What fitting learns over a pool: each dense group's sorted vocabulary and each rarity
    group's idf (one weight per vocabulary token), as plain lists and arrays."""

    vocabularies: dict[str, list]
    idf: dict[str, np.ndarray]

    def to_json(self) -> dict:
        return {
            "vocabularies": self.vocabularies,
            "idf": {group: weights.tolist() for group, weights in self.idf.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> Encoding:
        return cls(
            vocabularies={group: list(v) for group, v in data["vocabularies"].items()},
            idf={group: np.asarray(w, dtype=np.float64) for group, w in data["idf"].items()},
        )


def learn_encoding(tokens: dict[str, list]) -> Encoding:
    """Learn the encoding over a pool with scikit-learn: ``tokens`` holds each dense group's
    token collection per member (``rules.token_lists``)."""
    vocabularies = fit_vocabularies(tokens)
    return Encoding(vocabularies, fit_rarity(tokens, vocabularies))


def _vectorizer(vocabulary=None):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        analyzer=_tokens_as_given,
        lowercase=False,
        token_pattern=None,
        binary=True,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def fit_vocabularies(tokens: dict[str, list]) -> dict[str, list]:
    """Fit one ``CountVectorizer`` per dense group over the pool's distinct token sets and
    return each group's learned vocabulary, sorted (a group nobody uses gets one column)."""
    vocab = {}
    for group in DENSE_GROUPS:
        distinct = list({tuple(sorted(set(t))) for t in set(map(tuple, tokens[group]))})
        try:
            fitted = _vectorizer().fit(distinct)
        except ValueError:  # an empty vocabulary: nobody in the pool has a token here
            vocab[group] = [_EMPTY_VOCAB_TOKEN]
            continue
        vocab[group] = list(fitted.get_feature_names_out())
    return vocab


def fit_rarity(tokens: dict[str, list], vocabularies: dict[str, list]) -> dict[str, np.ndarray]:
    """Fit one ``TfidfTransformer`` per rarity group over the pool's multi-hot rows (each
    member's tokens in the group's vocabulary) and return its idf weights."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    out = {}
    for group in RARITY_GROUPS:
        vocabulary = {t: i for i, t in enumerate(vocabularies[group])}
        width = len(vocabulary)
        rows = encode_sets(tokens[group], vocabulary, width) > 0
        counts = sp.csr_matrix(rows, dtype=np.float32)
        if not counts.shape[0]:  # an empty pool: every token equally unseen
            counts = sp.csr_matrix((1, width), dtype=np.float32)
        out[group] = TfidfTransformer(norm=None, smooth_idf=True).fit(counts).idf_
    return out


def build_preprocessor(vocabularies: dict[str, list], rarity=()):
    """Return the ColumnTransformer: one multi-hot (+ an idf weighting for the groups named
    in ``rarity``) + L2 normaliser per set feature group. ``fit_reference`` fits it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import Normalizer

    transformers = []
    for j, group in enumerate(SET_GROUPS):
        steps = [("multi_hot", _vectorizer(vocabularies[group]))]
        if group in rarity:
            steps.append(("rarity", TfidfTransformer(norm=None, smooth_idf=True)))
        steps.append(("l2", Normalizer()))
        transformers.append((group, Pipeline(steps), j))
    return ColumnTransformer(transformers, sparse_threshold=1.0)


def fit_reference(ct, vocabularies, idf=None):
    """Fit the reference pipeline: the vocabularies are fixed, and each rarity step takes the
    idf fitted over the pool (``idf``: group → weights; refitting on one row of vocabularies
    would learn nothing)."""
    rows = np.empty((1, len(SET_GROUPS)), dtype=object)
    for j, group in enumerate(SET_GROUPS):
        rows[0, j] = list(vocabularies[group])
    ct.fit(rows)
    for group, weights in (idf or {}).items():
        ct.named_transformers_[group].named_steps["rarity"].idf_ = weights
    return ct


def encode_group(tokens, vocabulary: dict, width: int, idf=None) -> np.ndarray:
    """Return one member's L2-normalised multi-hot vector for a group; unknown tokens drop.

    ``idf`` (one weight per column, from ``fit_rarity``) weighs each token before the
    normalisation, as the fitted ``TfidfTransformer`` does."""
    out = np.zeros(width, dtype=np.float32)
    cols = [vocabulary[t] for t in tokens if t in vocabulary]
    if cols and idf is None:
        out[cols] = 1.0 / np.sqrt(np.float32(len(cols)))
    elif cols:
        w = idf[cols].astype(np.float32)
        out[cols] = w / np.sqrt(np.float32(np.dot(w, w)))
    return out


def pack_hours(hours) -> np.ndarray:
    """Return one member's hours of the week as three little-endian 64-bit words."""
    return pack_hour_sets([tuple(hours)])[0]


def unpack_hour_bits(words: np.ndarray) -> np.ndarray:
    """Unpack (n, 3) uint64 words into an (n, 168) uint8 0/1 matrix (a view)."""
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=1, bitorder="little")
    return bits[:, :HOURS_PER_WEEK]


def unpack_hour_matrix(words: np.ndarray) -> np.ndarray:
    """Unpack (n, 3) uint64 words into an (n, 168) float32 0/1 matrix."""
    return unpack_hour_bits(words).astype(np.float32)


def popcount(words: np.ndarray) -> np.ndarray:
    """Return the number of set bits per row of a uint64 matrix."""
    if hasattr(np, "bitwise_count"):
        # add the words column by column: a reduction over a short inner axis is slow
        total = np.bitwise_count(words[..., 0]).astype(np.int32)
        for j in range(1, words.shape[-1]):
            total += np.bitwise_count(words[..., j])
        return total
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)
    return table[words.view(np.uint8)].reshape(words.shape[0], -1).sum(axis=1)


def token_bits(tokens, vocabulary: dict, words: int) -> np.ndarray:
    """Return a set of known tokens as bits (bit = the token's index in the vocabulary).

    Tokens past ``words`` words are left out: bit sets that narrow were made before the
    vocabulary grew to them, so none of them has those tokens."""
    out = [0] * words
    for t in tokens:
        i = vocabulary.get(t)
        if i is not None and i < 64 * words:
            out[i // 64] |= 1 << (i % 64)
    return np.array(out, dtype=np.uint64)


def words_for(vocab_size: int) -> int:
    """Return how many 64-bit words hold a vocabulary of this size."""
    return max(1, -(-vocab_size // 64))


def _distinct(token_sets):
    """Return (distinct token tuples, each member's index into them)."""
    codes = {}
    index = [codes.setdefault(tokens, len(codes)) for tokens in token_sets]
    return list(codes), np.asarray(index, dtype=np.int64)


def encode_sets(token_sets, vocabulary: dict, width: int, idf=None) -> np.ndarray:
    """Return many members' L2-normalised multi-hot rows for one group at once.

    ``token_sets`` holds one hashable collection of tokens per member (tuples as the
    dataclasses give them); each distinct one is encoded once, as ``encode_group``
    does (unknown tokens drop, duplicates count once, ``idf`` weighs them), then rows are
    gathered.
    """
    distinct, index = _distinct(token_sets)
    table = np.zeros((len(distinct), width), dtype=np.float32)
    for i, tokens in enumerate(distinct):
        table[i] = encode_group(set(tokens), vocabulary, width, idf)
    return table[index] if len(index) else np.zeros((0, width), dtype=np.float32)


def pack_hour_sets(hour_sets) -> np.ndarray:
    """Return many members' weekly hours as (n, 3) little-endian uint64 words, hour h at
    bit h % 64 of word h // 64 (hours outside the week drop; each distinct set packed once)."""
    distinct, index = _distinct(hour_sets)
    counts = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))
    hours = np.fromiter(chain.from_iterable(distinct), dtype=np.int64, count=int(counts.sum()))
    owner = np.repeat(np.arange(len(distinct)), counts)
    valid = (hours >= 0) & (hours < HOURS_PER_WEEK)
    dense = np.zeros((len(distinct), AVAILABILITY_WORDS * 64), dtype=bool)
    dense[owner[valid], hours[valid]] = True
    table = np.packbits(dense, axis=1, bitorder="little").view("<u8")
    return table[index] if len(index) else np.zeros((0, AVAILABILITY_WORDS), dtype=np.uint64)


def bits_from_dense(dense: np.ndarray, words: int) -> np.ndarray:
    """Pack the non-zero columns of a multi-hot matrix into (n, words) uint64 bit sets."""
    padded = np.zeros((dense.shape[0], words * 64), dtype=bool)
    padded[:, : dense.shape[1]] = dense > 0
    return np.packbits(padded, axis=1, bitorder="little").view("<u8")


_BLAS = []


def one_blas_thread():
    """Return a context running BLAS on one thread.

    The matrix products here are small; on a busy 2-core machine a second BLAS thread
    mostly waits for a core, which made them several times slower.
    """
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")
