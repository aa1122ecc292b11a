"""One estimator class per task: Autoencoder, VariationalAutoencoder and SegmentationNetwork
share the Model base; load/from_spec/from_bytes return the class the spec calls for; the old
calls keep working for one release with a DeprecationWarning."""

import copy
import pickle

import numpy as np
import pytest

import autoencoders as ae
from conftest import DENSE_VAE
from test_segmentation import UNET

FAMILY = [ae.Autoencoder, ae.VariationalAutoencoder, ae.SegmentationNetwork]


@pytest.mark.parametrize("spec,cls", [("small", ae.Autoencoder),
                                      (DENSE_VAE, ae.VariationalAutoencoder),
                                      (UNET, ae.SegmentationNetwork)])
def test_builders_return_the_class_the_spec_calls_for(spec, cls, small_spec, tmp_path):
    spec = small_spec if spec == "small" else copy.deepcopy(spec)
    model = ae.Model.from_spec(spec, verbose=0)
    assert type(model) is cls and isinstance(model, ae.Model)
    assert type(ae.from_spec(spec)) is cls
    model.save(tmp_path / "m.aem")
    assert type(ae.load(tmp_path / "m.aem")) is cls
    assert type(ae.Model.from_bytes(model.to_bytes())) is cls
    assert type(cls.load(tmp_path / "m.aem")) is cls
    assert type(pickle.loads(pickle.dumps(model))) is cls


def test_autoencoder_builders_give_a_vae_its_class(tmp_path):
    vae = ae.Autoencoder.from_spec(DENSE_VAE, verbose=0)  # a VAE is an autoencoder
    assert type(vae) is ae.VariationalAutoencoder and isinstance(vae, ae.Autoencoder)
    vae.save(tmp_path / "vae.aem")
    assert type(ae.Autoencoder.load(tmp_path / "vae.aem")) is ae.VariationalAutoencoder


def test_the_wrong_class_says_which_one_to_use(small_spec):
    with pytest.raises(TypeError, match="reconstruction model; use Autoencoder.from_spec"):
        ae.VariationalAutoencoder.from_spec(small_spec)
    with pytest.raises(TypeError, match="segmentation model; use SegmentationNetwork"):
        ae.VariationalAutoencoder.from_spec(UNET)
    with pytest.raises(TypeError, match="variational model; use VariationalAutoencoder"):
        ae.SegmentationNetwork.from_spec(DENSE_VAE)
    with pytest.raises(ae.SpecError, match="SegmentationNetwork cannot hold a reconstruction"):
        ae.SegmentationNetwork(spec=small_spec).fit(np.zeros((4, 12), np.float32))


def test_old_entry_points_work_with_a_deprecation_warning(small_spec, data):
    with pytest.warns(DeprecationWarning, match="SegmentationNetwork.from_spec"):
        net = ae.Autoencoder.from_spec(UNET, verbose=0)
    assert type(net) is ae.SegmentationNetwork
    with pytest.warns(DeprecationWarning, match="segmentation spec is deprecated"):
        lazy = ae.Autoencoder(spec=UNET, verbose=0, epochs=1)
        lazy.fit(np.zeros((4, 1, 16, 16), np.float32), np.zeros((4, 16, 16), np.int64))
    with pytest.warns(DeprecationWarning, match="segment does not apply"):
        assert lazy.segment(np.zeros((1, 1, 16, 16), np.float32)).shape == (1, 16, 16)
    plain = ae.Autoencoder.from_spec(small_spec, verbose=0)
    with pytest.warns(DeprecationWarning, match="Autoencoder.generate .* VariationalAutoencoder"):
        with pytest.raises(ae.UnsupportedError, match="not a VAE"):
            plain.generate(2)
    with pytest.warns(DeprecationWarning, match="reconstruct does not apply"):
        with pytest.raises(ae.UnsupportedError):
            net.reconstruct(np.zeros((1, 1, 16, 16), np.float32))
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        plain.frobnicate


def test_each_class_shows_only_what_applies():
    names = {cls: set(dir(cls)) for cls in FAMILY}
    shared = {"fit", "partial_fit", "encode", "transform", "evaluate", "save", "to_bytes",
              "get_params", "set_params", "set_output", "get_feature_names_out", "parameters",
              "load", "from_spec", "input_shape", "epochs_completed", "score", "predict",
              "export_onnx", "load_state_dict", "from_state_dict"}
    for cls in FAMILY:
        assert shared <= names[cls], cls
    reconstruction = {"decode", "reconstruct", "reconstruction_error", "score_samples",
                      "decision_function", "fit_threshold", "is_anomaly", "inpaint",
                      "inverse_transform", "interpolate", "dense", "sequence", "text"}
    assert reconstruction <= names[ae.Autoencoder]
    assert not reconstruction & names[ae.SegmentationNetwork]
    variational = {"generate", "encode_distribution", "sample_codes"}
    assert variational <= names[ae.VariationalAutoencoder]
    assert not variational & (names[ae.Autoencoder] | names[ae.SegmentationNetwork])
    segmentation = {"segment", "n_classes", "label_shape", "ignore_index"}
    assert segmentation <= names[ae.SegmentationNetwork]
    assert not segmentation & names[ae.VariationalAutoencoder]


def test_a_variational_autoencoder_from_hyperparameters(images):
    X = images.reshape(len(images), 64)
    vae = ae.VariationalAutoencoder(hidden=[32], code_size=4, beta=0.5, epochs=3, verbose=0,
                                    loss="bce", output_activation="sigmoid")
    params = vae.get_params()
    assert params["beta"] == 0.5 and "code_activation" not in params and "vocabulary" not in params
    vae.fit(X)
    assert vae.is_variational and vae.spec["encoder"][-1] == {"type": "variational",
                                                             "units": 4, "beta": 0.5}
    assert vae.generate(3, seed=1).shape == (3, 64)
    assert vae.history_["kl_divergence"][0] is not None
    with pytest.raises(ValueError, match="either spec or beta"):
        ae.VariationalAutoencoder(spec=DENSE_VAE, beta=2.0).fit(X)


def test_segmentation_network_speaks_scikit_learn():
    from test_segmentation import squares
    x, y = squares(32)
    net = ae.SegmentationNetwork(spec=UNET, epochs=2, verbose=0).fit(x, y)
    np.testing.assert_array_equal(net.predict(x[:4]), net.segment(x[:4]))
    assert net.score(x, y) == pytest.approx(-net.evaluate(x, y))
    with pytest.raises(ae.UnsupportedError, match="score"):
        net.score(x)


def test_trainer_takes_every_kind(small_spec):
    for spec in (small_spec, DENSE_VAE, UNET):
        with ae.Model.from_spec(spec) as model:
            assert ae.Trainer(model, batch_size=4).model is model
