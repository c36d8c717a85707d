#!/usr/bin/python3
"""Keras twin of the tokenizer rows of `dotnet run -c Release -- --text-quick` (bench/Nabla.Bench/TextQuick.cs):
keras_preprocessing 1.1 (Debian python3-keras-preprocessing) Tokenizer(num_words=10000).fit_on_texts,
texts_to_sequences and pad_sequences(maxlen=200) over the same documents (the State of the Union addresses, then
Moby Dick's paragraphs), read from the cache Nabla's loaders fill ($NABLA_DATA or ~/.nabla/datasets/stdlib-text).
Usage: /usr/bin/python3 bench/peers/text_keras.py [--docs N] [--runs 3]
"""
import argparse, os, time
from keras_preprocessing.text import Tokenizer
from keras_preprocessing.sequence import pad_sequences

def records(path):
    data = open(path, "rb").read()
    pos = data.index(b"\n") + 1
    out = []
    while pos < len(data):
        end = data.index(b"\n", pos)
        header = data[pos:end].decode("utf-8").split("\t")
        n = int(header[-1]); pos = end + 1
        out.append(data[pos:pos + n].decode("utf-8")); pos += n + 1
    return out

ap = argparse.ArgumentParser(); ap.add_argument("--docs", type=int, default=None); ap.add_argument("--runs", type=int, default=3)
a = ap.parse_args()
folder = os.path.join(os.environ.get("NABLA_DATA") or os.path.expanduser("~/.nabla/datasets"), "stdlib-text")
docs = records(os.path.join(folder, "sotu.txt"))
moby = open(os.path.join(folder, "moby-dick.txt"), encoding="utf-8").read().replace("\r\n", "\n")
docs += [p.strip() for p in moby.split("\n\n") if p.strip()]
if a.docs and a.docs < len(docs):
    step = len(docs) / a.docs
    docs = [docs[int(i * step)] for i in range(a.docs)]
chars = sum(len(d) for d in docs); mb = chars / 2**20
print(f"keras_preprocessing text, {len(docs)} documents, {chars/1e6:.1f} M chars, best of {a.runs}")
def row(name, size_mb, f):
    best = min((lambda t: (f(), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(a.runs))
    print(f"{name:<44} {best*1e3:9.1f} ms  {size_mb/best:7.1f} MB/s")
tok = Tokenizer(num_words=10000)
def fit():
    global tok
    tok = Tokenizer(num_words=10000); tok.fit_on_texts(docs)
row("Tokenizer.fit_on_texts", mb, fit)
seqs = []
def t2s():
    global seqs
    seqs = tok.texts_to_sequences(docs)
row("Tokenizer.texts_to_sequences", mb, t2s)
row("pad_sequences(maxlen 200)", len(docs) * 200 * 4 / 2**20, lambda: pad_sequences(seqs, maxlen=200))
