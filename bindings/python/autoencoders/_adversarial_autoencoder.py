"""Adversarial autoencoders (Makhzani et al. 2015): an :class:`Autoencoder` whose spec has an
``"adversarial"`` section, a discriminator on the code and a prior (docs/SPEC.md). Training runs
three phases per batch (reconstruction, discriminator, generator), each with its own optimizer;
``history_`` holds the three losses per epoch.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Union

import numpy as np

from ._arrays import as_samples
from ._autoencoder import Autoencoder
from ._fit import count
from ._params import UINT64_MAX
from ._spec import Activation, SpecLike
from ._training_data import component_labels
from ._variational import require_decoder
from .model import Model, register_kind

__all__ = ["AdversarialAutoencoder"]


@register_kind("adversarial")
class AdversarialAutoencoder(Autoencoder):
    """An adversarial autoencoder: a discriminator learns to tell samples of a prior from codes,
    and the encoder learns to fool it, which shapes the distribution of the codes to the prior.

    From hyperparameters it is the dense autoencoder of :class:`Autoencoder` with::

        "adversarial": {"discriminator": {"hidden": discriminator_hidden,
                                          "activation": discriminator_activation},
                        "prior": prior,
                        "discriminator_optimizer": {"type": "adam", "lr": discriminator_lr,
                                                    "betas": [0.5, 0.999]},
                        "generator_optimizer": {"type": "adam", "lr": generator_lr,
                                                "betas": [0.5, 0.999]}}

    or, from a spec, the spec's own section.

    Args:
        prior: the prior (docs/SPEC.md): ``{"type": "gaussian", "std": 1}`` (default),
            ``{"type": "uniform", "range": [-1, 1]}`` or ``{"type": "mixture", "components":
            10, "radius": 4, "std": 0.5, "supervised": True}``.
        discriminator_hidden, discriminator_activation: the discriminator's hidden layers.
        discriminator_lr, generator_lr: learning rates of the two regularization phases.
        The other arguments are :class:`Autoencoder`'s.

    With the supervised mixture prior ``fit(X, y)`` needs ``y``, one component per sample;
    otherwise ``y`` is ignored. ``history_`` has ``reconstruction_loss``, ``discriminator_loss``
    and ``generator_loss`` per epoch.

    Example::

        aae = AdversarialAutoencoder(hidden=[256], code_size=2, output_activation="sigmoid",
                                     loss="bce", prior={"type": "mixture", "components": 10,
                                                        "supervised": True})
        aae.fit(X, digits)
        samples = aae.generate(100, y=np.repeat(np.arange(10), 10))
    """

    _MODEL_PARAMS = Autoencoder._MODEL_PARAMS + ("prior", "discriminator_hidden",
                                                 "discriminator_activation", "discriminator_lr",
                                                 "generator_lr")

    def __init__(self, *, hidden: Sequence[int] = (128,), code_size: Optional[int] = 2,
                 prior: Optional[Mapping[str, Any]] = None,
                 discriminator_hidden: Sequence[int] = (64, 64),
                 discriminator_activation: Activation = "relu",
                 discriminator_lr: float = 1e-3, generator_lr: float = 1e-3,
                 activation: Activation = "relu", output_activation: Activation = None,
                 loss: Union[str, Mapping[str, Any]] = "mse",
                 optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
                 schedule: Union[str, Mapping[str, Any], None] = None,
                 init: Optional[str] = None, seed: int = 0, spec: Optional[SpecLike] = None,
                 input_scaling: Optional[str] = None, epochs: int = 10, batch_size: int = 32,
                 shuffle: bool = True, validation_split: float = 0.0, patience: int = 0,
                 min_delta: float = 0.0, restore_best_weights: bool = True,
                 verbose: Union[int, str] = "auto", warm_start: bool = False,
                 contamination: Optional[float] = None) -> None:
        super().__init__(hidden=hidden, code_size=code_size, activation=activation,
                         output_activation=output_activation, loss=loss, optimizer=optimizer,
                         lr=lr, schedule=schedule, init=init, seed=seed, spec=spec,
                         input_scaling=input_scaling, epochs=epochs, batch_size=batch_size,
                         shuffle=shuffle, validation_split=validation_split, patience=patience,
                         min_delta=min_delta, restore_best_weights=restore_best_weights,
                         verbose=verbose, warm_start=warm_start, contamination=contamination)
        self.prior = prior
        self.discriminator_hidden = discriminator_hidden
        self.discriminator_activation = discriminator_activation
        self.discriminator_lr = discriminator_lr
        self.generator_lr = generator_lr

    def _spec_dict(self, input_size: Optional[int]) -> Dict[str, Any]:
        spec = super()._spec_dict(input_size)
        if self._spec is not None and "adversarial" in spec:
            return spec
        def adam(lr: float) -> Dict[str, Any]:
            return {"type": "adam", "lr": float(lr), "betas": [0.5, 0.999]}
        spec["adversarial"] = {
            "discriminator": {"hidden": [int(width) for width in self.discriminator_hidden],
                              "activation": self.discriminator_activation},
            "prior": dict(self.prior) if self.prior is not None else {"type": "gaussian", "std": 1.0},
            "discriminator_optimizer": adam(self.discriminator_lr),
            "generator_optimizer": adam(self.generator_lr)}
        return spec

    @classmethod
    def _kind_problem(cls, native: Any) -> Optional[str]:
        return Model._kind_problem.__func__(cls, native)  # type: ignore[attr-defined]

    # ==== The prior ================================================================================

    @property
    def is_adversarial(self) -> bool:
        """True: the model has a discriminator and a prior."""
        return self._model().is_adversarial

    @property
    def prior_components(self) -> int:
        """The mixture prior's components (0 for a Gaussian or uniform prior)."""
        return self._model().prior_components()[0]

    @property
    def supervised(self) -> bool:
        """Whether the prior is the supervised mixture (``fit`` then needs ``y``)."""
        return self._model().prior_components()[1]

    def _labels(self, y: Any, n: int) -> Optional[np.ndarray]:
        if y is None:
            return None
        if self.prior_components == 0:  # the library says which priors take labels
            return np.ascontiguousarray(np.asarray(y).reshape(-1), dtype=np.int32)
        return component_labels(self._model(), y, "y", n).reshape(n)

    def sample_prior(self, n: int, y: Any = None, seed: int = 0) -> np.ndarray:
        """``(n, code_size)`` float32 codes drawn from the prior by a generator seeded with
        ``seed`` (the model's own generator is not used). For a mixture, ``y`` (n components)
        picks each sample's component; without it they are drawn uniformly."""
        n = count(n, "n", 0)
        return self._model().sample_prior(n, count(seed, "seed", 0, UINT64_MAX), self._labels(y, n))

    def generate(self, n: int, y: Any = None, seed: int = 0) -> np.ndarray:  # type: ignore[override]
        """``n`` new samples: codes from the prior (see :meth:`sample_prior`), decoded into data
        space; float32 ``(n, *input_shape)``."""
        native = self._model()
        require_decoder(native, "generate")
        codes = self.sample_prior(n, y, seed)
        if codes.shape[0] == 0:
            return np.empty((0,) + native.input_shape, dtype=np.float32)
        return native.decode(codes).reshape((codes.shape[0],) + native.input_shape)

    def discriminator_accuracy(self, X: Any, y: Any = None, seed: int = 0) -> float:
        """The discriminator's accuracy on the codes of ``X`` (as codes) and as many prior
        samples (as prior), in inference mode: about 0.5 when it cannot tell the codes'
        distribution from the prior. ``y`` as for ``fit`` with the supervised prior."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.discriminator_accuracy(data, self._labels(y, data.shape[0]),
                                             count(seed, "seed", 0, UINT64_MAX))
