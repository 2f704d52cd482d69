#!/usr/bin/env python3
"""PyTorch reference for our engine (llm.c style): the same networks, loaded with OUR weights.

Run by hand (torch from PyPI in a venv; the Swift tests only read what this writes):

  python3 tools/torch_reference.py step --checkpoint runs/t/teacher.ckpt --pseudo soft \
      --out Tests/EngineTests/Fixtures/pytorch-wrn-10-1.ckpt [--steps 2]
  noisy-student export-split --run runs/p --recipe R.json --seed 0
  python3 tools/torch_reference.py train --split runs/p/split --seed 0 --student

`train` trains the recipe's teacher (and with --student, labels the pool with it, filters and
balances as Filtering.swift does, and trains the first student with soft targets and the
model noise: dropout, stochastic depth) in PyTorch on a split our CLI exported (images,
recipe, normalisation) with our recipe's optimisation, and prints test top-1. Of the input
noise only the crop (reflect-pad 4, random offset) is reproduced; RandAugment and Cutout are
not: give both sides a recipe without them. It uses our SGD
(Nesterov, decay on weights only), our warm-up + cosine schedule by step, our batches (a fresh
permutation per epoch, the last batch topped up from its start), our initialisation's
distributions (He normal convolutions, uniform +-1/sqrt(fan-in) dense layer), batch norm
momentum 0.9 / eps 1e-5, float32. Random draws differ from ours (another generator), so single
runs differ by the seed-to-seed spread; compare means over seeds.

`step` reads one of our model checkpoints (the format of Sources/Engine/Checkpoint/Checkpoint.swift:
its architecture record says which network to build), builds the same network in PyTorch
(WRN-10-1 pre-activation, or the post-activation CIFAR ResNet of ../shared/bench/torch_anchor.py),
and runs training steps on one fixed batch with the model noise off (no dropout, no stochastic
depth; batch norm in training mode). The loss is the student's: mean cross-entropy of the labeled
rows against label-smoothed one-hot targets plus `--unlabeled-weight` times the mean cross-entropy
of the unlabeled rows against their targets (soft: a softmax distribution; hard: a one-hot argmax,
label-smoothed as the official code smooths hard pseudo labels). It writes, in our checkpoint
format (so the Swift tests read it with `Checkpoint.read`, no second loader), the batch, the
targets, our initial weights, the logits, the loss, every parameter's gradient and the weights
after each SGD step. Everything is computed in float64 (the reference is then exact to float32
rounding) and stored as float32.

Conventions matched explicitly (ours on the left):
  * layouts: NHWC activations, HWIO convolution weights, [in, out] dense weights;
    PyTorch NCHW, OIHW, [out, in]. Converted on the way in and on the way out.
  * batch norm: our momentum is TensorFlow's (running = m * running + (1 - m) * batch), PyTorch's
    is 1 - m; both update the running variance with the unbiased batch variance. Our networks use
    m = 0.9, eps = 1e-5 (BatchNorm's defaults, as WideResNet.swift and ResNet.swift build them).
  * SGD: g = grad + wd * w; v = mu * v + g; w -= lr * (g + mu * v) (Nesterov) - PyTorch's
    torch.optim.SGD(nesterov=True, dampening=0). Weight decay applies to convolution and dense
    weights only (our Parameter.decays): biases and batch-norm scale/offset are a separate
    parameter group with weight_decay 0.
"""
import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"NSCKPT\r\n"
VERSION = 1


# ---------------------------------------------------------------------------------------------
# Our checkpoint format (Sources/Engine/Checkpoint/Checkpoint.swift)

def read_checkpoint(path):
    """Returns (architecture, metadata, [(name, float32 array)]) after checking magic, version, CRC."""
    data = open(path, "rb").read()
    if data[:8] != MAGIC:
        sys.exit(f"{path}: not one of our checkpoints (bad magic bytes)")
    version, header_len = struct.unpack("<II", data[8:16])
    if version != VERSION:
        sys.exit(f"{path}: checkpoint format version {version}, this script reads {VERSION}")
    (stored,) = struct.unpack("<I", data[-4:])
    if zlib.crc32(data[:-4]) != stored:
        sys.exit(f"{path}: checkpoint is corrupt (CRC-32 mismatch)")
    header = json.loads(data[16:16 + header_len])
    offset, tensors = 16 + header_len, []
    for e in header["tensors"]:
        n = int(np.prod(e["shape"], dtype=np.int64))
        a = np.frombuffer(data, dtype="<f4", count=n, offset=offset).reshape(e["shape"]).copy()
        tensors.append((e["name"], a))
        offset += 4 * n
    return header["architecture"], header["metadata"], tensors


def write_checkpoint(path, architecture, metadata, tensors):
    header = {"architecture": architecture, "metadata": {k: str(v) for k, v in metadata.items()},
              "tensors": [{"name": n, "shape": list(a.shape)} for n, a in tensors]}
    js = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = MAGIC + struct.pack("<II", VERSION, len(js)) + js
    body += b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for _, a in tensors)
    body += struct.pack("<I", zlib.crc32(body))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# The networks, named as our Modules name their parameters

class BN(nn.BatchNorm2d):
    """Batch norm with our defaults (TF momentum 0.9 -> PyTorch 0.1, eps 1e-5)."""
    def __init__(self, c, tf_momentum=0.9, eps=1e-5):
        super().__init__(c, eps=eps, momentum=1 - tf_momentum)


class WRNBlock(nn.Module):
    """Pre-activation block (WideResNet.swift): BN-ReLU-conv3x3-BN-ReLU-conv3x3 + skip; the 1x1
    projection (where the shape changes) sees the pre-activated input. Stochastic depth (training
    only) drops the branch of identity-skip blocks per sample, scaling survivors by 1/survival."""
    survival = 1.0

    def __init__(self, i, o, stride):
        super().__init__()
        self.bn1 = BN(i); self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
        self.bn2 = BN(o); self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
        self.projection = None if (i == o and stride == 1) else nn.Conv2d(i, o, 1, stride, 0, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        h = F.relu(self.bn2(self.conv1(a)))
        skip = x if self.projection is None else self.projection(a)
        branch = self.conv2(h)
        if self.training and self.survival < 1 and self.projection is None:
            keep = (torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype) < self.survival).to(x.dtype) / self.survival
            branch = branch * keep
        return branch + skip


class WideResNet(nn.Module):
    def __init__(self, depth, width, classes, channels, dropout=0.0, stochastic_depth=0.0):
        super().__init__()
        n = (depth - 4) // 6
        self.dropout = dropout
        self.stem = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        blocks, c = [], 16
        for g, o in enumerate([16 * width, 32 * width, 64 * width]):
            for j in range(n):
                blocks.append(WRNBlock(c, o, 2 if (j == 0 and g > 0) else 1)); c = o
                # WideResNet.swift: survival falls linearly with the 1-based block index.
                blocks[-1].survival = 1 - stochastic_depth * len(blocks) / (3 * n)
        self.block = nn.ModuleList(blocks)
        self.finalBN = BN(c)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x):
        h = self.stem(x)
        for b in self.block:
            h = b(h)
        features = F.relu(self.finalBN(h)).mean(dim=(2, 3))
        return self.classifier(F.dropout(features, self.dropout, self.training))


class BasicBlock(nn.Module):
    """Post-activation block (ResNet.swift, torch_anchor.py)."""
    def __init__(self, i, o, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False); self.bn1 = BN(o)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); self.bn2 = BN(o)
        self.shortcut = None if (i == o and stride == 1) else nn.ModuleDict(
            {"conv": nn.Conv2d(i, o, 1, stride, 0, bias=False), "bn": BN(o)})

    def forward(self, x):
        skip = x if self.shortcut is None else self.shortcut["bn"](self.shortcut["conv"](x))
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + skip)


class ResNet(nn.Module):
    def __init__(self, depth, width, classes, channels):
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Conv2d(channels, width, 3, 1, 1, bias=False); self.stemBN = BN(width)
        blocks, c = [], width
        for s, o in enumerate([width, 2 * width, 4 * width]):
            for j in range(n):
                blocks.append(BasicBlock(c, o, 2 if (j == 0 and s > 0) else 1)); c = o
        self.block = nn.ModuleList(blocks)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x):
        h = F.relu(self.stemBN(self.stem(x)))
        for b in self.block:
            h = b(h)
        return self.classifier(h.mean(dim=(2, 3)))


def build(spec):
    """Our ModelSpec (the checkpoint's architecture JSON) -> the PyTorch network."""
    kind = spec["kind"]
    if kind == "wideResNet":
        return WideResNet(spec["depth"], spec["width"], spec["classes"], spec["inputChannels"],
                          spec.get("dropout", 0), spec.get("stochasticDepth", 0))
    if kind == "resnet":
        return ResNet(spec["depth"], spec["width"], spec["classes"], spec["inputChannels"])
    sys.exit(f"torch_reference: no PyTorch twin for model kind '{kind}' (wideResNet, resnet)")


# ---------------------------------------------------------------------------------------------
# Name and layout mapping: ours "block3.shortcut.bn.scale" <-> torch "block.3.shortcut.bn.weight"

_SUFFIX = {"scale": "weight", "offset": "bias", "runningMean": "running_mean", "runningVariance": "running_var"}


def torch_name(ours):
    parts = ours.split(".")
    if parts[0].startswith("block") and parts[0][5:].isdigit():
        parts = ["block", parts[0][5:]] + parts[1:]
    parts[-1] = _SUFFIX.get(parts[-1], parts[-1])
    return ".".join(parts)


def to_torch(a):
    """Our layout -> PyTorch's: HWIO -> OIHW, [in, out] -> [out, in]."""
    if a.ndim == 4:
        return a.transpose(3, 2, 0, 1)
    if a.ndim == 2:
        return a.T
    return a


def to_ours(a):
    if a.ndim == 4:
        return a.transpose(2, 3, 1, 0)
    if a.ndim == 2:
        return a.T
    return a


def load_ours(model, tensors, prefix="model."):
    """Copies our checkpoint's tensors into the PyTorch model; every tensor on both sides must match."""
    state = model.state_dict()
    ours = {n[len(prefix):]: a for n, a in tensors if n.startswith(prefix)}
    wanted = {k for k in state if not k.endswith("num_batches_tracked")}
    mapped = {torch_name(n): n for n in ours}
    if set(mapped) != wanted:
        sys.exit(f"torch_reference: parameter sets differ: only ours {sorted(set(mapped) - wanted)}, "
                 f"only torch {sorted(wanted - set(mapped))}")
    for t, n in mapped.items():
        a = to_torch(ours[n])
        if tuple(a.shape) != tuple(state[t].shape):
            sys.exit(f"torch_reference: {n}: our shape {ours[n].shape} does not map to torch {tuple(state[t].shape)}")
        state[t] = torch.from_numpy(np.ascontiguousarray(a)).to(state[t].dtype)
    model.load_state_dict(state)
    return list(ours)  # our names, in our order


def weights_as_ours(model, names, prefix):
    state = model.state_dict()
    return [(prefix + n, to_ours(state[torch_name(n)].detach().cpu().numpy()).astype(np.float32)) for n in names]


def make_sgd(model, ours_names, lr, momentum, weight_decay):
    named = dict(model.named_parameters())
    decay, rest = [], []
    for n in ours_names:
        t = torch_name(n)
        if t not in named:
            continue  # running statistics
        # Our Parameter.decays: convolution and dense weights ("weight") decay; biases and batch
        # norm's scale and offset do not.
        (decay if n.split(".")[-1] == "weight" else rest).append(named[t])
    return torch.optim.SGD([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
                           lr=lr, momentum=momentum, nesterov=True, dampening=0)


def student_loss(logits, labels, targets, smoothing, unlabeled_weight):
    """Mean CE on the labeled rows (label-smoothed one-hot) + weight * mean CE on the unlabeled rows."""
    nl, c = len(labels), logits.shape[1]
    onehot = F.one_hot(labels, c).to(logits.dtype)
    smoothed = (1 - smoothing) * onehot + smoothing / c
    lab = -(smoothed * F.log_softmax(logits[:nl], dim=1)).sum(1).mean()
    unl = -(targets * F.log_softmax(logits[nl:], dim=1)).sum(1).mean()
    return lab + unlabeled_weight * unl


# ---------------------------------------------------------------------------------------------

def step_command(a):
    arch, meta, tensors = read_checkpoint(a.checkpoint)
    spec = dict(json.loads(arch), dropout=0, stochasticDepth=0)  # the model noise is off
    torch.manual_seed(a.seed)
    model = build(spec).double()
    names = load_ours(model, tensors)
    model.train()
    g = torch.Generator().manual_seed(a.seed)
    n, nl, c, ch = a.labeled + a.unlabeled, a.labeled, spec["classes"], spec["inputChannels"]
    x = torch.randn(n, 32, 32, ch, generator=g, dtype=torch.float32)  # NHWC, stored as float32
    labels = torch.randint(0, c, (nl,), generator=g)
    if a.pseudo == "soft":
        targets = F.softmax(2 * torch.randn(a.unlabeled, c, generator=g, dtype=torch.float64), dim=1).float()
        pseudo = None
    else:
        pseudo = torch.randint(0, c, (a.unlabeled,), generator=g)
        targets = ((1 - a.label_smoothing) * F.one_hot(pseudo, c).double() + a.label_smoothing / c).float()
    opt = make_sgd(model, names, a.lr, a.momentum, a.weight_decay)
    xin = x.double().permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    out = [("input", x.numpy()), ("labels", labels.float().numpy()), ("targets", targets.numpy())]
    if pseudo is not None:
        out.append(("pseudoLabels", pseudo.float().numpy()))
    out += weights_as_ours(model, names, "model.")
    for s in range(a.steps):
        opt.zero_grad(set_to_none=True)
        logits = model(xin)
        loss = student_loss(logits, labels, targets.double(), a.label_smoothing, a.unlabeled_weight)
        loss.backward()
        if s == 0:
            out += [("logits", logits.detach().float().numpy()), ("loss", np.array([loss.item()], dtype=np.float32).reshape(()))]
            grads = dict(model.named_parameters())
            out += [("grad." + n, to_ours(grads[torch_name(n)].grad.numpy()).astype(np.float32))
                    for n in names if torch_name(n) in grads]
        opt.step()
        out += weights_as_ours(model, names, f"step{s + 1}.model.")
        print(f"step {s + 1}: loss {loss.item():.6f}")
    metadata = {"source": a.checkpoint.split("/")[-1], "torch": torch.__version__, "dtype": "float64",
                "labeledCount": nl, "pseudo": a.pseudo, "labelSmoothing": a.label_smoothing,
                "unlabeledWeight": a.unlabeled_weight, "learningRate": a.lr, "momentum": a.momentum,
                "weightDecay": a.weight_decay, "steps": a.steps, "seed": a.seed,
                "made": "tools/torch_reference.py step"}
    write_checkpoint(a.out, arch, metadata, out)
    print(f"wrote {a.out}: {len(out)} tensors")


def load_npy(split, name):
    return np.load(os.path.join(split, name + ".npy"))


def normalized(images, norm):
    x = torch.from_numpy(images).float() / 255
    x = (x - torch.tensor(norm["mean"])) / torch.tensor(norm["std"])
    return x.permute(0, 3, 1, 2).contiguous()


def our_init(model, g):
    """Our Initializer: He normal (std sqrt(2 / fan-in)) for convolutions, uniform +-1/sqrt(fan-in)
    for the dense weight and bias; batch norm scale 1, offset 0."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
                m.weight.normal_(0, (2 / fan_in) ** 0.5, generator=g)
            elif isinstance(m, nn.Linear):
                r = 1 / m.weight.shape[1] ** 0.5
                m.weight.uniform_(-r, r, generator=g); m.bias.uniform_(-r, r, generator=g)


def learning_rate(step, peak, warmup, total):
    """LearningRateSchedule (warm-up then cosine to 0, by step)."""
    if step < warmup:
        return peak * (step + 1) / warmup
    span = max(1, total - warmup)
    return peak * 0.5 * (1 + np.cos(np.pi * min(1, (step - warmup) / span)))


def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return 100 * correct / max(1, len(y))


def random_crop(x, g, pad=4):
    """StudentNoise's crop: reflect-pad by `pad` (tf.pad REFLECT, edge not repeated) and a crop
    at a uniform offset in 0...2 pad per image, drawn from `g` (same law as ours, other draws)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=g).tolist()
    return torch.stack([padded[i, :, oy:oy + h, ox:ox + w] for i, (oy, ox) in enumerate(offsets)])


def fit(model, t, xl, yl, g, pseudo=None, ratio=0, unlabeled_weight=1.0, crop=False):
    """Our Trainer's loop: SGD (Nesterov, decay on weights only), warm-up + cosine by step,
    epoch-wise permutations of the labeled set (last batch topped up from its start), and for a
    student `ratio` pseudo-labeled images per labeled one from passes over the pseudo set."""
    if "cosine" not in t["decay"] or t["optimizer"] != "sgd" or t.get("emaDecay") is not None:
        sys.exit(f"torch_reference: only SGD + cosine without EMA is reproduced, the recipe has {t}")
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": t["weightDecay"]}, {"params": rest, "weight_decay": 0.0}],
                          lr=t["peakLearningRate"], momentum=t["momentum"], nesterov=True, dampening=0)
    n, b = len(yl), t["batchSize"]
    spe = max(1, (n + b - 1) // b)
    total = int(np.ceil(t["epochs"] * spe))
    warmup = int(t["warmupEpochs"] * spe)
    nu = b * ratio if pseudo is not None else 0
    upos, uperm = 0, None
    model.train()
    for step in range(total):
        pos = step % spe
        if pos == 0:
            perm = torch.randperm(n, generator=g)
        idx = perm[torch.arange(pos * b, pos * b + b) % n]
        x = xl[idx]
        if nu:
            xu, tu = pseudo
            take = []
            while len(take) < nu:
                if upos % len(tu) == 0:
                    uperm = torch.randperm(len(tu), generator=g)
                take.append(uperm[upos % len(tu)].item()); upos += 1
            x = torch.cat([x, xu[take]])
        if crop:
            x = random_crop(x, g)
        lr = learning_rate(step, t["peakLearningRate"], warmup, total)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits[:b], yl[idx], label_smoothing=t["labelSmoothing"])
        if nu:
            loss = loss + unlabeled_weight * -(tu[take] * F.log_softmax(logits[b:], dim=1)).sum(1).mean()
        loss.backward()
        opt.step()
    return total


def predict(model, x, batch=500):
    model.eval()
    with torch.no_grad():
        p = torch.cat([F.softmax(model(x[i:i + batch]), dim=1) for i in range(0, len(x), batch)])
    model.train()
    return p


def filter_and_balance(probs, f, g):
    """Filtering.swift's PseudoLabelFilter (the official filter_unlabel.py rule): per predicted
    class keep confidence >= max(threshold, minimumThreshold); with target K (perClass, default
    pool / classes) the class threshold rises on the 0.01 grid to the highest value that still
    keeps K images, then each image at or above it gets floor(K/count) copies plus one more with
    probability frac(K/count), most confident first. The draws come from `g`, not from our
    generator, so the kept set matches ours in law, not image by image."""
    conf, label = probs.max(1)
    conf, label = conf.numpy(), label.numpy()
    base = max(f["threshold"], f["minimumThreshold"])
    grid = [base] + [i / 100 for i in range(101) if i / 100 > base]
    classes = probs.shape[1]
    k = f.get("perClass") or max(1, len(probs) // classes)
    rows = []
    for c in range(classes):
        members = [int(i) for i in np.nonzero((label == c) & (conf >= np.float32(base)))[0]]
        members.sort(key=lambda i: (-conf[i], i))
        if not f["balance"]:
            rows += members; continue
        if not members:
            continue
        mc = conf[members]
        t = base
        for cand in grid:
            if (mc >= np.float32(cand)).sum() >= k:
                t = cand
        chosen = [i for i in members if conf[i] >= np.float32(t)]
        ratio = k / len(chosen)
        whole = int(ratio); fraction = ratio - whole
        draws = torch.rand(len(chosen), generator=g, dtype=torch.float64).tolist()
        for i, u in zip(chosen, draws):
            rows += [i] * (whole + (1 if u < fraction else 0))
    return rows


def refuse_unreproduced_noise(noise):
    """Stops before training when a recipe's noise asks for what this script cannot reproduce."""
    if noise["randAugment"] or noise["cutout"]:
        sys.exit("torch_reference: RandAugment and Cutout are not reproduced; use a recipe without them (crop is)")


def train_command(a):
    recipe = json.load(open(os.path.join(a.split, "recipe.json")))
    norm = json.load(open(os.path.join(a.split, "normalization.json")))
    xl, yl = normalized(load_npy(a.split, "labeled-images"), norm), torch.from_numpy(load_npy(a.split, "labeled-labels")).long()
    xt, yt = normalized(load_npy(a.split, "test-images"), norm), torch.from_numpy(load_npy(a.split, "test-labels")).long()
    xv, yv = normalized(load_npy(a.split, "validation-images"), norm), torch.from_numpy(load_npy(a.split, "validation-labels")).long()
    classes = int(max(yl.max(), yt.max()) + 1)
    torch.manual_seed(a.seed)  # dropout and stochastic-depth masks
    g = torch.Generator().manual_seed(a.seed)
    import time
    start = time.time()
    spec = dict(recipe["teacher"], classes=classes, inputChannels=xl.shape[1])
    noise = recipe["teacherNoise"]
    refuse_unreproduced_noise(noise)
    spec.update(dropout=noise["dropout"], stochasticDepth=noise["stochasticDepth"])
    teacher = build(spec)
    our_init(teacher, g)
    steps = fit(teacher, recipe["teacherTraining"], xl, yl, g, crop=noise["crop"])
    result = {"split": os.path.basename(os.path.dirname(os.path.abspath(a.split))), "seed": a.seed, "teacher": f"{spec['kind']}-{spec['depth']}-{spec['width']}", "teacherSteps": steps,
              "teacherTest": evaluate(teacher, xt, yt), "teacherValidation": evaluate(teacher, xv, yv) if len(yv) else None}
    print(json.dumps(result), flush=True)
    if a.student and recipe["students"]:
        xu = normalized(load_npy(a.split, "unlabeled-images"), norm)
        yu = torch.from_numpy(load_npy(a.split, "unlabeled-labels")).long()
        probs = predict(teacher, xu)
        rows = filter_and_balance(probs, recipe["filter"], g)
        if recipe["pseudoLabelMode"] != "soft" or recipe["temperature"] != 1:
            sys.exit("torch_reference: only soft pseudo labels at temperature 1 are reproduced")
        noise = recipe["studentNoise"]
        refuse_unreproduced_noise(noise)
        sspec = dict(recipe["students"][0], classes=classes, inputChannels=xl.shape[1],
                     dropout=noise["dropout"], stochasticDepth=noise["stochasticDepth"])
        student = build(sspec)
        our_init(student, g)
        steps = fit(student, recipe["studentTraining"], xl, yl, g, pseudo=(xu[rows], probs[rows]),
                    ratio=recipe["unlabeledRatio"], unlabeled_weight=recipe["unlabeledLossWeight"], crop=noise["crop"])
        result.update(pseudoAccuracy=100 * (probs.argmax(1) == yu).float().mean().item(), kept=len(rows), studentSteps=steps,
                      studentTest=evaluate(student, xt, yt), studentValidation=evaluate(student, xv, yv) if len(yv) else None)
    result.update(seconds=round(time.time() - start, 1), torch=torch.__version__, threads=torch.get_num_threads())
    print(json.dumps(result))
    if a.out:
        with open(a.out, "a") as f:
            f.write(json.dumps(result) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("step", help="one or more SGD steps on a fixed batch; writes a test fixture")
    s.add_argument("--checkpoint", required=True, help="one of our model checkpoints (teacher.ckpt, ...)")
    s.add_argument("--out", required=True)
    s.add_argument("--pseudo", choices=["soft", "hard"], default="soft")
    s.add_argument("--labeled", type=int, default=2)
    s.add_argument("--unlabeled", type=int, default=4)
    s.add_argument("--label-smoothing", type=float, default=0.1)
    s.add_argument("--unlabeled-weight", type=float, default=2.0)
    s.add_argument("--lr", type=float, default=0.1)
    s.add_argument("--momentum", type=float, default=0.9)
    s.add_argument("--weight-decay", type=float, default=5e-4)
    s.add_argument("--steps", type=int, default=1)
    s.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train", help="train the recipe's teacher on an exported split; print test top-1")
    t.add_argument("--split", required=True, help="RUN/split from `noisy-student export-split`")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--student", action="store_true", help="also label the pool and train the first student")
    t.add_argument("--out", help="append the result as one JSON line to this file")
    a = p.parse_args()
    torch.set_num_threads(getattr(a, "threads", 1) if a.command == "train" else 1)
    {"step": step_command, "train": train_command}[a.command](a)


if __name__ == "__main__":
    main()
