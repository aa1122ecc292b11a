"""autoencoders: Python bindings of libautoencoders, an embeddable autoencoder runtime.

Quick start::

    import numpy as np
    import autoencoders as ae

    model = ae.Autoencoder.dense(784, hidden=[512, 128], code_size=32,
                                 output_activation="sigmoid", loss="bce")
    model.fit(X, epochs=20, validation_split=0.1, callbacks=[ae.EarlyStopping(patience=3)])
    codes = model.encode(X)                  # (n, 32)
    errors = model.reconstruction_error(X)   # per-sample reconstruction error
    model.save("mnist.aem")                  # loadable from C, Swift, the CLI

One class per task, all derived from :class:`Model`: ``Autoencoder`` reconstructs (dense,
convolutional, sequence and text models), ``VariationalAutoencoder`` adds
``encode_distribution(X)``, ``sample_codes`` and ``generate(n, seed)``, and
``SegmentationNetwork`` (spec ``"loss": "cross_entropy"``) trains with ``fit(X, y)`` on integer
labels and answers ``segment(X)``. ``load(path)`` and ``from_spec(spec)`` return the class the
spec calls for. Each is a scikit-learn transformer (``check_estimator`` passes; ``score`` is one
number, ``score_samples``/``decision_function``/``predict`` follow IsolationForest,
``partial_fit``, ``set_output``) and trains with Keras's habits (``callbacks=``, ``history_``);
``Trainer`` trains step by step. Convolutional models take images ``(n, C, H, W)``.
Sequence models (``"input_shape": [T, F]`` with ``lstm``/``gru`` layers; ``Autoencoder.sequence``)
take ``(n, T, F)`` arrays with ``lengths=`` or lists of ``(t_i, F)`` arrays; text models
(``Autoencoder.text`` with a ``CharacterVocabulary``) take and give lists of strings.
The shared library is found through ``AUTOENCODERS_LIBRARY``, the copy bundled with the package,
a repository checkout's ``build/lib``, or the system loader (see ``library_path``).
"""

from ._errors import (AutoencoderError, FileError, FormatError, InternalError,
                      InvalidArgumentError, NotFittedError, NumericError, OutOfMemoryError,
                      ParameterNameError, ShapeError, SpecError, UnsupportedError)
from ._library import path as library_path
from ._library import version as _library_version
from ._sequence_spec import sequence_spec, text_spec
from ._spec import dense_spec
from ._threads import (gemm_kernel, gemm_kernel_description, get_num_threads, set_gemm_kernel,
                       set_num_threads)
from ._int8 import int8_kernel, set_int8_kernel
from .model import (AdversarialAutoencoder, Autoencoder, Model, ProgressCallback,
                    SegmentationNetwork, TrainReport, VariationalAutoencoder)
from .callbacks import Callback, CallbackError, CSVLogger, EarlyStopping, ModelCheckpoint
from ._vocabulary import CharacterVocabulary
from ._sample_source import SampleSource
from .trainer import Trainer

#: ``load(path)``: a model file as the class its spec calls for (Autoencoder,
#: VariationalAutoencoder or SegmentationNetwork); ``from_spec`` and ``from_bytes`` likewise.
load = Model.load
from_spec = Model.from_spec
from_bytes = Model.from_bytes

#: The library's version ("0.1.0"), read from it at import.
__version__: str = _library_version

__all__ = [
    "Model", "Autoencoder", "VariationalAutoencoder", "SegmentationNetwork",
    "AdversarialAutoencoder", "load",
    "from_spec", "from_bytes", "Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger",
    "CallbackError", "Trainer", "TrainReport", "SampleSource", "ProgressCallback", "dense_spec",
    "sequence_spec", "text_spec", "CharacterVocabulary",
    "set_num_threads", "get_num_threads", "gemm_kernel", "gemm_kernel_description",
    "int8_kernel", "set_int8_kernel",
    "set_gemm_kernel", "library_path", "__version__",
    "AutoencoderError", "InvalidArgumentError", "ShapeError", "SpecError", "FileError",
    "FormatError", "NumericError", "UnsupportedError", "OutOfMemoryError", "InternalError",
    "ParameterNameError", "NotFittedError",
]
