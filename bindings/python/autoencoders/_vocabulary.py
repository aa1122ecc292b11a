"""``CharacterVocabulary``: strings to token ids and back, for text autoencoders.

Ids 0, 1 and 2 are reserved: 0 pads a string to the model's T steps (the embedding's
``padding_id``, which gets no gradient, and the loss's ``ignore_index``), 1 stands for a
character the vocabulary does not know, and 2 marks the end of a string, so that a decoder can say
where a word stops (``decode`` from codes alone has no lengths). The characters seen by
:meth:`CharacterVocabulary.fit` follow, from 3, in code-point order: the same strings always give
the same ids.

A string of L characters is L + 1 tokens (its characters, then the end mark), so a model of T
steps takes strings of at most T - 1 characters.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np

from ._params import integer

__all__ = ["CharacterVocabulary"]

#: What :meth:`CharacterVocabulary.encode` does with a character it does not know.
UNKNOWN_POLICIES = ("replace", "error", "ignore")


def _strings(values: Any, name: str) -> List[str]:
    """``values`` as a list of str; TypeError naming the first item that is not one."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} is a single {type(values).__name__}; expected a list of strings, "
                        f"e.g. [{values!r}]")
    if isinstance(values, np.ndarray) and values.dtype.kind not in "UO":
        raise TypeError(f"{name} is an array of {values.dtype}; expected strings")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} is {type(values).__name__}; expected a list of strings") from None
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{index}] is {type(item).__name__} ({item!r}); expected a str")
    return [str(item) for item in items]  # numpy str_ to str


class CharacterVocabulary:
    """A character vocabulary: ``fit`` it on strings, then ``encode`` strings to int32 ids and
    lengths (what a text model takes) and ``decode`` ids back to strings.

    Args:
        characters: the known characters, in id order from 3 (a str or any iterable of
            single-character strings); usually left empty and learnt by :meth:`fit`.
        unknown: what :meth:`encode` does with a character not in the vocabulary: ``"replace"``
            (the default) gives it the unknown id 1, ``"error"`` raises ValueError naming the
            string and the position, ``"ignore"`` drops it.
        unknown_character: what :meth:`decode` writes for the unknown id (default U+FFFD).

    Example::

        vocabulary = CharacterVocabulary().fit(["cat", "dog"])
        ids, lengths = vocabulary.encode(["cat", "do"], steps=5)
        ids            # [[4, 3, 8, 2, 0], [5, 7, 2, 0, 0]]: c a t <end> <pad>, d o <end> ...
        lengths        # [4, 3]
        vocabulary.decode(ids)   # ['cat', 'do']
    """

    #: The reserved ids.
    PADDING = 0
    UNKNOWN = 1
    END = 2
    RESERVED = 3

    def __init__(self, characters: Union[str, Iterable[str]] = "", *, unknown: str = "replace",
                 unknown_character: str = "\ufffd") -> None:
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown is {unknown!r}; expected one of "
                             f"{', '.join(repr(p) for p in UNKNOWN_POLICIES)}")
        if not isinstance(unknown_character, str):
            raise TypeError(f"unknown_character is {unknown_character!r}; expected a str")
        self.unknown = unknown
        self.unknown_character = unknown_character
        self._set_characters(characters)

    def _set_characters(self, characters: Union[str, Iterable[str]]) -> None:
        listed = list(characters)
        for index, character in enumerate(listed):
            if not isinstance(character, str) or len(character) != 1:
                raise ValueError(f"characters[{index}] is {character!r}; expected one character")
        if len(set(listed)) != len(listed):
            repeated = next(c for c, n in Counter(listed).items() if n > 1)
            raise ValueError(f"characters holds {repeated!r} twice; each character has one id")
        self._characters = "".join(listed)
        self._ids = {character: self.RESERVED + i for i, character in enumerate(listed)}

    # ---- Learning ----

    def fit(self, strings: Iterable[str], *, min_count: int = 1) -> "CharacterVocabulary":
        """Learns the characters of ``strings`` (those seen at least ``min_count`` times; the
        others become unknown), replacing any it had; returns self."""
        items = _strings(strings, "strings")
        min_count = integer(min_count, "min_count", 1)
        counts = Counter(character for item in items for character in item)
        self._set_characters(sorted(c for c, n in counts.items() if n >= min_count))
        return self

    # ---- Queries ----

    @property
    def characters(self) -> str:
        """The known characters in id order (the first has id 3)."""
        return self._characters

    @property
    def size(self) -> int:
        """The number of ids, V: the three reserved ones plus the characters. A text model's
        embedding has ``"vocabulary": V``."""
        return self.RESERVED + len(self._characters)

    def __len__(self) -> int:
        return self.size

    def __contains__(self, character: object) -> bool:
        return character in self._ids

    def id_of(self, character: str) -> int:
        """The id of ``character`` (the unknown id 1 for one the vocabulary lacks)."""
        return self._ids.get(character, self.UNKNOWN)

    # ---- Encoding and decoding ----

    def encode(self, strings: Iterable[str], steps: Optional[int] = None, *,
               name: str = "strings") -> Tuple[np.ndarray, np.ndarray]:
        """Token ids ``(n, steps)`` int32 and lengths ``(n,)`` int32 of ``strings``: each string's
        character ids, then the end mark (so a length is the string's length + 1), then padding
        (id 0). ``steps`` defaults to the longest string's length + 1.

        Raises ValueError naming the string (``strings[3]``) that is too long for ``steps``, or,
        with ``unknown="error"``, that holds an unknown character; TypeError for an item that is
        not a str."""
        items = _strings(strings, name)
        if not items:
            raise ValueError(f"{name} is empty; expected at least one string")
        rows: List[List[int]] = []
        for index, item in enumerate(items):
            row = []
            for position, character in enumerate(item):
                token = self._ids.get(character)
                if token is None:
                    if self.unknown == "error":
                        raise ValueError(f"{name}[{index}] = {item!r} holds {character!r} at "
                                         f"position {position}, which is not in the vocabulary "
                                         "(unknown='error'; 'replace' maps it to the unknown id)")
                    if self.unknown == "ignore":
                        continue
                    token = self.UNKNOWN
                row.append(token)
            row.append(self.END)
            rows.append(row)
        longest = max(len(row) for row in rows)
        steps = longest if steps is None else integer(steps, "steps", 1)
        ids = np.full((len(rows), steps), self.PADDING, dtype=np.int32)
        lengths = np.empty(len(rows), dtype=np.int32)
        for index, row in enumerate(rows):
            if len(row) > steps:
                raise ValueError(f"{name}[{index}] = {items[index]!r} has {len(row) - 1} "
                                 f"characters; at most {steps - 1} fit in {steps} steps (one "
                                 "step holds the end mark)")
            ids[index, : len(row)] = row
            lengths[index] = len(row)
        return ids, lengths

    def decode(self, ids: Any, lengths: Any = None) -> List[str]:
        """Strings from token ids ``(n, T)`` (or one row ``(T,)``, giving a list of one): each
        row is read up to its length (when given), and stops at the end mark or padding; the
        unknown id and ids outside the vocabulary become :attr:`unknown_character`."""
        array = np.asarray(ids)
        if array.dtype.kind not in "iu":
            raise TypeError(f"ids holds {array.dtype}; expected integer token ids")
        if array.ndim == 1:
            array = array[None]
        if array.ndim != 2:
            raise ValueError(f"ids has shape {tuple(array.shape)}; expected (n, steps)")
        limits = [array.shape[1]] * array.shape[0]
        if lengths is not None:
            limits = [int(v) for v in np.asarray(lengths).reshape(-1)]
            if len(limits) != array.shape[0]:
                raise ValueError(f"lengths has {len(limits)} values for {array.shape[0]} rows of "
                                 "ids")
        strings = []
        for row, limit in zip(array.tolist(), limits):
            characters = []
            for token in row[:limit]:
                if token in (self.END, self.PADDING):
                    break
                index = token - self.RESERVED
                characters.append(self._characters[index] if 0 <= index < len(self._characters)
                                  else self.unknown_character)
            strings.append("".join(characters))
        return strings

    # ---- Storage ----

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-able description (what :meth:`save` writes and :meth:`from_dict` reads)."""
        return {"format": "autoencoders.character_vocabulary", "version": 1,
                "characters": self._characters, "unknown": self.unknown,
                "unknown_character": self.unknown_character,
                "reserved": {"padding": self.PADDING, "unknown": self.UNKNOWN, "end": self.END}}

    @classmethod
    def from_dict(cls, data: Any) -> "CharacterVocabulary":
        """The vocabulary :meth:`to_dict` described; ValueError for anything else."""
        if not isinstance(data, dict) or data.get("format") != "autoencoders.character_vocabulary":
            raise ValueError("not a character vocabulary (expected the JSON object that "
                             "CharacterVocabulary.to_dict writes)")
        if data.get("version") != 1:
            raise ValueError(f"character vocabulary version {data.get('version')!r}; this "
                             "package reads version 1")
        characters = data.get("characters")
        if not isinstance(characters, str):
            raise ValueError("character vocabulary: 'characters' must be a string")
        return cls(characters, unknown=data.get("unknown", "replace"),
                   unknown_character=data.get("unknown_character", "\ufffd"))

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes :meth:`to_dict` as JSON (UTF-8) to ``path``, atomically (a temporary file in
        the same folder, renamed over ``path``)."""
        path = os.fspath(path)
        temporary = f"{path}.tmp-{os.getpid()}"
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(self.to_dict(), file, ensure_ascii=False)
                file.write("\n")
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "CharacterVocabulary":
        """Reads a vocabulary written by :meth:`save`."""
        with open(os.fspath(path), encoding="utf-8") as file:
            text = file.read(1 << 24)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{os.fspath(path)}: not a character vocabulary: {error}") from None
        return cls.from_dict(data)

    # ---- Python protocols ----

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CharacterVocabulary):
            return NotImplemented
        return (self._characters, self.unknown, self.unknown_character) == \
            (other._characters, other.unknown, other.unknown_character)

    def __hash__(self) -> int:
        return hash((self._characters, self.unknown, self.unknown_character))

    def __repr__(self) -> str:
        shown = self._characters if len(self._characters) <= 40 else self._characters[:37] + "..."
        return (f"CharacterVocabulary({shown!r}, unknown={self.unknown!r}) "
                f"# {self.size} ids")

    def __getstate__(self) -> Dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: Dict[str, Any]) -> None:
        restored = CharacterVocabulary.from_dict(state)
        self.__dict__.update(restored.__dict__)
