#!/usr/bin/env python3
"""Writes Tests/AugmentTests/Fixtures/cifar-c-reference.json: what Pillow and SciPy compute for the
parts of CIFAR-10-C's corruptions (hendrycks/robustness, ImageNet-C/create_c/make_cifar_c.py) that
our Swift code re-implements, so the tests compare against the peers without needing them.

  python3 tools/make_pil_fixtures.py   (needs Pillow, NumPy and SciPy; run by hand)

It records
  * pixelate, severities 1-5: make_cifar_c's `x.resize((int(32c), int(32c)), BOX)` then
    `.resize((32, 32), BOX)`, and the same with a NEAREST upscale (the two agree: PIL's BOX filter
    at an upscale picks exactly one source pixel, the one NEAREST picks);
  * the BOX downscale alone (the small image), to locate a mismatch;
  * scipy.ndimage.zoom's output size (int(round(n * factor)), Python's round: half to even) for
    sizes and factors where rounding half up would differ, and its order-1 values;
  * the zoom factors of each severity, np.arange(1, maxZoom, 0.01) exactly (NumPy steps by
    (1 + 0.01) - 1, so 1.25 is 1.2500000000000002);
  * zoom blur (make_cifar_c's zoom_blur before the uint8 cast) of the gradient image at severities 1-5.
Images are 32x32 RGB: seeded uniform noise, a smooth gradient, and a blocky pattern.
"""
import base64
import json
import os

import numpy as np
import scipy
import scipy.ndimage
import PIL
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "AugmentTests", "Fixtures", "cifar-c-reference.json")
CS = [0.95, 0.9, 0.85, 0.75, 0.65]
ZOOMS = [np.arange(1, 1.06, 0.01), np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01),
         np.arange(1, 1.21, 0.01), np.arange(1, 1.26, 0.01)]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def images():
    rng = np.random.default_rng(20261130)
    noise = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    y, x = np.mgrid[0:32, 0:32]
    gradient = np.stack([x * 8, y * 8, (x + y) * 4], axis=2).clip(0, 255).astype(np.uint8)
    blocks = (((x // 3 + y // 5) % 2) * 200 + 30).astype(np.uint8)
    blocky = np.stack([blocks, 255 - blocks, (blocks // 2 + x * 3).clip(0, 255).astype(np.uint8)], axis=2)
    return [noise, gradient, blocky]


def clipped_zoom(img, zoom_factor):
    # make_cifar_c.py's helper, as it is there.
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = scipy.ndimage.zoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]


def zoom_blur(x, severity):
    c = ZOOMS[severity - 1]
    x = (np.array(x) / 255.).astype(np.float32)
    out = np.zeros_like(x)
    for zoom_factor in c:
        out += clipped_zoom(x, zoom_factor)
    x = (x + out) / (len(c) + 1)
    return np.clip(x, 0, 1) * 255


def main():
    imgs = images()
    fixture = {"made": "tools/make_pil_fixtures.py", "pillow": PIL.__version__, "scipy": scipy.__version__,
               "numpy": np.__version__, "images": [b64(a) for a in imgs], "pixelate": [], "zoomSizes": [],
               "zoomValues": [], "zoomBlur": [],
               "zoomFactors": [[float(f) for f in z] for z in ZOOMS]}
    for i, a in enumerate(imgs):
        pil = Image.fromarray(a)
        for s, c in enumerate(CS, start=1):
            n = int(32 * c)
            small = pil.resize((n, n), Image.BOX)
            box = np.array(small.resize((32, 32), Image.BOX))
            nearest = np.array(small.resize((32, 32), Image.NEAREST))
            assert (box == nearest).all(), "PIL's BOX upscale and NEAREST upscale differ"
            fixture["pixelate"].append({"image": i, "severity": s, "small": n,
                                        "smallPixels": b64(np.array(small)), "pixels": b64(box)})
    # Output sizes: int(round(n * f)) with Python's round (half to even) in double precision.
    for n, f in [(3, 1.5), (5, 1.5), (7, 1.5), (9, 1.5), (2, 1.25), (6, 1.25), (10, 1.25), (30, 1.05), (31, 1.03),
                 (32, 1.01), (26, 1.21), (27, 1.18)]:
        out = scipy.ndimage.zoom(np.zeros((n, n, 1), np.float32), (f, f, 1), order=1)
        fixture["zoomSizes"].append({"size": n, "factor": f, "output": out.shape[0]})
    a = (imgs[0][:7, :7].astype(np.float32) / 255)
    for f in [1.5, 1.25, 1.07]:
        z = scipy.ndimage.zoom(a, (f, f, 1), order=1)
        fixture["zoomValues"].append({"size": 7, "factor": f, "output": z.shape[0], "values": b64(z.astype("<f4"))})
    for s in range(1, 6):  # the gradient image: smooth, so every value is a real interpolation
        fixture["zoomBlur"].append({"image": 1, "severity": s, "values": b64(zoom_blur(imgs[1], s).astype("<f4"))})
    with open(OUT + ".tmp", "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
