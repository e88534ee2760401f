"""The PyTorch side of `bench embed`: sentence-transformers on CPU over the same texts.

Usage: python bench_peer.py MODEL_DIR TEXTS_JSON THREADS ROUNDS
Prints one line per round: the seconds `model.encode(texts, normalize_embeddings=True)` took
(batch size 32, after one warm-up pass). Run with the venv of requirements.txt.
"""
import json
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

model_dir, texts_path, threads, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
texts = json.load(open(texts_path, encoding="utf-8"))
model = SentenceTransformer(model_dir, device="cpu")
model.encode(texts[:8], normalize_embeddings=True)
for _ in range(rounds):
    start = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    print(time.perf_counter() - start, flush=True)
