"""Threads: concurrent inference on one model (the library releases nothing to Python but the
GIL is released by ctypes during calls), inference while another thread trains, and close()
racing with calls in flight (the model is freed only after the last one returns)."""

import threading

import numpy as np
import pytest

import autoencoders as ae


def run_threads(target, count):
    errors = []

    def wrapped(index):
        try:
            target(index)
        except BaseException as error:  # reported to the main thread
            errors.append(error)
    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_inference_matches_serial(data):
    model = ae.Autoencoder.dense(12, hidden=[64, 32], code_size=4, seed=2)
    expected = model.reconstruct(data)
    results = {}

    def work(index):
        for _ in range(20):
            results[index] = model.reconstruct(data)
    assert run_threads(work, 4) == []
    for result in results.values():
        np.testing.assert_array_equal(result, expected)


def test_inference_while_another_thread_trains(data):
    model = ae.Autoencoder.dense(12, hidden=[32], code_size=4, verbose=0)
    stop = threading.Event()
    seen = []

    def infer(_):
        while not stop.is_set():
            seen.append(model.encode(data[:8]).shape)

    reader = threading.Thread(target=infer, args=(0,))
    reader.start()
    try:
        model.fit(data, epochs=20, batch_size=8)
    finally:
        stop.set()
        reader.join(60)
    assert model.epochs_completed == 20 and seen and all(s == (8, 4) for s in seen)


def test_close_while_calls_are_in_flight_never_frees_under_them(data):
    big = np.repeat(data, 20, axis=0)
    for _ in range(5):
        model = ae.Autoencoder.dense(12, hidden=[256, 128], code_size=8)
        handle = model._native.handle
        started = threading.Barrier(5)
        outcomes = []

        def work(_):
            started.wait()
            try:
                for _ in range(50):
                    outcomes.append(model.reconstruct(big).shape)
            except ValueError as error:
                assert str(error) == "model is closed"
                outcomes.append("closed")

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        started.wait()
        model.close()
        assert handle.closed
        for thread in threads:
            thread.join(60)
        assert handle.freed and "closed" in outcomes


def test_fit_from_two_threads_is_serialised(small_spec, data):
    model = ae.Autoencoder.from_spec(small_spec, verbose=0, warm_start=True)

    def work(_):
        model.fit(data, epochs=3, batch_size=20)
    assert run_threads(work, 2) == []
    assert model.epochs_completed == 6


def test_gemm_kernel_is_reported_and_chosen_and_refusals_name_the_reason():
    assert ae.gemm_kernel() in ("avx512", "avx2", "openblas")
    assert ae.gemm_kernel_description().startswith(ae.gemm_kernel() + " (")
    try:
        ae.set_gemm_kernel("openblas")
        assert ae.gemm_kernel() == "openblas"
        with pytest.raises(ae.InvalidArgumentError, match="expected auto, avx512, avx2 or openblas"):
            ae.set_gemm_kernel("avx1024")
        assert ae.gemm_kernel() == "openblas"
        # Every kernel this machine runs trains the same model to within float tolerance.
        reconstructions = {}
        for kernel in ("openblas", "avx2", "avx512"):
            try:
                ae.set_gemm_kernel(kernel)
            except ae.UnsupportedError as error:
                assert "cannot run here" in str(error)
                continue
            # Large enough for the library's kernels (products of at least 48 x 64 x 48).
            x = np.random.default_rng(5).random((256, 96), dtype=np.float32)
            model = ae.Autoencoder.dense(96, hidden=[128, 64], code_size=16, seed=3, verbose=0)
            model.fit(x, epochs=2, batch_size=64, shuffle=False)
            reconstructions[kernel] = model.reconstruct(x)
        for kernel, values in reconstructions.items():
            np.testing.assert_allclose(values, reconstructions["openblas"], atol=1e-3, err_msg=kernel)
    finally:
        ae.set_gemm_kernel("auto")
