"""A reduced copy of a figure for the README: scaled to a width and quantised to a palette, so the repository
stays small.

    python scripts/readme_image.py examples/out/06_bring_your_own_model/byom.png docs/img/byom.png [--width 760]
"""
import argparse
from pathlib import Path

from PIL import Image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--width", type=int, default=760)
    ap.add_argument("--colours", type=int, default=64)
    args = ap.parse_args()
    image = Image.open(args.source).convert("RGB")
    height = round(image.height * args.width / image.width)
    small = image.resize((args.width, height), Image.LANCZOS).quantize(args.colours)
    tmp = args.out.with_name(args.out.name + ".tmp.png")
    small.save(tmp, optimize=True)
    tmp.replace(args.out)  # atomic: a half-written image never replaces the old one
    print(f"{args.out}: {args.width} x {height} px, {args.colours} colours, {args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
