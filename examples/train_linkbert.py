#!/usr/bin/env python3
"""Train LinkBERT's objective on linkbert-pipeline Parquet shards.

The model LinkBERT trains: BERT with the masked-LM head and a 3-way document-relation head on [CLS]
(as BERT's next-sentence head, with 3 classes: contiguous, random, linked); loss = MLM + DRP.
Hugging Face's BertForPreTraining computes a 2-class NSP loss, so its relation head is replaced by a
3-way one and both losses are computed here.

  python examples/train_linkbert.py --shards out/shards --tiny --steps 30      # plumbing, seconds
  python examples/train_linkbert.py --shards out/shards --model bert-base-cased --steps 10000

Prints one JSON line per logging step: step, split "train", mlm_loss, drp_loss, drp_acc (means over
the window). Where the shards have a validation split (`linkbert pairs --validation`), every
--eval-every steps and at the end also a line with split "validation": the MLM loss per masked token,
the DRP loss and accuracy over its first --eval-rows rows, with the model in eval mode.
Needs torch, transformers and pyarrow.
"""
import argparse
import glob
import itertools
import json
import os
import random

import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForPreTraining


def rows_of(shards, split="train"):
    """The split's rows, in the shards' order (one shuffled dataset, written in order)."""
    for path in sorted(glob.glob(os.path.join(shards, f"{split}-*.parquet"))):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            yield from batch.to_pylist()


def mask_dynamic(ids, special, vocab_size, rng, prob=0.15):
    """BERT's masking for --masking dynamic shards: 15% of the non-special tokens, 80/10/10."""
    ids = list(ids)
    candidates = [i for i, t in enumerate(ids) if t not in special["all"]]
    rng.shuffle(candidates)
    positions = sorted(candidates[: max(1, round(len(ids) * prob))])
    labels = [ids[p] for p in positions]
    for p in positions:
        r = rng.random()
        if r < 0.8:
            ids[p] = special["mask"]
        elif r < 0.9:
            ids[p] = rng.randrange(vocab_size)
    return ids, positions, labels


def collate(rows, pad_id, dynamic, special, vocab_size, rng):
    n = max(len(r["input_ids"]) for r in rows)
    input_ids, types, attention, labels = [], [], [], []
    for r in rows:
        ids, positions, targets = (mask_dynamic(r["input_ids"], special, vocab_size, rng) if dynamic
                                   else (list(r["input_ids"]), r["masked_lm_positions"], r["masked_lm_ids"]))
        k = n - len(ids)
        input_ids.append(ids + [pad_id] * k)
        types.append(list(r["token_type_ids"]) + [0] * k)
        attention.append([1] * len(ids) + [0] * k)
        lab = [-100] * n
        for p, t in zip(positions, targets):
            lab[p] = t
        labels.append(lab)
    t = lambda x: torch.tensor(x, dtype=torch.long)
    return {"input_ids": t(input_ids), "token_type_ids": t(types), "attention_mask": t(attention),
            "labels": t(labels), "relation": t([r["next_sentence_label"] for r in rows])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shards", required=True, help="folder with train-*.parquet and manifest.json")
    ap.add_argument("--model", help="Hugging Face model id or folder to start from (BERT weights)")
    ap.add_argument("--tiny", action="store_true", help="a small random BERT instead, to check the plumbing in seconds")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-3 with --tiny, 5e-5 otherwise)")
    ap.add_argument("--log-every", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=100, help="steps between validation passes (when the shards have a validation split)")
    ap.add_argument("--eval-rows", type=int, default=2000, help="validation rows read per pass (its first ones: the split is shuffled)")
    args = ap.parse_args()
    if not args.tiny and not args.model:
        ap.error("pass --model ID (weights to start from) or --tiny")

    manifest = json.load(open(os.path.join(args.shards, "manifest.json")))
    settings, tok = manifest["settings"], manifest["tokenizer"]
    ids = tok["special_ids"]
    special = {"mask": ids["mask"], "all": {v for v in ids.values() if v is not None and v >= 0}}
    vocab_size = tok["vocab_size"]
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    if args.tiny:
        config = BertConfig(vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=128, max_position_embeddings=max(512, settings["max_seq_len"]))
        model = BertForPreTraining(config)
    else:
        model = BertForPreTraining.from_pretrained(args.model)
    # the document-relation head: 3 classes (contiguous, random, linked), not NSP's 2
    model.cls.seq_relationship = torch.nn.Linear(model.config.hidden_size, 3)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr or (1e-3 if args.tiny else 5e-5))

    rows = list(rows_of(args.shards))
    if not rows:
        raise SystemExit(f"{args.shards}: no train-*.parquet rows")
    dynamic = settings["masking"] == "dynamic"
    held_out = list(itertools.islice(rows_of(args.shards, "validation"), args.eval_rows))
    window = {"mlm": 0.0, "drp": 0.0, "hit": 0, "n": 0, "steps": 0}
    at = 0
    for step in range(1, args.steps + 1):
        batch_rows = [rows[(at + i) % len(rows)] for i in range(args.batch)]
        at = (at + args.batch) % len(rows)
        b = collate(batch_rows, ids["pad"], dynamic, special, vocab_size, rng)
        out = model(input_ids=b["input_ids"], token_type_ids=b["token_type_ids"], attention_mask=b["attention_mask"])
        mlm = F.cross_entropy(out.prediction_logits.flatten(0, 1), b["labels"].flatten(), ignore_index=-100)
        drp = F.cross_entropy(out.seq_relationship_logits, b["relation"])
        opt.zero_grad()
        (mlm + drp).backward()
        opt.step()
        window["mlm"] += mlm.item()
        window["drp"] += drp.item()
        window["hit"] += (out.seq_relationship_logits.argmax(-1) == b["relation"]).sum().item()
        window["n"] += len(batch_rows)
        window["steps"] += 1
        if step % args.log_every == 0 or step == args.steps:
            s = window["steps"]
            print(json.dumps({"step": step, "split": "train", "mlm_loss": round(window["mlm"] / s, 4), "drp_loss": round(window["drp"] / s, 4),
                              "drp_acc": round(window["hit"] / window["n"], 4)}), flush=True)
            window = {"mlm": 0.0, "drp": 0.0, "hit": 0, "n": 0, "steps": 0}
        if held_out and (step % args.eval_every == 0 or step == args.steps):
            print(json.dumps({"step": step, "split": "validation", **evaluate(model, held_out, args.batch, ids["pad"], dynamic, special, vocab_size, args.seed)}), flush=True)


@torch.no_grad()
def evaluate(model, rows, batch, pad_id, dynamic, special, vocab_size, seed):
    """MLM loss per masked token, DRP loss and accuracy over `rows`; dynamic masks drawn the same each pass."""
    model.eval()
    rng = random.Random(seed + 1)
    mlm_sum, mlm_n, drp_sum, hit = 0.0, 0, 0.0, 0
    for i in range(0, len(rows), batch):
        b = collate(rows[i:i + batch], pad_id, dynamic, special, vocab_size, rng)
        out = model(input_ids=b["input_ids"], token_type_ids=b["token_type_ids"], attention_mask=b["attention_mask"])
        mlm_sum += F.cross_entropy(out.prediction_logits.flatten(0, 1), b["labels"].flatten(), ignore_index=-100, reduction="sum").item()
        mlm_n += (b["labels"] != -100).sum().item()
        drp_sum += F.cross_entropy(out.seq_relationship_logits, b["relation"], reduction="sum").item()
        hit += (out.seq_relationship_logits.argmax(-1) == b["relation"]).sum().item()
    model.train()
    return {"mlm_loss": round(mlm_sum / max(1, mlm_n), 4), "drp_loss": round(drp_sum / len(rows), 4),
            "drp_acc": round(hit / len(rows), 4), "rows": len(rows)}


if __name__ == "__main__":
    main()
