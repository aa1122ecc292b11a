"""autoencoders.dask on a LocalCluster of 2 worker processes: score, encode and reconstruct of a
chunked dask array equal the single-process calls (within float tolerance: blocks are other
batch shapes), stay lazy with the input's row chunks, load the model once per worker (not per
block), and a block of the wrong width fails its task with the library's message. Skipped only
when dask or distributed is missing (scripts/setup.sh installs both)."""

import numpy as np
import pytest

import autoencoders as ae

da = pytest.importorskip("dask.array", reason="dask is not installed (scripts/setup.sh installs it)")
distributed = pytest.importorskip("distributed", reason="distributed is not installed (scripts/setup.sh installs it)")
aed = pytest.importorskip("autoencoders.dask")

SPEC = {"input_size": 12, "seed": 3,
        "encoder": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 3}],
        "decoder": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 12}]}


@pytest.fixture(scope="module")
def model():
    m = ae.Autoencoder.from_spec(SPEC, verbose=0)
    X = np.random.default_rng(1).random((256, 12), dtype=np.float32)
    m.fit(X, epochs=2, batch_size=32)
    return m


def test_without_a_cluster_the_local_scheduler_is_used(model):
    # Runs before the module's cluster exists (tests run in file order): no default client.
    X = np.random.default_rng(4).random((64, 12), dtype=np.float32)
    scores = aed.score(model, da.from_array(X, chunks=(16, 12)))
    np.testing.assert_allclose(scores.compute(), model.reconstruction_error(X), rtol=1e-5, atol=1e-7)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="512MiB")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_results_equal_the_single_process_calls(client, model):
    X = np.random.default_rng(2).random((1000, 12), dtype=np.float32)
    D = da.from_array(X, chunks=(100, 12))
    scores = aed.score(model, D)
    assert isinstance(scores, da.Array) and scores.chunks == (D.chunks[0],)
    np.testing.assert_allclose(scores.compute(), model.reconstruction_error(X), rtol=1e-5, atol=1e-7)
    codes = aed.encode(model, D)
    assert codes.chunks == (D.chunks[0], (3,))
    np.testing.assert_allclose(codes.compute(), model.encode(X), rtol=1e-5, atol=1e-6)
    reconstructions = aed.reconstruct(model, D)
    assert reconstructions.chunks == D.chunks
    np.testing.assert_allclose(reconstructions.compute(), model.reconstruct(X), rtol=1e-5, atol=1e-6)
    # The model reached each worker once and was loaded once there, for 10 blocks of each call.
    loads = client.run(aed.loads)
    assert len(loads) == 2 and all(count <= 1 for count in loads.values()), loads
    assert sum(loads.values()) >= 1


def test_columns_split_into_chunks_are_joined(client, model):
    X = np.random.default_rng(3).random((90, 12), dtype=np.float32)
    scores = aed.score(model, da.from_array(X, chunks=(30, 5))).compute()
    np.testing.assert_allclose(scores, model.reconstruction_error(X), rtol=1e-5, atol=1e-7)


def test_a_block_of_the_wrong_width_fails_with_the_librarys_message(client, model):
    D = da.from_array(np.zeros((40, 11), dtype=np.float32), chunks=(20, 11))
    with pytest.raises(ae.ShapeError, match=r"expected \(n, 12\)"):
        aed.score(model, D).compute()


def test_a_dataframe_is_scored_on_its_numeric_columns(client, model):
    dd = pytest.importorskip("dask.dataframe", reason="dask.dataframe needs pandas (not installed by scripts/setup.sh)")
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(5).random((60, 12), dtype=np.float32)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(12)])
    frame.insert(3, "name", [f"sensor {i}" for i in range(60)])       # a text column is left out
    scores = aed.score(model, dd.from_pandas(frame, npartitions=3)).compute()
    np.testing.assert_allclose(scores, model.reconstruction_error(X), rtol=1e-5, atol=1e-7)
