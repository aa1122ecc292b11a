"""Specs of the classic sequence autoencoders (docs/SPEC.md, "Sequence layers"): the recurrent
autoencoder of signals and the character-level text autoencoder.

Both are encoder → last state (the code) → ``repeat`` over T steps → decoder → per-step dense:

    sequence_spec(50, 32, hidden=64)
        lstm(32→64, last) → repeat 50 → lstm(64) → dense 64→32 at every step, MSE
    text_spec(vocabulary, max_length=12)
        embedding → gru(last) → repeat 13 → gru (starting from the code) → V logits at every
        step, trained with the per-step cross-entropy
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Union

from ._params import JSON_INT_MAX, WIDTH_MAX, integer
from ._spec import Activation, _layer
from ._vocabulary import CharacterVocabulary

__all__ = ["sequence_spec", "text_spec"]

#: The recurrent cells a builder takes.
CELLS = ("lstm", "gru")


def _cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell is {cell!r}; expected 'lstm' or 'gru'")
    return cell


def _recurrent(cell: str, units: int, layers: int, returns: str, dropout: float) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"type": cell, "units": units, "return": returns}
    if layers > 1:
        entry["layers"] = layers
        if dropout:
            entry["dropout"] = float(dropout)
    return entry


def _optimizer(optimizer: Union[str, Mapping[str, Any]], lr: Optional[float],
               clip_grad_norm: Optional[float]) -> Dict[str, Any]:
    if isinstance(optimizer, str):
        spec: Dict[str, Any] = {"type": optimizer}
    elif isinstance(optimizer, Mapping):
        spec = dict(optimizer)
    else:
        raise TypeError(f"optimizer is {optimizer!r}; expected a name such as 'adam' or a dict")
    if lr is not None:
        spec["lr"] = float(lr)
    if clip_grad_norm is not None:
        spec["clip_grad_norm"] = float(clip_grad_norm)
    return spec


def _core(cell: str, steps: int, hidden: int, code_size: Optional[int], layers: int,
          dropout: float, code_activation: Activation, initial_state: bool) -> Dict[str, Any]:
    """The recurrent encoder (ending in the code) and the decoder up to its per-step dense.
    With ``initial_state`` the decoder's recurrent layer also starts from the code (h_0 = code,
    which must then hold ``layers * hidden`` values)."""
    encoder = [_recurrent(cell, hidden, layers, "last", dropout)]
    if code_size is not None:
        encoder.append(_layer(integer(code_size, "code_size", 1, WIDTH_MAX), code_activation))
    decoder = [{"type": "repeat", "steps": steps},
               _recurrent(cell, hidden, layers, "sequence", dropout)]
    if initial_state:
        width = hidden if code_size is None else code_size
        if width != layers * hidden:
            raise ValueError(f"initial_state starts the decoder from the code, so the code must "
                             f"have layers * hidden = {layers * hidden} values; it has {width}")
        encoder[-1]["name"] = "code"
        decoder[1]["initial_state"] = "code"
    return {"encoder": encoder, "decoder": decoder}


def sequence_spec(steps: int, features: int, hidden: int = 64, *, cell: str = "lstm",
                  code_size: Optional[int] = None, layers: int = 1, dropout: float = 0.0,
                  code_activation: Activation = None, output_activation: Activation = None,
                  initial_state: bool = False, loss: Union[str, Mapping[str, Any]] = "mse",
                  optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
                  clip_grad_norm: Optional[float] = 1.0, seed: int = 0) -> Dict[str, Any]:
    """The spec of the classic recurrent autoencoder of ``[steps, features]`` sequences:
    encoder ``cell`` (``"lstm"`` or ``"gru"``, ``hidden`` units, ``layers`` stacked) returning
    its last state → an optional dense code of ``code_size`` → ``repeat`` over the steps →
    decoder ``cell`` → a dense layer of ``features`` units at every step (``output_activation``).
    The code is the last state (``hidden`` values) unless ``code_size`` is given; with
    ``initial_state=True`` the decoder also starts from it (seq2seq; the code must then hold
    ``layers * hidden`` values). Gradients are clipped to a global norm of ``clip_grad_norm``
    (None: no clipping).

    Example: ``sequence_spec(50, 32, hidden=64)`` is W6 of the benchmark."""
    steps = integer(steps, "steps", 1, WIDTH_MAX)
    features = integer(features, "features", 1, WIDTH_MAX)
    hidden = integer(hidden, "hidden", 1, WIDTH_MAX)
    layers = integer(layers, "layers", 1, 64)
    spec: Dict[str, Any] = {"input_shape": [steps, features]}
    spec.update(_core(_cell(cell), steps, hidden, code_size, layers, dropout, code_activation,
                      bool(initial_state)))
    output: Dict[str, Any] = {"type": "time_distributed_dense", "units": features}
    if output_activation is not None and output_activation not in ("linear", "identity"):
        output["activation"] = output_activation if isinstance(output_activation, str) \
            else dict(output_activation)
    spec["decoder"].append(output)
    spec["loss"] = loss if isinstance(loss, str) else dict(loss)
    spec["optimizer"] = _optimizer(optimizer, lr, clip_grad_norm)
    spec["seed"] = integer(seed, "seed", 0, JSON_INT_MAX)
    return spec


def text_spec(vocabulary: Union[CharacterVocabulary, int], max_length: int, *,
              embedding_size: int = 16, hidden: int = 64, cell: str = "gru",
              code_size: Optional[int] = None, layers: int = 1, dropout: float = 0.0,
              code_activation: Activation = None, initial_state: bool = True,
              optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = 0.005,
              clip_grad_norm: Optional[float] = 1.0, seed: int = 0) -> Dict[str, Any]:
    """The spec of a character-level sequence-to-sequence text autoencoder for strings of at most
    ``max_length`` characters: T = ``max_length + 1`` steps (one holds the end mark, see
    :class:`CharacterVocabulary`), an ``embedding`` of ``embedding_size`` per token (padding id
    0, which gets no gradient) → encoder ``cell`` returning its last state (the code, or a dense
    code of ``code_size``) → ``repeat`` → decoder ``cell`` → a logit per vocabulary entry at
    every step, trained with the per-step softmax cross-entropy (``sequence_cross_entropy``)
    that ignores padding. The decoder also starts from the code (``initial_state``, default
    True: a seq2seq decoder; it learns words much faster than from the repeated code alone);
    ``initial_state=False`` gives the plain repeat-only decoder.

    ``vocabulary`` is a fitted :class:`CharacterVocabulary` or the number of token ids V."""
    size = vocabulary.size if isinstance(vocabulary, CharacterVocabulary) else \
        integer(vocabulary, "vocabulary", CharacterVocabulary.RESERVED + 1, WIDTH_MAX)
    if isinstance(vocabulary, CharacterVocabulary) and not vocabulary.characters:
        raise ValueError("vocabulary has no characters: fit it on strings first "
                         "(CharacterVocabulary().fit(words))")
    steps = integer(max_length, "max_length", 1, WIDTH_MAX - 1) + 1
    padding = CharacterVocabulary.PADDING
    spec: Dict[str, Any] = {"input_shape": [steps]}
    core = _core(_cell(cell), steps, integer(hidden, "hidden", 1, WIDTH_MAX), code_size,
                 integer(layers, "layers", 1, 64), dropout, code_activation, bool(initial_state))
    embedding = {"type": "embedding", "vocabulary": size,
                 "units": integer(embedding_size, "embedding_size", 1, WIDTH_MAX),
                 "padding_id": padding}
    spec["encoder"] = [embedding] + core["encoder"]
    spec["decoder"] = core["decoder"] + [{"type": "time_distributed_dense", "units": size}]
    spec["loss"] = {"type": "sequence_cross_entropy", "ignore_index": padding}
    spec["optimizer"] = _optimizer(optimizer, lr, clip_grad_norm)
    spec["seed"] = integer(seed, "seed", 0, JSON_INT_MAX)
    return spec
