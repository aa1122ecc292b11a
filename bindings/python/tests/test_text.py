"""Text models from Python: CharacterVocabulary, the text autoencoder builder, fit / encode /
reconstruct / score / decode on lists of strings, token ids with lengths, saving (the vocabulary
beside the model file), and bad input. The model tests need a library with the token C ABI; they
skip when the loaded library does not export it."""

import json
import pickle

import numpy as np
import pytest

import autoencoders as ae
from autoencoders import _library

needs_tokens = pytest.mark.skipif(
    not all(_library.has(name) for name in ("ae_model_train_tokens", "ae_model_encode_tokens",
                                             "ae_model_reconstruct_tokens",
                                             "ae_model_decode_tokens", "ae_model_score_tokens",
                                             "ae_model_evaluate_tokens",
                                             "ae_trainer_step_tokens")),
    reason="the library does not export the token calls (ae_model_*_tokens)")

SYLLABLES = ["ka", "to", "mi", "ra", "ne", "lo", "su", "pe", "di", "bo", "ga", "fu", "ri", "se",
             "an", "el", "or", "in"]


def pseudo_words(count=200, seed=0):
    """``count`` distinct words of 1 to 3 syllables (2 to 6 letters), sorted."""
    rng = np.random.default_rng(seed)
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES, rng.integers(1, 4))))
    return sorted(words)


WORDS = pseudo_words()
MAX_LENGTH = 6


@pytest.fixture(scope="module")
def vocabulary():
    return ae.CharacterVocabulary().fit(WORDS)


@pytest.fixture(scope="module")
def trained(vocabulary):
    """A GRU text autoencoder trained on the 200 words (a second or two)."""
    model = ae.Autoencoder.text(vocabulary, max_length=MAX_LENGTH, hidden=64, epochs=40,
                                batch_size=16, seed=0, verbose=0)
    model.fit(WORDS)
    yield model
    model.close()


# ---- CharacterVocabulary ---------------------------------------------------------------------

def test_vocabulary_reserves_padding_unknown_and_end(vocabulary):
    assert (vocabulary.PADDING, vocabulary.UNKNOWN, vocabulary.END) == (0, 1, 2)
    assert vocabulary.characters == "".join(sorted(set("".join(WORDS))))
    assert vocabulary.size == len(vocabulary) == 3 + len(vocabulary.characters)
    assert vocabulary.id_of(vocabulary.characters[0]) == 3 and vocabulary.id_of("#") == 1
    assert "a" in vocabulary and "#" not in vocabulary


def test_encode_and_decode_round_trip(vocabulary):
    ids, lengths = vocabulary.encode(["ka", "mito", "a"], steps=6)
    assert ids.dtype == np.int32 and ids.shape == (3, 6)
    assert lengths.dtype == np.int32 and lengths.tolist() == [3, 5, 2]
    assert ids[0].tolist() == [vocabulary.id_of("k"), vocabulary.id_of("a"), 2, 0, 0, 0]
    assert vocabulary.decode(ids) == ["ka", "mito", "a"]
    assert vocabulary.decode(ids, lengths=[1, 5, 2]) == ["k", "mito", "a"]
    assert vocabulary.decode(ids[1]) == ["mito"]
    default_ids, _ = vocabulary.encode(["ka", "mito"])
    assert default_ids.shape == (2, 5)  # longest + 1 for the end mark


def test_unknown_characters_follow_the_policy(vocabulary):
    ids, lengths = vocabulary.encode(["k#a"])
    assert ids[0, :4].tolist() == [vocabulary.id_of("k"), 1, vocabulary.id_of("a"), 2]
    assert vocabulary.decode(ids) == ["k\ufffda"]
    strict = ae.CharacterVocabulary(vocabulary.characters, unknown="error")
    with pytest.raises(ValueError, match=r"strings\[1\] = 'k#a' holds '#' at position 1"):
        strict.encode(["ka", "k#a"])
    lenient = ae.CharacterVocabulary(vocabulary.characters, unknown="ignore")
    assert lenient.decode(lenient.encode(["k#a"])[0]) == ["ka"]
    with pytest.raises(ValueError, match="unknown is 'skip'"):
        ae.CharacterVocabulary(unknown="skip")


def test_min_count_makes_rare_characters_unknown():
    vocabulary = ae.CharacterVocabulary().fit(["aab", "ab", "ac"], min_count=2)
    assert vocabulary.characters == "ab"
    assert vocabulary.encode(["c"])[0].tolist() == [[1, 2]]


def test_vocabulary_refuses_bad_strings(vocabulary):
    with pytest.raises(ValueError, match=r"strings\[1\] = 'kakaka' has 6 characters; at most 4 "
                                         r"fit in 5 steps"):
        vocabulary.encode(["ka", "kakaka"], steps=5)
    with pytest.raises(TypeError, match=r"strings\[1\] is int"):
        vocabulary.encode(["ka", 3])
    with pytest.raises(TypeError, match="single str"):
        vocabulary.encode("ka")
    with pytest.raises(ValueError, match="empty"):
        vocabulary.encode([])
    with pytest.raises(ValueError, match="twice"):
        ae.CharacterVocabulary("aba")


def test_vocabulary_saves_and_pickles(vocabulary, tmp_path):
    path = tmp_path / "vocabulary.json"
    vocabulary.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["characters"] == vocabulary.characters
    assert ae.CharacterVocabulary.load(path) == vocabulary
    assert pickle.loads(pickle.dumps(vocabulary)) == vocabulary
    assert ae.CharacterVocabulary.from_dict(vocabulary.to_dict()) == vocabulary
    with pytest.raises(ValueError, match="not a character vocabulary"):
        ae.CharacterVocabulary.from_dict({"characters": "ab"})


def test_text_spec_builds_embedding_recurrent_repeat_dense(vocabulary):
    spec = ae.text_spec(vocabulary, max_length=10, cell="lstm", hidden=32, embedding_size=8)
    assert spec["input_shape"] == [11]
    assert spec["encoder"][0] == {"type": "embedding", "vocabulary": vocabulary.size,
                                  "units": 8, "padding_id": 0}
    assert spec["encoder"][1] == {"type": "lstm", "units": 32, "return": "last", "name": "code"}
    assert spec["decoder"][0] == {"type": "repeat", "steps": 11}
    assert spec["decoder"][1] == {"type": "lstm", "units": 32, "return": "sequence",
                                  "initial_state": "code"}
    plain = ae.text_spec(vocabulary, max_length=10, initial_state=False)
    assert "initial_state" not in plain["decoder"][1] and "name" not in plain["encoder"][1]
    assert spec["decoder"][-1] == {"type": "time_distributed_dense", "units": vocabulary.size}
    assert spec["loss"] == {"type": "sequence_cross_entropy", "ignore_index": 0}
    with pytest.raises(ValueError, match="no characters"):
        ae.text_spec(ae.CharacterVocabulary(), max_length=5)


# ---- Text models -----------------------------------------------------------------------------

@needs_tokens
def test_a_text_model_reconstructs_the_words_it_learnt(trained):
    assert trained.is_text and trained.is_sequence
    assert trained.steps == MAX_LENGTH + 1 and trained.vocabulary_size == trained.vocabulary.size
    losses = trained.history_["train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    out = trained.reconstruct(WORDS)
    assert isinstance(out, list) and all(isinstance(word, str) for word in out)
    accuracy = np.mean([a == b for a, b in zip(out, WORDS)])
    assert accuracy >= 0.8, f"exact-word accuracy {accuracy}"


@needs_tokens
def test_strings_equal_ids_with_lengths(trained):
    ids, lengths = trained.vocabulary.encode(WORDS[:20], trained.steps)
    codes = trained.encode(WORDS[:20])
    assert codes.shape == (20, trained.code_size) and codes.dtype == np.float32
    np.testing.assert_allclose(trained.encode(ids, lengths=lengths), codes, atol=1e-6)
    np.testing.assert_allclose(trained.reconstruction_error(ids, lengths=lengths), trained.reconstruction_error(WORDS[:20]),
                               rtol=1e-6)
    assert trained.evaluate(ids, lengths=lengths) == pytest.approx(
        trained.evaluate(WORDS[:20]), rel=1e-6)
    out = trained.reconstruct(ids, lengths=lengths)
    assert out.shape == ids.shape and out.dtype == np.int32
    for row, length in zip(out, lengths):
        assert not row[length:].any(), "padded steps hold the padding id"
    assert trained.vocabulary.decode(out, lengths) == trained.reconstruct(WORDS[:20])
    listed = trained.reconstruct([row[:n] for row, n in zip(ids, lengths)])
    assert [len(row) for row in listed] == lengths.tolist()


@needs_tokens
def test_padding_ids_do_not_change_a_code(trained):
    ids, lengths = trained.vocabulary.encode(WORDS[:30], trained.steps)
    noisy = ids.copy()
    rng = np.random.default_rng(4)
    for row, length in zip(noisy, lengths):
        row[length:] = rng.integers(0, trained.vocabulary_size, trained.steps - length)
    np.testing.assert_allclose(trained.encode(noisy, lengths=lengths),
                               trained.encode(ids, lengths=lengths), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained.reconstruction_error(noisy, lengths=lengths),
                               trained.reconstruction_error(ids, lengths=lengths), rtol=1e-5, atol=1e-7)


@needs_tokens
def test_scores_rank_unseen_gibberish_above_learnt_words(trained):
    known = trained.reconstruction_error(WORDS[:50])
    gibberish = trained.reconstruction_error(["zzq", "qqqq", "xkcdw", "wq"])  # unknown letters
    assert known.shape == (50,) and np.all(np.isfinite(known)) and np.all(known >= 0)
    assert gibberish.min() > np.median(known)


@needs_tokens
def test_decode_from_codes_spells_words(trained):
    decoded = trained.decode(trained.encode(WORDS[:20]))
    assert decoded == trained.reconstruct(WORDS[:20])
    ids = ae.Autoencoder.from_spec(trained.spec, verbose=0).decode(trained.encode(WORDS[:2]))
    assert ids.shape == (2, trained.steps) and ids.dtype == np.int32  # no vocabulary: ids


@needs_tokens
def test_validation_and_the_trainer_take_strings(vocabulary):
    model = ae.Autoencoder.text(vocabulary, max_length=MAX_LENGTH, hidden=16, epochs=2,
                                verbose=0)
    model.fit(WORDS[:150], validation_data=WORDS[150:])
    assert len(model.history_["validation_loss"]) == 2
    assert all(np.isfinite(model.history_["validation_loss"]))
    with ae.Trainer(model, batch_size=8) as trainer:
        assert np.isfinite(trainer.step(WORDS[:8]))
        ids, lengths = vocabulary.encode(WORDS[:8], model.steps)
        assert np.isfinite(trainer.step(ids, lengths=lengths))
    threshold = model.fit_threshold(WORDS, 0.95)
    assert model.is_anomaly(WORDS).mean() == pytest.approx(0.05, abs=0.02)
    assert threshold == pytest.approx(np.quantile(model.reconstruction_error(WORDS).astype(np.float64), 0.95),
                                      rel=1e-6)


@needs_tokens
def test_save_and_load_keep_the_vocabulary(trained, tmp_path):
    path = tmp_path / "words.aem"
    trained.save(path)
    assert (tmp_path / "words.aem.vocabulary.json").is_file()
    loaded = ae.Autoencoder.load(path)
    assert loaded.vocabulary == trained.vocabulary
    assert loaded.reconstruct(WORDS[:10]) == trained.reconstruct(WORDS[:10])
    np.testing.assert_allclose(loaded.encode(WORDS[:10]), trained.encode(WORDS[:10]), atol=1e-6)
    copy = pickle.loads(pickle.dumps(trained))
    assert copy.vocabulary == trained.vocabulary and copy.reconstruct(["kato"]) == \
        trained.reconstruct(["kato"])
    bare = ae.Autoencoder.from_bytes(trained.to_bytes())
    assert bare.vocabulary is None
    with pytest.raises(ValueError, match="no vocabulary"):
        bare.encode(["kato"])
    given = ae.Autoencoder.from_bytes(trained.to_bytes(), vocabulary=trained.vocabulary)
    assert given.reconstruct(["kato"]) == trained.reconstruct(["kato"])
    bare.save(path)  # no vocabulary: the earlier one is not left to be paired with this model
    assert not (tmp_path / "words.aem.vocabulary.json").exists()
    assert ae.Autoencoder.load(path).vocabulary is None


# ---- Bad input -------------------------------------------------------------------------------

@needs_tokens
def test_token_ids_outside_the_vocabulary_are_refused(trained):
    ids, lengths = trained.vocabulary.encode(WORDS[:4], trained.steps)
    ids[2, 1] = trained.vocabulary_size
    with pytest.raises(ae.InvalidArgumentError, match=r"tokens\[15\]"):
        trained.encode(ids, lengths=lengths)
    ids[2, 1] = -1
    with pytest.raises(ValueError):
        trained.reconstruction_error(ids, lengths=lengths)


@needs_tokens
def test_bad_text_input_is_named(trained):
    with pytest.raises(ValueError, match=r"X\[1\] = 'kakakakaka' has 10 characters; at most 6"):
        trained.encode(["ka", "kakakakaka"])
    with pytest.raises(ValueError, match="carries its own lengths"):
        trained.encode(["ka"], lengths=[3])
    with pytest.raises(TypeError, match="single str"):
        trained.encode("kato")
    with pytest.raises(TypeError, match="expected integer token ids"):
        trained.encode(np.zeros((2, trained.steps), np.float32))
    with pytest.raises(ae.ShapeError, match=r"expected \(n, 7\)"):
        trained.encode(np.zeros((2, 5), np.int32))
    ids, _ = trained.vocabulary.encode(["ka", "to"], trained.steps)
    with pytest.raises(ValueError, match=r"lengths\[1\] = 0"):
        trained.encode(ids, lengths=[3, 0])
    with pytest.raises(ValueError, match=r"lengths\[0\] = 8; expected a length in 1\.\.7"):
        trained.encode(ids, lengths=[8, 3])
    with pytest.raises(ae.ShapeError, match="lengths has 1 values but there are 2 samples"):
        trained.encode(ids, lengths=[3])
    with pytest.raises(ValueError, match="input_scaling does not apply"):
        ae.Autoencoder.text(trained.vocabulary, MAX_LENGTH, hidden=4, input_scaling="minmax",
                            verbose=0).fit(WORDS[:10])


@needs_tokens
def test_unknown_characters_with_the_error_policy_raise_before_the_library(trained):
    strict = ae.CharacterVocabulary(trained.vocabulary.characters, unknown="error")
    model = ae.Autoencoder.from_spec(trained.spec, vocabulary=strict, verbose=0)
    with pytest.raises(ValueError, match=r"X\[1\] = 'k#' holds '#'"):
        model.fit(["ka", "k#"], epochs=1)
    assert model.epochs_completed == 0


@needs_tokens
def test_a_vocabulary_that_does_not_fit_the_model_is_refused(trained, vocabulary):
    with pytest.raises(ValueError, match="vocabulary has 4 ids but the model's embedding has"):
        ae.Autoencoder.from_spec(trained.spec, vocabulary=ae.CharacterVocabulary("a"))
    with pytest.raises(ValueError, match="vocabulary is for text models"):
        ae.Autoencoder.sequence(5, 2, vocabulary=vocabulary)


# ---- Across languages ------------------------------------------------------------------------

# usage: tokens MODEL TOKENS LENGTHS N RECON_OUT
C_TOKENS = r"""
#include <autoencoders.h>
#include <stdio.h>
#include <stdlib.h>
#define CHECK(call) do { ae_status s_ = (call); if (s_ != AE_OK) { \
    fprintf(stderr, "%s: %s\n", #call, ae_last_error()); return 1; } } while (0)

static void *read_file(const char *path, size_t bytes) {
    void *data = malloc(bytes);
    FILE *file = fopen(path, "rb");
    if (!data || !file || fread(data, 1, bytes, file) != bytes) { perror(path); exit(1); }
    fclose(file);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 6) return 2;
    ae_model *model = NULL;
    CHECK(ae_model_load(argv[1], &model));
    size_t steps = 0, vocabulary = 0, n = (size_t)strtoull(argv[4], NULL, 10);
    CHECK(ae_model_sequence_shape(model, &steps, NULL, NULL));
    CHECK(ae_model_vocabulary_size(model, &vocabulary));
    if (vocabulary == 0) return 3;
    int32_t *tokens = read_file(argv[2], n * steps * sizeof(int32_t));
    int32_t *lengths = read_file(argv[3], n * sizeof(int32_t));
    int32_t *out = malloc(n * steps * sizeof(int32_t));
    CHECK(ae_model_reconstruct_tokens(model, tokens, lengths, n, n * steps, n, out, n * steps));
    FILE *file = fopen(argv[5], "wb");
    if (!file || fwrite(out, sizeof(int32_t), n * steps, file) != n * steps) return 4;
    fclose(file);
    free(tokens); free(lengths); free(out);
    ae_model_free(model);
    return 0;
}
"""


@needs_tokens
def test_c_reconstructs_the_words_of_a_python_text_model(trained, compile_c, tmp_path):
    import subprocess
    program = compile_c(C_TOKENS, "tokens")
    trained.save(tmp_path / "words.aem")
    ids, lengths = trained.vocabulary.encode(WORDS, trained.steps)
    ids.tofile(tmp_path / "tokens.i32")
    lengths.tofile(tmp_path / "lengths.i32")
    subprocess.run([str(program), str(tmp_path / "words.aem"), str(tmp_path / "tokens.i32"),
                    str(tmp_path / "lengths.i32"), str(len(WORDS)), str(tmp_path / "out.i32")],
                   check=True)
    out = np.fromfile(tmp_path / "out.i32", dtype=np.int32).reshape(ids.shape)
    assert trained.vocabulary.decode(out, lengths) == trained.reconstruct(WORDS)
