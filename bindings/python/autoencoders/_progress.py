"""Training progress on stderr, in the command-line tool's two formats.

On a terminal, one line redrawn in place at most ten times a second (the bar and percentage
cover the current epoch, the ETA the whole run; "val" is the last validation loss)::

    epoch 3/20 [##########----------]  48% loss 0.1234 val 0.1301 lr 1.0e-03 ETA 0:42

Otherwise, and with ``verbose=2``, one plain line per epoch::

    epoch 3/20 loss 0.123400 val_loss 0.130100 lr 0.001 time 1.2s

For a VAE both also show the epoch's KL divergence per sample after the loss (``kl 12.3456``).

With ``verbose=1`` and tqdm installed, a ``tqdm.auto`` bar replaces the built-in one on a
terminal, and in a Jupyter notebook (whose output is no terminal) it is a notebook widget.
"""

from __future__ import annotations

import math
import shutil
import sys
from typing import Any, Dict, Optional, TextIO, Union

#: Keys of the progress dictionaries given to a ``fit`` callback.
PROGRESS_KEYS = ("epoch", "epochs", "batch", "batches", "train_loss", "validation_loss",
                 "learning_rate", "elapsed_seconds", "is_epoch_end", "epochs_completed",
                 "reconstruction_loss", "kl_divergence", "discriminator_loss", "generator_loss")


def _optional_field(progress: Any, name: str) -> Optional[float]:
    """A double field of ``ae_progress`` that may be NaN (None then) or missing from the smaller
    struct of an older library (``struct_size`` tells: None then too)."""
    field = getattr(type(progress), name)
    if int(progress.struct_size) < field.offset + field.size:
        return None
    value = float(getattr(progress, name))
    return None if math.isnan(value) else value


def progress_dict(progress: Any, epochs_before: int) -> Dict[str, Any]:
    """The ``ae_progress`` struct as a dict (``validation_loss`` None when there is none;
    ``kl_divergence`` None for a model that is not a VAE)."""
    validation = progress.validation_loss
    return {
        "epoch": int(progress.epoch),
        "epochs": int(progress.epochs),
        "batch": int(progress.batch),
        "batches": int(progress.batches),
        "train_loss": float(progress.train_loss),
        "validation_loss": None if math.isnan(validation) else float(validation),
        "learning_rate": float(progress.learning_rate),
        "elapsed_seconds": float(progress.elapsed_seconds),
        "is_epoch_end": bool(progress.is_epoch_end),
        "epochs_completed": epochs_before + int(progress.epoch) + int(bool(progress.is_epoch_end)),
        "reconstruction_loss": _optional_field(progress, "reconstruction_loss"),
        "kl_divergence": _optional_field(progress, "kl_divergence"),
        # An adversarial autoencoder's regularization phases (None for other models).
        "discriminator_loss": _optional_field(progress, "discriminator_loss"),
        "generator_loss": _optional_field(progress, "generator_loss"),
    }


def _loss(value: Optional[float], digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.{digits}e}"


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressPrinter:
    """Draws progress dicts on a stream: ``style`` is "bar", "lines" or "silent"."""

    BAR_WIDTH = 20
    REDRAW_INTERVAL = 0.1

    def __init__(self, style: str, stream: Optional[TextIO] = None) -> None:
        if style not in ("bar", "lines", "silent"):
            raise ValueError(f"style is {style!r}; expected 'bar', 'lines' or 'silent'")
        self.style = style
        self.stream = stream if stream is not None else sys.stderr
        self._last_draw = -math.inf
        self._last_epoch_end = 0.0
        self._last_validation: Optional[float] = None
        self._line_on_screen = False
        self._columns = shutil.get_terminal_size((0, 0)).columns if style == "bar" else 0

    @classmethod
    def for_verbosity(cls, verbose: int, stream: Optional[TextIO] = None
                      ) -> Union["ProgressPrinter", "TqdmProgress"]:
        """0: silent; 1: a tqdm.auto bar (when installed) on a terminal or in a notebook, else
        the built-in bar on a terminal, else lines; 2: lines."""
        stream = stream if stream is not None else sys.stderr
        if not verbose:
            return cls("silent", stream)
        if verbose >= 2:
            return cls("lines", stream)
        try:
            terminal = stream.isatty()
        except (AttributeError, ValueError):
            terminal = False
        bar = tqdm_class() if terminal or in_notebook() else None
        if bar is not None:
            return TqdmProgress(bar, stream)
        return cls("bar" if terminal else "lines", stream)

    @property
    def wants_batches(self) -> bool:
        """Whether this printer needs the per-batch reports (the bar does)."""
        return self.style == "bar"

    def update(self, p: Dict[str, Any]) -> None:
        """Shows one progress dict."""
        if p["is_epoch_end"] and p["validation_loss"] is not None:
            self._last_validation = p["validation_loss"]
        if self.style == "lines":
            if p["is_epoch_end"]:
                self._write(self.epoch_line(p) + "\n")
                self._last_epoch_end = p["elapsed_seconds"]
        elif self.style == "bar":
            if not p["is_epoch_end"] and p["elapsed_seconds"] - self._last_draw < self.REDRAW_INTERVAL:
                return
            self._last_draw = p["elapsed_seconds"]
            line = self.bar_line(p)
            if self._columns and len(line) >= self._columns:
                line = line[: max(self._columns - 1, 0)]
            self._write("\r" + line + "\x1b[K")
            self._line_on_screen = True

    def finish(self) -> None:
        """Ends the bar's line so that what follows starts on a fresh one."""
        if self._line_on_screen:
            self._write("\n")
        self._line_on_screen = False

    def epoch_line(self, p: Dict[str, Any]) -> str:
        line = f"epoch {p['epoch'] + 1}/{p['epochs']} loss {_loss(p['train_loss'], 6)}"
        if p.get("kl_divergence") is not None:
            line += f" kl {_loss(p['kl_divergence'], 6)}"
        if p.get("discriminator_loss") is not None:
            line += (f" recon {_loss(p['reconstruction_loss'], 6)} disc {_loss(p['discriminator_loss'], 4)}"
                     f" gen {_loss(p['generator_loss'], 4)}")
        if p["validation_loss"] is not None:
            line += f" val_loss {_loss(p['validation_loss'], 6)}"
        line += f" lr {p['learning_rate']:g} time {p['elapsed_seconds'] - self._last_epoch_end:.1f}s"
        return line

    def bar_line(self, p: Dict[str, Any]) -> str:
        epoch_fraction = p["batch"] / p["batches"] if p["batches"] > 0 else 1.0
        if p["is_epoch_end"]:
            epoch_fraction = 1.0
        filled = min(self.BAR_WIDTH, int(epoch_fraction * self.BAR_WIDTH))
        bar = "#" * filled + "-" * (self.BAR_WIDTH - filled)
        line = f"epoch {p['epoch'] + 1}/{p['epochs']} [{bar}] {int(epoch_fraction * 100):3d}%"
        line += f" loss {_loss(p['train_loss'], 4)}"
        if p.get("kl_divergence") is not None:
            line += f" kl {_loss(p['kl_divergence'], 4)}"
        if self._last_validation is not None:
            line += f" val {_loss(self._last_validation, 4)}"
        line += f" lr {p['learning_rate']:.1e}"
        run_fraction = (p["epoch"] + epoch_fraction) / max(p["epochs"], 1)
        if run_fraction >= 1:
            line += " done " + _duration(p["elapsed_seconds"])
        elif run_fraction > 0:
            line += " ETA " + _duration(p["elapsed_seconds"] / run_fraction * (1 - run_fraction))
        else:
            line += " ETA --:--"
        return line

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not stop training
            pass


def tqdm_class() -> Any:
    """``tqdm.auto.tqdm`` when tqdm is installed, else None."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython already imported, with a kernel app)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an unusual IPython: no widget then
        return False


class TqdmProgress:
    """Progress as one tqdm bar over the whole run (every batch of every epoch), its
    description the epoch, its postfix the loss (and the last validation loss)."""

    wants_batches = True

    def __init__(self, bar_class: Any, stream: TextIO) -> None:
        self._bar_class = bar_class
        self._stream = stream
        self._bar: Any = None
        self._validation: Optional[float] = None

    def update(self, p: Dict[str, Any]) -> None:
        batches = max(int(p["batches"]), 1)
        if self._bar is None:
            self._bar = self._bar_class(total=int(p["epochs"]) * batches, unit="batch",
                                        file=self._stream, leave=True, dynamic_ncols=True)
        done = int(p["epoch"]) * batches + (batches if p["is_epoch_end"] else int(p["batch"]))
        if p["is_epoch_end"] and p["validation_loss"] is not None:
            self._validation = p["validation_loss"]
        self._bar.set_description(f"epoch {p['epoch'] + 1}/{p['epochs']}", refresh=False)
        postfix = {"loss": _loss(p["train_loss"], 4)}
        if p.get("kl_divergence") is not None:
            postfix["kl"] = _loss(p["kl_divergence"], 4)
        if self._validation is not None:
            postfix["val"] = _loss(self._validation, 4)
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(done - self._bar.n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar = None
