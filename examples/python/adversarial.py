"""Evidence for adversarial autoencoders (docs/RESULTS.md, "Adversarial autoencoders"): `make adversarial`.

On the MNIST split in data/ (4,000 training and 1,000 test images), three autoencoders with the same
dense encoder and decoder (784-256-256-2-256-256-784, BCE) and a 2-D code, 50 epochs each:

  supervised AAE    a 10-component mixture prior on a circle, each image's digit picking its
                    component (Makhzani et al. 2015, §2.3: the discriminator also reads the label)
  unsupervised AAE  the same mixture, components drawn at random
  VAE               the same network with a variational code and the prior N(0, I)

For each: the test codes beside samples of the model's prior (aae_codes.png), samples decoded from
the prior (aae_samples.png), and how close the aggregated posterior (the test codes) is to the
prior: a kernel two-sample test (MMD with a Gaussian kernel, median bandwidth, permutation p-value)
and, for the AAEs, the discriminator's accuracy at the end (0.5: it cannot tell them apart).
Needs numpy and Pillow only; about 2 to 3 minutes on 2 cores.
"""

from __future__ import annotations

import copy
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

from evidence import ROOT, ae, flat, grid, main, mnist, mnist_labels
from picture import _font

EPOCHS = 50
BATCH = 100
NETWORK = {
    "input_size": 784,
    "encoder": [{"type": "dense", "units": 256, "activation": "relu"},
                {"type": "dense", "units": 256, "activation": "relu"},
                {"type": "dense", "units": 2}],
    "decoder": [{"type": "dense", "units": 256, "activation": "relu"},
                {"type": "dense", "units": 256, "activation": "relu"},
                {"type": "dense", "units": 784, "activation": "sigmoid"}],
    "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "seed": 1}
MIXTURE = {"type": "mixture", "components": 10, "radius": 4, "std": 0.5}


def aae_spec(supervised: bool) -> dict:
    """The network with a discriminator [64, 64] and the mixture prior. Unsupervised: all three
    phases with Adam at 1e-3 (β₁ 0.5 for the two regularization phases: the spec's defaults).
    Supervised: reconstruction 5e-4, discriminator 2e-4, generator 2e-3, which separated the
    components best in a few short trials (docs/RESULTS.md); with 2e-4 for both regularization
    phases the discriminator wins and the code is not shaped at all."""
    rates = (5e-4, 2e-4, 2e-3) if supervised else (1e-3, 1e-3, 1e-3)
    spec = copy.deepcopy(NETWORK)
    spec["optimizer"] = {"type": "adam", "lr": rates[0]}
    spec["adversarial"] = {"discriminator": {"hidden": [64, 64], "activation": "relu"},
                           "prior": dict(MIXTURE, supervised=supervised),
                           "discriminator_optimizer": {"type": "adam", "lr": rates[1], "betas": [0.5, 0.999]},
                           "generator_optimizer": {"type": "adam", "lr": rates[2], "betas": [0.5, 0.999]}}
    return spec


def vae_spec() -> dict:
    spec = copy.deepcopy(NETWORK)
    spec["encoder"][-1] = {"type": "variational", "units": 2}
    return spec


# ---- the two-sample test ------------------------------------------------------------------------

def mmd_test(a: np.ndarray, b: np.ndarray, permutations: int = 500, seed: int = 0):
    """MMD² (biased V-statistic) between samples a and b with a Gaussian kernel whose bandwidth is
    the median distance of the pooled sample, and its permutation p-value."""
    pooled = np.concatenate([a, b]).astype(np.float64)
    squared = np.sum((pooled[:, None, :] - pooled[None, :, :]) ** 2, axis=-1)
    bandwidth = np.median(squared[np.triu_indices(len(pooled), 1)])
    kernel = np.exp(-squared / bandwidth)
    def statistic(first: np.ndarray) -> float:
        weights = np.where(first, 1.0 / first.sum(), -1.0 / (~first).sum())
        return float(weights @ kernel @ weights)
    first = np.arange(len(pooled)) < len(a)
    observed = statistic(first)
    rng = np.random.default_rng(seed)
    exceed = sum(statistic(rng.permutation(first)) >= observed for _ in range(permutations))
    return observed, (exceed + 1) / (permutations + 1)


# ---- pictures -----------------------------------------------------------------------------------

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def scatter_panels(panels, path, size=230):
    """Panels side by side: (title, points (n, 2), colour index per point or None, half-width)."""
    font = _font(13)
    picture = Image.new("RGB", (len(panels) * (size + 10) + 10, size + 34), "white")
    draw = ImageDraw.Draw(picture)
    for p, (title, points, colours, half) in enumerate(panels):
        left, top = 10 + p * (size + 10), 26
        draw.text((left, 6), title, fill="black", font=font)
        draw.rectangle([left, top, left + size, top + size], outline=(180, 180, 180))
        centre = left + size / 2, top + size / 2
        draw.line([left, centre[1], left + size, centre[1]], fill=(225, 225, 225))
        draw.line([centre[0], top, centre[0], top + size], fill=(225, 225, 225))
        for i, (x, y) in enumerate(points):
            u, v = centre[0] + x / half * size / 2, centre[1] - y / half * size / 2
            if left <= u <= left + size and top <= v <= top + size:
                colour = PALETTE[int(colours[i]) % 10] if colours is not None else (60, 60, 60)
                draw.rectangle([u - 1, v - 1, u + 1, v + 1], fill=colour)
    picture.save(path, optimize=True)


# ---- the experiment -----------------------------------------------------------------------------

def experiment(report, out):
    X, y = mnist("train"), mnist_labels("train").astype(np.int64)
    T, t = mnist("test"), mnist_labels("test").astype(np.int64)
    models = {}
    for name, spec, labels in [("supervised AAE", aae_spec(True), y), ("unsupervised AAE", aae_spec(False), None),
                               ("VAE", vae_spec(), None)]:
        start = time.perf_counter()
        model = ae.Model.from_spec(spec, epochs=EPOCHS, batch_size=BATCH, verbose=0)
        model.fit(X) if labels is None else model.fit(X, labels)
        models[name] = model
        h = model.history_
        terms = f"reconstruction {h['reconstruction_loss'][-1]:.1f}"
        if "discriminator_loss" in h:
            terms += f", discriminator {h['discriminator_loss'][-1]:.3f}, generator {h['generator_loss'][-1]:.3f}"
        else:
            terms += f", KL {h['kl_divergence'][-1]:.2f}"
        print(f"  {name}: {EPOCHS} epochs in {time.perf_counter() - start:.1f} s; last epoch: {terms}", flush=True)

    panels, results = [], {}
    for name, model in models.items():
        codes = model.encode(T)
        if isinstance(model, ae.AdversarialAutoencoder):
            prior = model.sample_prior(len(T), y=t if model.supervised else None, seed=1)
            accuracy = model.discriminator_accuracy(T, t if model.supervised else None, seed=2)
            aggregated = codes
        else:
            prior = np.random.default_rng(1).standard_normal((len(T), 2)).astype(np.float32)
            accuracy = None
            aggregated = model.sample_codes(T, seed=3)   # z ~ q(z|x): the VAE's aggregated posterior
        mmd, p = mmd_test(aggregated, prior)
        results[name] = (mmd, p, accuracy)
        half = 7.5 if isinstance(model, ae.AdversarialAutoencoder) else 4.0
        panels.append((f"{name}: test codes", codes, t, half))
        print(f"  {name}: MMD² {mmd:.4f} (p = {p:.3f})" + ("" if accuracy is None else f", discriminator accuracy {accuracy:.3f}"))
        if name == "supervised AAE":
            # Which component each test code is nearest to, against its digit.
            angles = 2 * np.pi * np.arange(10) / 10
            means = 4 * np.stack([np.cos(angles), np.sin(angles)], 1)
            nearest = np.argmin(((codes[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
            results["component accuracy"] = float(np.mean(nearest == t))
    mixture = models["supervised AAE"].sample_prior(len(T), y=t, seed=1)
    panels.insert(2, ("mixture prior (by component)", mixture, t, 7.5))
    panels.append(("prior N(0, I) of the VAE", np.random.default_rng(1).standard_normal((len(T), 2)), None, 4.0))
    scatter_panels(panels, out / "aae_codes.png")

    supervised, unsupervised = models["supervised AAE"], models["unsupervised AAE"]
    rows = [flat(supervised.generate(10, y=np.full(10, d), seed=d)) for d in range(10)]
    grid(rows, out / "aae_samples.png", scale=2, row_labels=[str(d) for d in range(10)],
         title="supervised AAE: 10 samples of each component, decoded")
    free = flat(unsupervised.generate(60, seed=5))
    vae = flat(models["VAE"].generate(60, seed=5))
    grid([free[r * 10:(r + 1) * 10] for r in range(6)] + [vae[r * 10:(r + 1) * 10] for r in range(6)],
         out / "aae_samples_unsupervised.png", scale=2,
         row_labels=["AAE"] * 6 + ["VAE"] * 6, title="decoded prior samples: unsupervised AAE (mixture), VAE (N(0, I))")

    s, u, v = results["supervised AAE"], results["unsupervised AAE"], results["VAE"]
    report.add("adversarial", "supervised AAE: MMD² codes vs prior", f"{s[0]:.4f} p {s[1]:.3f}", "below the VAE's", s[0] < v[0])
    report.add("adversarial", "unsupervised AAE: MMD² codes vs prior", f"{u[0]:.4f} p {u[1]:.3f}", "below the VAE's", u[0] < v[0])
    report.add("adversarial", "VAE: MMD² sampled codes vs N(0, I)", f"{v[0]:.4f} p {v[1]:.3f}", "(reference)", True)
    report.add("adversarial", "discriminator accuracy at the end (sup.)", f"{s[2]:.3f}", "<= 0.75 (0.5: fooled)", s[2] <= 0.75)
    report.add("adversarial", "discriminator accuracy at the end (unsup.)", f"{u[2]:.3f}", "<= 0.75 (0.5: fooled)", u[2] <= 0.75)
    report.add("adversarial", "supervised: test code nearest its digit's mode", f"{results['component accuracy']:.3f}",
               ">= 0.8", results["component accuracy"] >= 0.8)


if __name__ == "__main__":
    sys.exit(main(__doc__, {"adversarial": experiment}, ROOT / "build" / "adversarial"))
