"""Loading ``libautoencoders`` and declaring the prototype of every function of its header.

The shared library is searched, in order, at:

1. the path in the environment variable ``AUTOENCODERS_LIBRARY`` (a file, or a folder holding
   ``libautoencoders.so.0``); when it is set, nothing else is tried;
2. the copy bundled inside the installed package (``autoencoders/_lib/``);
3. the repository's ``build/lib`` (``make library``), when running from a checkout;
4. the system loader (``libautoencoders.so.0`` on the default search path).

``PROTOTYPES`` mirrors ``include/autoencoders.h`` function by function; a test parses the header
and checks that both list the same functions with the same number of parameters.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int, c_int32, c_uint64,
                    c_size_t, c_void_p)
from pathlib import Path
from typing import Dict, List, Optional, Tuple

#: File name of the library (its soname).
LIBRARY_NAME = "libautoencoders.so.0"
#: The environment variable that points at a specific copy of the library.
ENVIRONMENT_VARIABLE = "AUTOENCODERS_LIBRARY"
#: The header version these bindings were written against: a library X.Z works when X matches
#: and Z >= the minor version here.
HEADER_VERSION = (0, 1)

# ---- C types ---------------------------------------------------------------------------------


class ae_model(Structure):
    """Opaque ``ae_model``."""


class ae_trainer(Structure):
    """Opaque ``ae_trainer``."""


ModelPointer = POINTER(ae_model)
TrainerPointer = POINTER(ae_trainer)
FloatPointer = POINTER(c_float)
Int32Pointer = POINTER(c_int32)
SizePointer = POINTER(c_size_t)

ae_status = c_int
ae_scaling_kind = c_int
ae_stop_reason = c_int


class ae_progress(Structure):
    """``ae_progress``: what the progress callback receives."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("epoch", c_size_t),
        ("epochs", c_size_t),
        ("batch", c_size_t),
        ("batches", c_size_t),
        ("train_loss", c_double),
        ("validation_loss", c_double),
        ("learning_rate", c_double),
        ("elapsed_seconds", c_double),
        ("is_epoch_end", c_int),
        ("reconstruction_loss", c_double),
        ("kl_divergence", c_double),
        ("discriminator_loss", c_double),
        ("generator_loss", c_double),
    ]


#: ``int (*ae_progress_fn)(const ae_progress *progress, void *user_data)``
ae_progress_fn = CFUNCTYPE(c_int, POINTER(ae_progress), c_void_p)
#: ``int (*ae_sample_source_fn)(const size_t *indices, size_t count, float *rows, size_t rows_count,
#: void *user_data)``
ae_sample_source_fn = CFUNCTYPE(c_int, POINTER(c_size_t), c_size_t, POINTER(c_float), c_size_t, c_void_p)


class ae_train_options(Structure):
    """``ae_train_options``; always filled by ``ae_train_options_init(options, sizeof)`` first."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("epochs", c_size_t),
        ("batch_size", c_size_t),
        ("shuffle", c_int),
        ("validation_split", c_float),
        ("validation_data", FloatPointer),
        ("validation_samples", c_size_t),
        ("validation_count", c_size_t),
        ("patience", c_size_t),
        ("min_delta", c_float),
        ("restore_best_weights", c_int),
        ("report_batches", c_int),
        ("progress", ae_progress_fn),
        ("user_data", c_void_p),
        ("mask", FloatPointer),
        ("mask_count", c_size_t),
        ("lengths", Int32Pointer),
        ("lengths_count", c_size_t),
        ("validation_lengths", Int32Pointer),
        ("validation_lengths_count", c_size_t),
    ]


class ae_train_report(Structure):
    """``ae_train_report``; ``struct_size`` must be set to its size before the call."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("epochs_run", c_size_t),
        ("stop_reason", ae_stop_reason),
        ("final_train_loss", c_double),
        ("final_validation_loss", c_double),
        ("best_epoch", c_size_t),
        ("best_loss", c_double),
        ("seconds", c_double),
    ]


# Status codes (enum ae_status).
AE_OK = 0
AE_ERR_INVALID_ARGUMENT = 1
AE_ERR_SHAPE = 2
AE_ERR_INVALID_SPEC = 3
AE_ERR_IO = 4
AE_ERR_FORMAT = 5
AE_ERR_NUMERIC = 6
AE_ERR_UNSUPPORTED = 7
AE_ERR_OUT_OF_MEMORY = 8
AE_ERR_INTERNAL = 9

# enum ae_scaling_kind
AE_SCALING_STANDARDIZE = 0
AE_SCALING_MINMAX = 1

# enum ae_stop_reason
AE_STOP_COMPLETED = 0
AE_STOP_EARLY_STOPPING = 1
AE_STOP_CALLBACK = 2

# ---- Prototypes: name -> (restype, argtypes), in the header's order --------------------------

PROTOTYPES: Dict[str, Tuple[object, List[object]]] = {
    # Versions
    "ae_version_string": (c_char_p, []),
    "ae_version_major": (c_int, []),
    "ae_version_minor": (c_int, []),
    "ae_version_patch": (c_int, []),
    # Errors
    "ae_status_string": (c_char_p, [ae_status]),
    "ae_last_error": (c_char_p, []),
    "ae_free": (None, [c_void_p]),
    # Threads
    "ae_set_num_threads": (ae_status, [c_int]),
    "ae_get_num_threads": (c_int, []),
    # GEMM kernels
    "ae_gemm_kernel_name": (c_char_p, []),
    "ae_gemm_kernel_description": (c_char_p, []),
    "ae_set_gemm_kernel": (ae_status, [c_char_p]),
    # Models
    "ae_model_create": (ae_status, [c_char_p, POINTER(ModelPointer)]),
    "ae_model_load": (ae_status, [c_char_p, POINTER(ModelPointer)]),
    "ae_model_load_from_memory": (ae_status, [c_void_p, c_size_t, POINTER(ModelPointer)]),
    "ae_model_save": (ae_status, [ModelPointer, c_char_p, c_int]),
    "ae_model_save_to_memory": (ae_status, [ModelPointer, c_int, POINTER(c_void_p), SizePointer]),
    "ae_model_save_signed": (ae_status, [ModelPointer, c_char_p, c_int, c_void_p, c_size_t]),
    "ae_model_save_to_memory_signed": (ae_status, [ModelPointer, c_int, c_void_p, c_size_t,
                                                   POINTER(c_void_p), SizePointer]),
    "ae_model_load_verified": (ae_status, [c_char_p, c_void_p, c_size_t, POINTER(ModelPointer)]),
    "ae_model_load_from_memory_verified": (ae_status, [c_void_p, c_size_t, c_void_p, c_size_t,
                                                       POINTER(ModelPointer)]),
    "ae_model_free": (None, [ModelPointer]),
    # Shapes and spec
    "ae_model_input_size": (ae_status, [ModelPointer, SizePointer]),
    "ae_model_code_size": (ae_status, [ModelPointer, SizePointer]),
    "ae_model_input_shape": (ae_status, [ModelPointer, SizePointer, c_size_t, SizePointer]),
    "ae_model_parameter_count": (ae_status, [ModelPointer, SizePointer]),
    "ae_model_can_decode": (ae_status, [ModelPointer, POINTER(c_int)]),
    "ae_model_class_count": (ae_status, [ModelPointer, SizePointer]),
    "ae_model_label_size": (ae_status, [ModelPointer, SizePointer]),
    "ae_model_spec": (ae_status, [ModelPointer, POINTER(c_char_p)]),
    "ae_model_epochs_completed": (ae_status, [ModelPointer, SizePointer]),
    # Parameters
    "ae_model_tensor_count": (ae_status, [ModelPointer, SizePointer]),
    "ae_model_tensor_info": (ae_status, [ModelPointer, c_size_t, POINTER(c_char_p), SizePointer,
                                         c_size_t, SizePointer, SizePointer]),
    "ae_model_get_parameter": (ae_status, [ModelPointer, c_char_p, FloatPointer, c_size_t]),
    "ae_model_set_parameter": (ae_status, [ModelPointer, c_char_p, FloatPointer, c_size_t]),
    # Input scaling
    "ae_model_set_input_scaling": (ae_status, [ModelPointer, FloatPointer, FloatPointer, c_size_t]),
    "ae_model_fit_input_scaling": (ae_status, [ModelPointer, ae_scaling_kind, FloatPointer, c_size_t,
                                               c_size_t]),
    "ae_model_get_input_scaling": (ae_status, [ModelPointer, FloatPointer, FloatPointer, c_size_t,
                                               POINTER(c_int)]),
    # Training
    "ae_train_options_init": (ae_status, [POINTER(ae_train_options), c_size_t]),
    "ae_model_train": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t,
                                   POINTER(ae_train_options), POINTER(ae_train_report)]),
    "ae_model_train_labels": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, Int32Pointer,
                                          c_size_t, POINTER(ae_train_options), POINTER(ae_train_report)]),
    "ae_model_train_source": (ae_status, [ModelPointer, c_size_t, ae_sample_source_fn, c_void_p,
                                          POINTER(ae_train_options), POINTER(ae_train_report)]),
    "ae_model_evaluate": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t,
                                      POINTER(c_double)]),
    "ae_model_evaluate_labels": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, Int32Pointer,
                                             c_size_t, POINTER(c_double)]),
    # Step-wise training
    "ae_trainer_create": (ae_status, [ModelPointer, c_size_t, POINTER(TrainerPointer)]),
    "ae_trainer_step": (ae_status, [TrainerPointer, FloatPointer, c_size_t, c_size_t,
                                    POINTER(c_double)]),
    "ae_trainer_step_masked": (ae_status, [TrainerPointer, FloatPointer, FloatPointer, c_size_t,
                                           c_size_t, POINTER(c_double)]),
    "ae_trainer_step_labels": (ae_status, [TrainerPointer, FloatPointer, Int32Pointer, c_size_t, c_size_t,
                                           c_size_t, POINTER(c_double)]),
    "ae_trainer_set_learning_rate": (ae_status, [TrainerPointer, c_double]),
    "ae_trainer_get_learning_rate": (ae_status, [TrainerPointer, POINTER(c_double)]),
    "ae_trainer_step_count": (ae_status, [TrainerPointer, SizePointer]),
    "ae_trainer_last_losses": (ae_status, [TrainerPointer, POINTER(c_double), POINTER(c_double),
                                           POINTER(c_double)]),
    "ae_trainer_free": (None, [TrainerPointer]),
    # ---- Data-parallel training (issue 12; autoencoders.distributed) ----
    "ae_model_fingerprint": (ae_status, [ModelPointer, POINTER(c_uint64)]),
    "ae_model_get_parameters": (ae_status, [ModelPointer, FloatPointer, c_size_t]),
    "ae_model_set_parameters": (ae_status, [ModelPointer, FloatPointer, c_size_t]),
    "ae_trainer_gradient_count": (ae_status, [TrainerPointer, SizePointer]),
    "ae_trainer_compute_gradients": (ae_status, [TrainerPointer, FloatPointer, c_size_t, c_size_t, c_size_t,
                                                 c_size_t, POINTER(c_double)]),
    "ae_trainer_get_gradients": (ae_status, [TrainerPointer, FloatPointer, c_size_t]),
    "ae_trainer_set_gradients": (ae_status, [TrainerPointer, FloatPointer, c_size_t]),
    "ae_trainer_apply_gradients": (ae_status, [TrainerPointer]),
    # ---- end of data-parallel training ----
    # Inference
    "ae_model_encode": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, FloatPointer,
                                    c_size_t]),
    "ae_model_decode": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, FloatPointer,
                                    c_size_t]),
    "ae_model_reconstruct": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t,
                                         FloatPointer, c_size_t]),
    "ae_model_score": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, FloatPointer,
                                   c_size_t]),
    "ae_model_inpaint": (ae_status, [ModelPointer, FloatPointer, FloatPointer, c_size_t, c_size_t,
                                     FloatPointer, c_size_t]),
    "ae_model_segment": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, Int32Pointer, c_size_t]),
    # Adversarial autoencoders
    "ae_model_is_adversarial": (ae_status, [ModelPointer, POINTER(c_int)]),
    "ae_model_prior_components": (ae_status, [ModelPointer, SizePointer, POINTER(c_int)]),
    "ae_model_sample_prior": (ae_status, [ModelPointer, c_size_t, c_uint64, Int32Pointer, c_size_t,
                                          FloatPointer, c_size_t]),
    "ae_model_discriminator_accuracy": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t,
                                                    Int32Pointer, c_size_t, c_uint64,
                                                    POINTER(c_double)]),
    # Variational autoencoders
    "ae_model_encode_distribution": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, FloatPointer,
                                                 c_size_t, FloatPointer, c_size_t]),
    "ae_model_sample_codes": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, c_uint64, FloatPointer,
                                          c_size_t]),
    "ae_model_generate": (ae_status, [ModelPointer, c_size_t, c_uint64, FloatPointer, c_size_t]),
    "ae_model_interpolate": (ae_status, [ModelPointer, FloatPointer, FloatPointer, c_size_t, FloatPointer,
                                         c_size_t]),
    # Anomaly detection
    "ae_model_fit_threshold": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, c_double,
                                           FloatPointer]),
    "ae_model_set_threshold": (ae_status, [ModelPointer, c_float]),
    "ae_model_get_threshold": (ae_status, [ModelPointer, FloatPointer, POINTER(c_int)]),
    "ae_model_predict": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, Int32Pointer,
                                     c_size_t]),
    # Compression
    "ae_model_fit_quantizer": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, c_int]),
    "ae_model_quantizer_bits": (ae_status, [ModelPointer, POINTER(c_int)]),
    "ae_model_remove_quantizer": (ae_status, [ModelPointer]),
    "ae_model_compress": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, POINTER(c_void_p),
                                      SizePointer]),
    "ae_model_compressed_info": (ae_status, [ModelPointer, c_void_p, c_size_t, SizePointer, SizePointer]),
    "ae_model_decompress": (ae_status, [ModelPointer, c_void_p, c_size_t, FloatPointer, c_size_t]),
    # int8 inference
    "ae_model_quantize_int8": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, c_int,
                                           POINTER(ModelPointer)]),
    "ae_model_quantize_int8_keeping": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t, c_int,
                                                   POINTER(c_char_p), c_size_t, POINTER(ModelPointer)]),
    "ae_model_is_int8": (ae_status, [ModelPointer, POINTER(c_int)]),
    "ae_model_int8_info": (ae_status, [ModelPointer, SizePointer, SizePointer, POINTER(c_int)]),
    "ae_int8_kernel_name": (c_char_p, []),
    "ae_set_int8_kernel": (ae_status, [c_char_p]),
    # Sequences
    "ae_model_sequence_shape": (ae_status, [ModelPointer, SizePointer, SizePointer, POINTER(c_int)]),
    "ae_model_vocabulary_size": (ae_status, [ModelPointer, SizePointer]),
    "ae_trainer_step_sequences": (ae_status, [TrainerPointer, FloatPointer, Int32Pointer, c_size_t,
                                              c_size_t, c_size_t, POINTER(c_double)]),
    "ae_model_encode_sequences": (ae_status, [ModelPointer, FloatPointer, Int32Pointer, c_size_t,
                                              c_size_t, c_size_t, FloatPointer, c_size_t]),
    "ae_model_reconstruct_sequences": (ae_status, [ModelPointer, FloatPointer, Int32Pointer,
                                                   c_size_t, c_size_t, c_size_t, FloatPointer,
                                                   c_size_t]),
    "ae_model_score_sequences": (ae_status, [ModelPointer, FloatPointer, Int32Pointer, c_size_t,
                                             c_size_t, c_size_t, FloatPointer, c_size_t]),
    "ae_model_evaluate_sequences": (ae_status, [ModelPointer, FloatPointer, Int32Pointer, c_size_t,
                                                c_size_t, c_size_t, POINTER(c_double)]),
    # Token (text) models
    "ae_model_train_tokens": (ae_status, [ModelPointer, Int32Pointer, c_size_t, c_size_t,
                                          Int32Pointer, c_size_t, POINTER(ae_train_options),
                                          POINTER(ae_train_report)]),
    "ae_trainer_step_tokens": (ae_status, [TrainerPointer, Int32Pointer, Int32Pointer, c_size_t,
                                           c_size_t, c_size_t, POINTER(c_double)]),
    "ae_model_encode_tokens": (ae_status, [ModelPointer, Int32Pointer, Int32Pointer, c_size_t,
                                           c_size_t, c_size_t, FloatPointer, c_size_t]),
    "ae_model_reconstruct_tokens": (ae_status, [ModelPointer, Int32Pointer, Int32Pointer, c_size_t,
                                                c_size_t, c_size_t, Int32Pointer, c_size_t]),
    "ae_model_decode_tokens": (ae_status, [ModelPointer, FloatPointer, c_size_t, c_size_t,
                                           Int32Pointer, c_size_t]),
    "ae_model_score_tokens": (ae_status, [ModelPointer, Int32Pointer, Int32Pointer, c_size_t,
                                          c_size_t, c_size_t, FloatPointer, c_size_t]),
    "ae_model_evaluate_tokens": (ae_status, [ModelPointer, Int32Pointer, Int32Pointer, c_size_t,
                                             c_size_t, c_size_t, POINTER(c_double)]),
}

#: Functions of the sequence and token section, added after 0.1.0: bound when the library
#: exports them, so that these bindings still load an older library (whose models are never
#: sequence models); the calls then raise UnsupportedError (see ``has``).
OPTIONAL = frozenset(name for name in PROTOTYPES
                     if name.endswith(("_sequences", "_tokens"))
                     or name in ("ae_model_sequence_shape", "ae_model_vocabulary_size"))

# ---- Finding and loading the library ---------------------------------------------------------

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_path() -> Path:
    """Where an installed package keeps its copy of the library."""
    return _PACKAGE_DIR / "_lib" / LIBRARY_NAME


def repository_path() -> Optional[Path]:
    """``build/lib/libautoencoders.so.0`` of the repository this package sits in, if it is one."""
    root = _PACKAGE_DIR.parents[2] if len(_PACKAGE_DIR.parents) > 2 else None
    if root is None or not (root / "include" / "autoencoders.h").is_file():
        return None
    return root / "build" / "lib" / LIBRARY_NAME


#: What to do when the loader cannot find OpenBLAS, which libautoencoders links dynamically.
OPENBLAS_HINT = (
    "libautoencoders needs OpenBLAS (libopenblas.so.0), which is not installed: on Debian or "
    "Ubuntu run `apt-get install libopenblas0` (or libopenblas-dev, which includes it); on Fedora "
    "`dnf install openblas`. Alternatively install the manylinux wheel built by `make wheel` "
    "(build/wheel/libautoencoders-*.whl), which carries its own OpenBLAS.")


def explain_load_error(path: str, error: OSError) -> str:
    """The ImportError message for a library that the loader refused, with a remedy when known."""
    message = f"autoencoders: cannot load the library {path}: {error}"
    if "libopenblas" in str(error):
        message += ". " + OPENBLAS_HINT
    return message


def _open(path: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(path)
    except OSError as error:
        raise ImportError(explain_load_error(path, error)) from error


def load() -> Tuple[ctypes.CDLL, str]:
    """Finds and loads the library in the documented order; returns it and where it came from."""
    override = os.environ.get(ENVIRONMENT_VARIABLE, "")
    if override:
        path = Path(override).expanduser()
        if path.is_dir():
            path = path / LIBRARY_NAME
        if not path.exists():
            raise ImportError(f"autoencoders: {ENVIRONMENT_VARIABLE} is {override!r}, "
                              f"but {path} does not exist")
        return _open(str(path)), str(path)

    tried = []
    for candidate in (bundled_path(), repository_path()):
        if candidate is None:
            continue
        if candidate.is_file():
            return _open(str(candidate)), str(candidate)
        tried.append(str(candidate))

    system_name = ctypes.util.find_library("autoencoders") or LIBRARY_NAME
    try:
        return ctypes.CDLL(system_name), system_name
    except OSError as error:
        if "libopenblas" in str(error):
            raise ImportError(explain_load_error(system_name, error)) from error
        tried.append(f"{system_name} (system loader)")
    raise ImportError(
        "autoencoders: cannot find libautoencoders.so. Tried: " + "; ".join(tried) + ". "
        "Build it with `make library` in the repository (for running from a checkout), install "
        "the package with `pip install ./bindings/python` (which builds the library) or the wheel "
        f"of `make wheel`, or set {ENVIRONMENT_VARIABLE} to the library's path.")


def bind(library: ctypes.CDLL) -> None:
    """Declares restype and argtypes of every function in ``PROTOTYPES`` on ``library``."""
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            function = getattr(library, name)
        except AttributeError as error:
            if name in OPTIONAL:
                continue
            raise ImportError(f"autoencoders: the library does not export {name}; it is older "
                              "than these bindings (rebuild it with `make library`)") from error
        function.restype = restype
        function.argtypes = argtypes


def _check_version(library: ctypes.CDLL, path: str) -> str:
    major, minor = library.ae_version_major(), library.ae_version_minor()
    if major != HEADER_VERSION[0] or minor < HEADER_VERSION[1]:
        raise ImportError(
            f"autoencoders: the library at {path} is version {major}.{minor}, but these bindings "
            f"need {HEADER_VERSION[0]}.{HEADER_VERSION[1]} or a later {HEADER_VERSION[0]}.x")
    return str(library.ae_version_string().decode("utf-8"))


def has(name: str) -> bool:
    """Whether the loaded library exports ``name`` (always, for a function not in ``OPTIONAL``)."""
    return name not in OPTIONAL or hasattr(lib, name)


lib, path = load()
bind(lib)
version: str = _check_version(lib, path)
