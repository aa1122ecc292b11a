"""PyTorch weights in (autoencoders/torch_import.py). The fixture tests use a committed .npz of a
dense and a conv autoencoder trained in PyTorch (scripts/make_torch_interop_fixture.py), so
they run without torch; the live test trains a module here and is skipped without torch."""

import json

import numpy as np
import pytest

import autoencoders as ae
from autoencoders.torch_import import load_state_dict, sequential_name_map
from conftest import PACKAGE_ROOT

FIXTURE = PACKAGE_ROOT / "tests" / "data" / "torch_interop.npz"
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def fixture():
    return np.load(FIXTURE)


def state_dict(fixture, kind):
    prefix = f"{kind}/state/"
    return {k[len(prefix):]: fixture[k] for k in fixture.files if k.startswith(prefix)}


def spec(fixture, kind):
    return json.loads(str(fixture[f"{kind}/spec"]))


def close(got, want):
    got = np.asarray(got).reshape(np.shape(want))
    return np.abs(got - want).max() <= TOLERANCE * max(np.abs(want).max(), 1.0)


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_pytorch_trained_model_matches_pytorch(fixture, kind):
    with ae.Autoencoder.from_state_dict(spec(fixture, kind), state_dict(fixture, kind),
                                        verbose=0) as model:
        x = fixture[f"{kind}/input"]
        assert close(model.reconstruct(x), fixture[f"{kind}/reconstruction"])
        assert close(model.encode(x), fixture[f"{kind}/code"])


def test_sequential_name_map_numbers_activations_as_modules(fixture):
    with ae.Autoencoder.from_spec(spec(fixture, "conv"), verbose=0) as model:
        mapping = sequential_name_map(model)
        names = set(model.parameter_names)
    assert mapping["encoder.0.weight"] == "encoder.0.weight"
    assert mapping["encoder.1.weight"] == "encoder.1.gamma"
    assert mapping["encoder.1.running_var"] == "encoder.1.running_var"
    assert mapping["encoder.1.num_batches_tracked"] is None
    assert mapping["encoder.4.bias"] == "encoder.4.bias"      # after ReLU and MaxPool modules
    assert mapping["decoder.2.weight"] == "decoder.1.weight"  # after the ReLU of decoder[0]
    assert set(mapping.values()) - {None} == names


def snapshot(model):
    return {name: value.copy() for name, value in model.parameters().items()}


def unchanged(model, before):
    after = model.parameters()
    return all(np.array_equal(after[name], value) for name, value in before.items())


@pytest.mark.parametrize("edit, error, message", [
    (lambda s: s.pop("decoder.2.bias"), ae.ParameterNameError, "decoder.1.bias"),
    (lambda s: s.update({"decoder.9.weight": np.zeros(3, np.float32)}), ae.ParameterNameError,
     "decoder.9.weight"),
    (lambda s: s.update({"encoder.2.weight": np.zeros((3, 7), np.float32)}), ae.ShapeError,
     r"'encoder.2.weight' has shape \(3, 7\); parameter 'encoder.1.weight' has shape \(3, 8\)"),
    (lambda s: s["encoder.0.bias"].__setitem__(0, np.nan), ae.NumericError, "encoder.0.bias"),
])
def test_bad_state_dicts_name_the_tensor_and_change_nothing(fixture, edit, error, message):
    bad = {k: v.copy() for k, v in state_dict(fixture, "dense").items()}
    edit(bad)
    with ae.Autoencoder.from_spec(spec(fixture, "dense"), verbose=0) as model:
        before = snapshot(model)
        with pytest.raises(error, match=message):
            model.load_state_dict(bad)
        assert unchanged(model, before)


def test_explicit_maps_and_non_strict_loading(fixture):
    torch_state = state_dict(fixture, "dense")
    with ae.Autoencoder.from_spec(spec(fixture, "dense"), verbose=0) as model:
        table = sequential_name_map(model)
        renamed = {f"net.{k}": v for k, v in torch_state.items()}
        model.load_state_dict(renamed, name_map={f"net.{k}": table[k] for k in torch_state})
        x = fixture["dense/input"]
        assert close(model.reconstruct(x), fixture["dense/reconstruction"])
        # A function works too; an unmapped tensor is an error naming it.
        model.load_state_dict(renamed, name_map=lambda k: table[k[4:]])
        with pytest.raises(ae.ParameterNameError, match="net.encoder.0.weight"):
            model.load_state_dict(renamed, name_map={})
        # The library's own names (identity) and partial loads with strict=False.
        own = model.parameters()
        before = snapshot(model)
        model.load_state_dict({"encoder.0.bias": own["encoder.0.bias"] + 1}, strict=False)
        assert np.allclose(model.get_parameter("encoder.0.bias"), before["encoder.0.bias"] + 1)
        with pytest.raises(ae.ParameterNameError, match="no tensor for parameter"):
            model.load_state_dict({"encoder.0.bias": own["encoder.0.bias"]}, name_map="identity")
        # Without strict, unexpected tensors are skipped (PyTorch's strict=False).
        extra = dict(torch_state, **{"encoder.9.weight": np.zeros(2, np.float32)})
        model.load_state_dict(extra, strict=False)
        assert close(model.reconstruct(x), fixture["dense/reconstruction"])
        with pytest.raises(ae.ParameterNameError, match="encoder.9.weight"):
            model.load_state_dict(extra)


def test_sequential_map_refuses_links():
    spec = {"input_shape": [1, 4, 4],
            "encoder": [{"type": "conv2d", "name": "a", "filters": 2, "kernel": 1},
                        {"type": "conv2d", "filters": 2, "kernel": 1}],
            "decoder": [{"type": "concat", "inputs": ["encoder.1", "a"]},
                        {"type": "conv2d", "filters": 1, "kernel": 1}]}
    with ae.Autoencoder.from_spec(spec, verbose=0) as model:
        with pytest.raises(ValueError, match=r"decoder\[0\] \(concat\)"):
            sequential_name_map(model)
        # "auto" falls back to the library's own names.
        load_state_dict(model, model.parameters())


def test_live_pytorch_module():
    torch = pytest.importorskip("torch")
    from torch import nn
    torch.manual_seed(1)
    encoder = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.GELU(),
                            nn.Flatten(), nn.Linear(32, 5))
    decoder = nn.Sequential(nn.Linear(5, 32), nn.ELU(), nn.Unflatten(1, (4, 8)),
                            nn.ConvTranspose1d(4, 2, 3, padding=1))
    module = nn.Module()
    module.encoder, module.decoder = encoder, decoder
    x = torch.randn(64, 2, 8)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05)
    for _ in range(20):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(decoder(encoder(x)), x)
        loss.backward()
        optimizer.step()
    module.eval()
    spec = {"input_shape": [2, 8],
            "encoder": [{"type": "conv1d", "filters": 4, "kernel": 3, "padding": 1},
                        {"type": "batch_norm"}, {"type": "gelu"}, {"type": "flatten"},
                        {"type": "dense", "units": 5}],
            "decoder": [{"type": "dense", "units": 32, "activation": "elu"},
                        {"type": "reshape", "shape": [4, 8]},
                        {"type": "conv_transpose1d", "filters": 2, "kernel": 3, "padding": 1}]}
    state = module.state_dict()  # tensors directly: converted with .detach().cpu().numpy()
    with ae.Autoencoder.from_state_dict(spec, state, verbose=0) as model:
        with torch.no_grad():
            want = decoder(encoder(x)).numpy()
            code = encoder(x).numpy()
        assert close(model.reconstruct(x.numpy()), want)
        assert close(model.encode(x.numpy()), code)


def test_sequential_name_map_of_vae_heads_recurrent_layers_and_custom_prefixes():
    vae = {"input_size": 6,
           "encoder": [{"type": "dense", "units": 4, "activation": "relu"},
                       {"type": "variational", "units": 2, "name": "z"}],
           "decoder": [{"type": "dense", "units": 6}]}
    with ae.Autoencoder.from_spec(vae, verbose=0) as model:
        mapping = sequential_name_map(model, encoder="enc", decoder="")
    assert mapping["enc.2.mu.weight"] == "z.mu.weight"          # module 2: after Linear, ReLU
    assert mapping["enc.2.logvar.bias"] == "z.logvar.bias"
    assert mapping["0.weight"] == "decoder.0.weight"             # a bare Sequential decoder
    lstm = {"input_shape": [5, 3],
            "encoder": [{"type": "lstm", "units": 4, "layers": 2, "bidirectional": True,
                         "return": "last"}],
            "decoder": [{"type": "repeat", "steps": 5}, {"type": "gru", "units": 4},
                        {"type": "time_distributed_dense", "units": 3, "activation": "tanh"}]}
    with ae.Autoencoder.from_spec(lstm, verbose=0) as model:
        mapping = sequential_name_map(model)
        names = set(model.parameter_names)
    assert mapping["encoder.0.weight_hh_l1_reverse"] == "encoder.0.weight_hh_l1_reverse"
    assert mapping["decoder.1.bias_ih_l0"] == "decoder.1.bias_ih_l0"
    assert mapping["decoder.2.weight"] == "decoder.2.weight"
    assert set(mapping.values()) == names
