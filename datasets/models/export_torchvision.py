"""Exports a torchvision image model (and a small text model) to ONNX for Strata's `embed()`.

    python3 datasets/models/export_torchvision.py image --arch resnet18 --out models/resnet18.onnx
    python3 datasets/models/export_torchvision.py image --arch mobilenet_v3_small --weights default --out m.onnx
    python3 datasets/models/export_torchvision.py text --vocab vocab.txt --out models/words.onnx
    python3 datasets/models/export_torchvision.py reference --model m.onnx.pt --images a.jpg b.png

Needs torch, torchvision and Pillow (`pip install torch torchvision pillow`, or Debian's
python3-torch python3-torchvision python3-pil); nothing else. See docs/MODELS.md.

image: the network without its classifier, so the output is the pooled feature vector
  (resnet18: 512-d, mobilenet_v3_small: 576-d). One input `image` [N, 3, 224, 224] float32
  (dynamic batch), one output `embedding` [N, D]. `--weights none` (the default) keeps the random
  initialisation seeded by `--seed` (works offline); `--weights default` loads torchvision's
  ImageNet weights (downloaded by torchvision on first use). The module itself is saved too
  (`<out>.pt`) so `reference` can run the very same weights in PyTorch.

text: a small word-level encoder: inputs `input_ids` and `attention_mask` [N, S] int64, output
  `last_hidden_state` [N, S, D] (Strata mean-pools it over the attention mask). Its vocabulary is
  one token per line in `--vocab` (written with a default word list when the file does not exist);
  id = line number. It shows the shape of a real text export; for a pretrained model see docs/MODELS.md.

reference: embeddings of image files the way torchvision evaluates (PIL loader, Resize(256),
  CenterCrop(224), ToTensor, Normalize(ImageNet mean/std)) with a model saved by `image`, as JSON
  on stdout: {"embeddings": [[...], ...]}. Used by Strata's parity test.
"""
import argparse
import json
import os
import sys

import torch
import torchvision
from torch import nn

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
DEFAULT_WORDS = "[pad] [cls] [unk] a the red green blue small big circle square triangle on left right of image with shape".split()


def image_backbone(arch: str, weights: str) -> nn.Module:
    """The torchvision model with its classifier replaced by the identity: pooled features out."""
    build = getattr(torchvision.models, arch)
    model = build(weights="DEFAULT" if weights == "default" else None)
    if arch.startswith("resnet"):
        model.fc = nn.Identity()
    elif arch.startswith("mobilenet") or arch.startswith("efficientnet"):
        model.classifier = nn.Identity()
    else:
        sys.exit(f"no rule to drop the classifier of {arch}: edit image_backbone()")
    return model.eval()


def export_image(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    model = image_backbone(args.arch, args.weights)
    x = torch.randn(2, 3, args.size, args.size)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.onnx.export(
        model,
        x,
        args.out,
        input_names=["image"],
        output_names=["embedding"],
        dynamic_axes={"image": {0: "N"}, "embedding": {0: "N"}},
        opset_version=13,
    )
    torch.save(model, args.out + ".pt")
    with torch.no_grad():
        dim = model(x).shape[1]
    print(json.dumps({"model": args.out, "arch": args.arch, "weights": args.weights, "dim": dim}))


class WordEncoder(nn.Module):
    """Token embeddings, a position-wise MLP, the attention mask applied: [N, S] ids → [N, S, D]."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, dim))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.mlp(self.embed(input_ids))
        return h * attention_mask.unsqueeze(-1).to(h.dtype)


def export_text(args: argparse.Namespace) -> None:
    if not os.path.exists(args.vocab):
        with open(args.vocab, "w") as f:
            f.write("\n".join(DEFAULT_WORDS) + "\n")
    with open(args.vocab) as f:
        vocab = [line.rstrip("\n") for line in f if line.strip()]
    torch.manual_seed(args.seed)
    model = WordEncoder(len(vocab), args.dim).eval()
    ids = torch.tensor([[1, 5, 10], [1, 7, 0]], dtype=torch.int64)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.int64)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.onnx.export(
        model,
        (ids, mask),
        args.out,
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": {0: "N", 1: "S"},
            "attention_mask": {0: "N", 1: "S"},
            "last_hidden_state": {0: "N", 1: "S"},
        },
        opset_version=13,
    )
    torch.save(model, args.out + ".pt")
    print(json.dumps({"model": args.out, "vocab": args.vocab, "tokens": len(vocab), "dim": args.dim}))


def reference(args: argparse.Namespace) -> None:
    from PIL import Image
    from torchvision import transforms

    model = torch.load(args.model).eval()
    tf = transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    xs = []
    for path in args.images:
        with Image.open(path) as im:  # torchvision's default loader: PIL, converted to RGB
            xs.append(tf(im.convert("RGB")))
    with torch.no_grad():
        y = model(torch.stack(xs))
    json.dump({"embeddings": y.tolist()}, sys.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    img = sub.add_parser("image", help="export a torchvision image model")
    img.add_argument("--arch", default="resnet18", help="torchvision.models name (resnet*, mobilenet_*, efficientnet_*)")
    img.add_argument("--weights", choices=["none", "default"], default="none")
    img.add_argument("--size", type=int, default=224)
    img.add_argument("--seed", type=int, default=0)
    img.add_argument("--out", required=True)
    txt = sub.add_parser("text", help="export a small word-level text encoder")
    txt.add_argument("--vocab", required=True)
    txt.add_argument("--dim", type=int, default=64)
    txt.add_argument("--seed", type=int, default=0)
    txt.add_argument("--out", required=True)
    ref = sub.add_parser("reference", help="PyTorch embeddings of image files (torchvision eval transforms)")
    ref.add_argument("--model", required=True, help="the .pt written next to an exported .onnx")
    ref.add_argument("--images", nargs="+", required=True)
    args = p.parse_args()
    {"image": export_image, "text": export_text, "reference": reference}[args.cmd](args)


if __name__ == "__main__":
    main()
