"""No handle leaks: resident memory stays flat over 2,000 create/free cycles (closed explicitly,
or left to the finalizer), failing calls, and 200 train/free cycles. A leaked native model of
the small spec costs ~10 KB, so 2,000 of them would grow RSS by ~20 MB; the budget is 1 MiB."""

import gc

import numpy as np
import pytest

import autoencoders as ae
from conftest import SMALL_SPEC, rss_bytes

BUDGET = 1 << 20


def growth(cycle, count):
    """RSS growth over `count` cycles, after `count // 4` cycles of warm-up."""
    for _ in range(max(count // 4, 1)):
        cycle()
    gc.collect()
    before = rss_bytes()
    for _ in range(count):
        cycle()
    gc.collect()
    return rss_bytes() - before


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((64, 12), dtype=np.float32)


def test_create_close_cycles():
    def cycle():
        ae.Autoencoder.from_spec(SMALL_SPEC).close()
    assert growth(cycle, 2000) < BUDGET


def test_create_and_drop_cycles_freed_by_the_finalizer(x):
    def cycle():
        model = ae.Autoencoder.from_spec(SMALL_SPEC)
        model.encode(x)  # no close: garbage collection frees it
    assert growth(cycle, 2000) < BUDGET


def test_bytes_round_trip_cycles():
    blob = ae.Autoencoder.from_spec(SMALL_SPEC).to_bytes()

    def cycle():
        with ae.Autoencoder.from_bytes(blob) as model:
            model.to_bytes()
    assert growth(cycle, 2000) < BUDGET


def test_failing_calls_do_not_leak(x):
    model = ae.Autoencoder.from_spec(SMALL_SPEC)
    bad_spec = dict(SMALL_SPEC, loss="crossentropy")
    nan = x.copy()
    nan[3, 3] = np.nan

    def cycle():
        for call in (lambda: ae.Autoencoder.from_spec(bad_spec), lambda: model.encode(nan),
                     lambda: ae.Autoencoder.from_bytes(b"garbage" * 10),
                     lambda: model.get_parameter("missing")):
            try:
                call()
            except ae.AutoencoderError:
                pass
    assert growth(cycle, 2000) < BUDGET


def test_train_free_cycles(x):
    def cycle():
        model = ae.Autoencoder.from_spec(SMALL_SPEC, verbose=0)
        model.fit(x, epochs=2, batch_size=16, validation_split=0.25, callback=lambda p: None)
        with ae.Trainer(model, batch_size=16) as trainer:
            trainer.step(x[:16])
        model.close()
    assert growth(cycle, 200) < BUDGET


@pytest.mark.skipif(not (ae._library.has("ae_model_encode_sequences")
                         and ae._library.has("ae_model_encode_tokens")),
                    reason="the library does not export the sequence and token calls")
def test_sequence_and_token_calls_do_not_leak():
    signals = ae.Autoencoder.sequence(10, 2, hidden=8, verbose=0)
    X = np.random.default_rng(1).random((16, 10, 2), dtype=np.float32)
    lengths = np.arange(16, dtype=np.int32) % 10 + 1
    listed = [X[i, :n] for i, n in enumerate(lengths)]
    vocabulary = ae.CharacterVocabulary().fit(["abc", "bcd", "cde"])
    text = ae.Autoencoder.text(vocabulary, max_length=4, hidden=8, verbose=0)
    bad_ids = np.full((2, 5), vocabulary.size, dtype=np.int32)

    def cycle():
        signals.encode(X, lengths=lengths)
        signals.reconstruct(listed)
        signals.reconstruction_error(X, lengths=lengths)
        text.reconstruct(["abc", "dc"])
        text.reconstruction_error(["abcd"])
        try:
            text.encode(bad_ids, lengths=[1, 2])
        except ae.InvalidArgumentError:
            pass
    assert growth(cycle, 500) < BUDGET
    signals.close()
    text.close()
