"""Autoencoders as image codecs: rate against distortion on the 1,000 MNIST test images, beside
JPEG and PNG (`make compression`, docs/RESULTS.md "Compression"). Needs numpy and Pillow only.

Each autoencoder is trained on the 4,000 training images; a quantiser of 4 to 8 bits per code
value (per-dimension scale and zero point, and a histogram for the range coder) is fitted on
their codes; the 1,000 test images are compressed into one .aec container and decompressed.
Rate is the container's size in bits (header and checksum included) over the 784,000 pixels;
distortion the PSNR of all pixels in [0, 1]. JPEG (Pillow, greyscale, optimised Huffman tables,
qualities 5 to 95, and 1 to 3 to reach down to the autoencoders' PSNR) and PNG (lossless) are measured on the same images two ways: one file per
image (each pays its headers: what storing 1,000 digit files costs) and one mosaic of all 1,000
(headers paid once, like the single .aec). Ratios are against 8-bit raw pixels (784 bytes per
image = 100%). About 3 to 4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from evidence import ROOT, ae, flat, mnist, psnr
from picture import _font, _text_size, labelled_grid

BITS = (4, 5, 6, 8)
QUALITIES = (1, 2, 3, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95)
PIXELS = 784


def dense_spec(code: int) -> dict:
    return {"input_size": PIXELS, "seed": 1,
            "encoder": [{"type": "dense", "units": 256, "activation": "relu"}, {"type": "dense", "units": code}],
            "decoder": [{"type": "dense", "units": 256, "activation": "relu"},
                        {"type": "dense", "units": PIXELS, "activation": "sigmoid"}],
            "loss": "bce", "optimizer": {"type": "adam", "lr": 0.002}}


def conv_spec(code: int) -> dict:
    return {"input_shape": [1, 28, 28], "seed": 1,
            "encoder": [{"type": "conv2d", "filters": 16, "kernel": 3, "stride": 2, "padding": 1, "activation": "relu"},
                        {"type": "conv2d", "filters": 32, "kernel": 3, "stride": 2, "padding": 1, "activation": "relu"},
                        {"type": "flatten"}, {"type": "dense", "units": code}],
            "decoder": [{"type": "dense", "units": 32 * 7 * 7, "activation": "relu"},
                        {"type": "reshape", "shape": [32, 7, 7]},
                        {"type": "conv_transpose2d", "filters": 16, "kernel": 4, "stride": 2, "padding": 1,
                         "activation": "relu"},
                        {"type": "conv_transpose2d", "filters": 1, "kernel": 4, "stride": 2, "padding": 1,
                         "activation": "sigmoid"}],
            "loss": "bce", "optimizer": {"type": "adam", "lr": 0.002}}


MODELS = [  # name, spec, epochs
    ("dense, code 8", dense_spec(8), 25),
    ("dense, code 16", dense_spec(16), 25),
    ("dense, code 32", dense_spec(32), 25),
    ("dense, code 64", dense_spec(64), 25),
    ("conv, code 32", conv_spec(32), 10),
]


def bpp(byte_count: int, images: int) -> float:
    return 8.0 * byte_count / (images * PIXELS)


# ---- the classical codecs -------------------------------------------------------------------------

def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.round(images.reshape(-1, 28, 28) * 255).astype(np.uint8)


def mosaic(pixels: np.ndarray, columns: int = 40) -> np.ndarray:
    rows = len(pixels) // columns
    return pixels[: rows * columns].reshape(rows, columns, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, columns * 28)


def unmosaic(picture: np.ndarray, columns: int = 40) -> np.ndarray:
    rows = picture.shape[0] // 28
    return picture.reshape(rows, 28, columns, 28).transpose(0, 2, 1, 3).reshape(-1, 28, 28)


def encode_pil(pixels: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, **options)
    return buffer.getvalue()


def decode_pil(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def jpeg_curves(test: np.ndarray) -> dict:
    """{"per image": [(quality, bpp, psnr)], "mosaic": [...]} for JPEG, and PNG's bpp both ways."""
    pixels = to_uint8(test)
    curves = {"per image": [], "mosaic": []}
    for quality in QUALITIES:
        files = [encode_pil(p, format="JPEG", quality=quality, optimize=True) for p in pixels]
        decoded = np.stack([decode_pil(f) for f in files]).astype(np.float32) / 255
        curves["per image"].append((quality, bpp(sum(map(len, files)), len(test)), psnr(decoded, test)))
        whole = encode_pil(mosaic(pixels), format="JPEG", quality=quality, optimize=True)
        decoded = unmosaic(decode_pil(whole)).astype(np.float32) / 255
        curves["mosaic"].append((quality, bpp(len(whole), len(test)), psnr(decoded, test)))
    png_files = [encode_pil(p, format="PNG", optimize=True) for p in pixels]
    png_whole = encode_pil(mosaic(pixels), format="PNG", optimize=True)
    assert np.array_equal(unmosaic(decode_pil(png_whole)), pixels), "PNG is lossless"
    curves["png per image"] = bpp(sum(map(len, png_files)), len(test))
    curves["png mosaic"] = bpp(len(png_whole), len(test))
    return curves


def jpeg_rate_at(curve, target_psnr: float):
    """JPEG's bpp at `target_psnr`, interpolated along its curve; None outside the curve."""
    points = sorted((p, b) for _, b, p in curve)
    if not points[0][0] <= target_psnr <= points[-1][0]:
        return None
    return float(np.interp(target_psnr, [p for p, _ in points], [b for _, b in points]))


# ---- the autoencoders ----------------------------------------------------------------------------

def autoencoder_points(train: np.ndarray, test: np.ndarray, out: Path):
    """[(name, code size, float psnr, [(bits, bpp, psnr, seconds)])] and a few decompressed images."""
    results, samples = [], {}
    for name, spec, epochs in MODELS:
        start = time.perf_counter()
        model = ae.Autoencoder.from_spec(spec, epochs=epochs, batch_size=64, verbose=0).fit(train)
        trained = time.perf_counter() - start
        float_psnr = psnr(model.reconstruct(test), test)
        points = []
        for bits in BITS:
            model.fit_quantizer(train, bits=bits)
            path = out / f"{name.replace(', ', '_').replace(' ', '')}_{bits}bit.aec"
            began = time.perf_counter()
            data = model.compress(test, path=path)
            decoded = flat(model.decompress(path))
            seconds = time.perf_counter() - began
            points.append((bits, bpp(len(data), len(test)), psnr(decoded, test), seconds))
            samples[(name, bits)] = decoded
        code = spec["encoder"][-1]["units"]
        print(f"  {name:15s} trained {epochs} epochs in {trained:4.0f} s; float code: {float_psnr:5.2f} dB; "
              + "; ".join(f"{b} bits {r:.3f} bpp {p:5.2f} dB" for b, r, p, _ in points))
        results.append((name, code, float_psnr, points))
    return results, samples


# ---- the plot ------------------------------------------------------------------------------------

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


def plot(results, curves, path: Path, width: int = 820, height: int = 520) -> None:
    """PSNR (dB) against bits per pixel: one line per autoencoder through its bit depths, the two
    JPEG curves, and PNG's lossless rates as vertical lines."""
    left, right, top, bottom = 60, 250, 30, 50
    x_min, x_max = 0.02, 8.0           # log scale
    y_min, y_max = 12.0, 48.0
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    font = _font(12)

    def xy(rate, db):
        fraction = (np.log(min(max(rate, x_min), x_max)) - np.log(x_min)) / (np.log(x_max) - np.log(x_min))
        x = left + (width - left - right) * fraction
        y = height - bottom - (height - top - bottom) * (min(max(db, y_min), y_max) - y_min) / (y_max - y_min)
        return x, y

    for tick in (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 4, 8):
        x, _ = xy(tick, y_min)
        draw.line([(x, top), (x, height - bottom)], fill=(235, 235, 235))
        label = f"{tick:g}"
        draw.text((x - _text_size(draw, label, font)[0] / 2, height - bottom + 6), label, fill="black", font=font)
    for tick in range(int(y_min), int(y_max) + 1, 4):
        _, y = xy(0, tick)
        draw.line([(left, y), (width - right, y)], fill=(235, 235, 235))
        draw.text((left - 8 - _text_size(draw, str(tick), font)[0], y - 7), str(tick), fill="black", font=font)
    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    draw.text((left + (width - left - right) / 2 - 90, height - 22), "bits per pixel, log scale (8-bit raw = 8)", fill="black", font=font)
    draw.text((8, top - 22), "PSNR (dB), 1,000 MNIST test images", fill="black", font=font)

    legend = []
    for (name, code, _, points), colour in zip(results, COLOURS):
        line = [xy(r, p) for _, r, p, _ in points]
        draw.line(line, fill=colour, width=2)
        for (bits, _, _, _), (x, y) in zip(points, line):
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
            draw.text((x + 4, y - 14), str(bits), fill=colour, font=font)
        legend.append((f"AE {name} (bits)", colour, False))
    for key, colour, dashed in (("mosaic", (0, 0, 0), False), ("per image", (120, 120, 120), True)):
        line = [xy(r, p) for _, r, p in curves[key]]
        for a, b, i in zip(line, line[1:], range(len(line))):
            if not dashed or i % 2 == 0:
                draw.line([a, b], fill=colour, width=2)
        for (quality, rate, db), (x, y) in zip(curves[key], line):
            draw.rectangle([x - 2, y - 2, x + 2, y + 2], fill=colour)
            if key == "mosaic" and quality in (1, 5, 20, 50, 95):
                draw.text((x + 4, y + 2), f"q{quality}", fill=colour, font=font)
        legend.append((f"JPEG, {key} (q1-95)", colour, dashed))
    for key, colour in (("png mosaic", (0, 128, 128)), ("png per image", (150, 200, 200))):
        x, _ = xy(curves[key], y_min)
        draw.line([(x, top), (x, height - bottom)], fill=colour, width=2)
        legend.append((f"PNG lossless, {key[4:]}: {curves[key]:.2f} bpp", colour, False))
    y = top
    for text, colour, dashed in legend:
        draw.line([(width - right + 10, y + 7), (width - right + 30, y + 7)], fill=colour, width=2)
        draw.text((width - right + 36, y), text, fill="black", font=font)
        y += 18
    picture.save(path, optimize=True)


# ---- the story -----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "out" / "compression"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"autoencoders {ae.__version__}, {ae.get_num_threads()} threads")
    train, test = mnist("train"), mnist("test")

    print("\nJPEG and PNG on the 1,000 test images")
    curves = jpeg_curves(test)
    for key in ("mosaic", "per image"):
        print(f"  JPEG {key:9s}: " + "; ".join(f"q{q} {r:.3f} bpp {p:5.2f} dB" for q, r, p in curves[key]))
    print(f"  PNG lossless: {curves['png mosaic']:.3f} bpp as one mosaic, {curves['png per image']:.3f} bpp as 1,000 files")

    print("\nautoencoders (trained on the 4,000 training images)")
    results, samples = autoencoder_points(train, test, out)

    print("\nat matched PSNR: sizes against 8-bit raw pixels (100%)")
    header = f"  {'codec':24s} {'PSNR':>6s} {'bpp':>6s} {'AE':>7s} {'JPEG mosaic':>12s} {'JPEG files':>11s} {'PNG mosaic':>11s}"
    print(header)
    rows = []
    for name, _, _, points in results:
        for bits, rate, db, _ in points:
            jm, jf = jpeg_rate_at(curves["mosaic"], db), jpeg_rate_at(curves["per image"], db)
            fmt = lambda r: "n/a" if r is None else f"{100 * r / 8:.1f}%"
            rows.append((f"{name}, {bits} bits", db, rate, jm, jf))
            print(f"  {name + ', ' + str(bits) + ' bits':24s} {db:6.2f} {rate:6.3f} {100 * rate / 8:6.2f}% {fmt(jm):>12s} "
                  f"{fmt(jf):>11s} {100 * curves['png mosaic'] / 8:10.1f}%")
    wins = sum(1 for _, _, r, jm, _ in rows if jm is not None and r < jm)
    comparable = sum(1 for _, _, _, jm, _ in rows if jm is not None)
    print(f"  the autoencoder is smaller than the JPEG mosaic of equal PSNR at {wins} of {comparable} comparable points;"
          f" {len(rows) - comparable} points lie outside JPEG's q1-q95 PSNR range")

    plot(results, curves, out / "compression_rate_distortion.png")
    # A few test digits: the originals, decompressed autoencoder codes, and JPEG near the same rate.
    pick = np.arange(0, 1000, 100)[:10]
    pixels = to_uint8(test[pick])
    mosaic_rates = {q: r for q, r, _ in curves["mosaic"]}
    best = max(results, key=lambda r: r[3][-1][2])
    name = best[0]
    rows_, labels = [list(test[pick])], ["original"]
    for bits in (4, 8):
        rate = dict((b, r) for b, r, _, _ in best[3])[bits]
        rows_.append(list(samples[(name, bits)][pick]))
        labels.append(f"AE {bits} bits, {rate:.2f} bpp")
    for quality in (5, 20):
        decoded = [decode_pil(encode_pil(p, format="JPEG", quality=quality, optimize=True)) / 255.0 for p in pixels]
        rows_.append(decoded)
        labels.append(f"JPEG q{quality}, {mosaic_rates[quality]:.2f} bpp")
    labelled_grid(rows_, out / "compression_samples.png", row_labels=labels, title=f"AE: {name}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s; pictures and .aec files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
