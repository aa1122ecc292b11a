"""The bindings against the header: every function bound with matching prototypes, struct
layouts as C sees them, the version, and the library search order."""

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import autoencoders as ae
from autoencoders import _library
from conftest import BUILD, HEADER, PACKAGE_ROOT

DECLARATION = re.compile(r"^AE_API\s+([^;()#]*?)\b(ae_\w+)\s*\(([^)]*)\)\s*;", re.S | re.M)


def header_functions():
    """{name: (return type, [parameter types])} of every AE_API declaration in the header."""
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    functions = {}
    for match in DECLARATION.finditer(text):
        return_type, name, parameters = match.groups()
        types = []
        if parameters.strip() != "void":
            for parameter in parameters.split(","):
                parameter = " ".join(parameter.replace("*", " * ").split())
                type_part = re.sub(r"\s*\b\w+$", "", parameter)  # drop the parameter's name
                types.append(type_part)
        functions[name] = (" ".join(return_type.replace("*", " * ").split()), types)
    return functions


def expected_ctype(c_type):
    """The ctypes type a C type (as spelled in the header) must be bound as."""
    spelled = " ".join(word for word in c_type.split() if word != "const")
    base = spelled.replace("*", "").strip()
    stars = spelled.count("*")
    scalars = {"void": None, "int": ctypes.c_int, "size_t": ctypes.c_size_t,
               "double": ctypes.c_double, "float": ctypes.c_float, "ae_status": ctypes.c_int,
               "ae_scaling_kind": ctypes.c_int, "ae_model": _library.ae_model,
               "ae_trainer": _library.ae_trainer, "ae_train_options": _library.ae_train_options,
               "ae_train_report": _library.ae_train_report, "char": ctypes.c_char,
               "int32_t": ctypes.c_int32, "uint64_t": ctypes.c_uint64,
               "ae_sample_source_fn": _library.ae_sample_source_fn}
    assert base in scalars, f"unknown C type {c_type!r}: extend the test's table"
    result = scalars[base]
    if base == "char" and stars:
        result, stars = ctypes.c_char_p, stars - 1
    elif base == "void" and stars:
        result, stars = ctypes.c_void_p, stars - 1
    for _ in range(stars):
        result = ctypes.POINTER(result)
    return result


def test_header_parses_into_all_functions():
    functions = header_functions()
    assert len(functions) >= 40
    assert "ae_model_create" in functions and "ae_trainer_step" in functions
    assert functions["ae_model_encode"][1][0] == "const ae_model *"


def test_every_header_function_is_bound_and_nothing_else():
    declared = set(header_functions())
    bound = set(_library.PROTOTYPES)
    assert declared - bound == set(), "functions of the header without bindings"
    assert bound - declared == set(), "bindings of functions the header does not declare"


@pytest.mark.parametrize("name", sorted(header_functions()))
def test_prototype_matches_header(name):
    return_type, parameter_types = header_functions()[name]
    restype, argtypes = _library.PROTOTYPES[name]
    assert len(argtypes) == len(parameter_types), f"{name}: parameter count"
    assert restype == expected_ctype(return_type), f"{name}: return type {return_type}"
    for index, (c_type, bound) in enumerate(zip(parameter_types, argtypes)):
        assert bound == expected_ctype(c_type), f"{name}: parameter {index} ({c_type})"
    function = getattr(_library.lib, name)
    assert function.argtypes == argtypes and function.restype == restype, "declared on the library"


def test_struct_layouts_match_c(compile_c, tmp_path):
    fields = {
        "ae_progress": [f for f, _ in _library.ae_progress._fields_],
        "ae_train_options": [f for f, _ in _library.ae_train_options._fields_],
        "ae_train_report": [f for f, _ in _library.ae_train_report._fields_],
    }
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <autoencoders.h>",
             "int main(void) {"]
    for struct, names in fields.items():
        lines.append(f'    printf("{struct} sizeof %zu\\n", sizeof({struct}));')
        for field in names:
            lines.append(f'    printf("{struct} {field} %zu\\n", offsetof({struct}, {field}));')
    lines += ["    return 0;", "}"]
    program = compile_c("\n".join(lines), "layouts")
    output = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        struct, field, value = line.split()
        cls = getattr(_library, struct)
        if field == "sizeof":
            assert ctypes.sizeof(cls) == int(value), f"sizeof({struct})"
        else:
            assert getattr(cls, field).offset == int(value), f"{struct}.{field}"
    # And the header declares no field the binding lacks: count them.
    text = HEADER.read_text()
    for struct, names in fields.items():
        body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (struct, struct), text, re.S).group(1)
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        assert body.count(";") == len(names), f"{struct}: field count"


def test_version_comes_from_the_library_and_matches_the_header():
    text = HEADER.read_text()
    numbers = [re.search(rf"#define AE_VERSION_{part} (\d+)", text).group(1)
               for part in ("MAJOR", "MINOR", "PATCH")]
    assert ae.__version__ == ".".join(numbers)
    assert ae.__version__ == _library.lib.ae_version_string().decode()


def test_library_defaults_of_train_options():
    options = _library.ae_train_options()
    assert _library.lib.ae_train_options_init(ctypes.byref(options), ctypes.sizeof(options)) == 0
    assert options.struct_size == ctypes.sizeof(options)
    assert (options.epochs, options.batch_size, options.shuffle, options.restore_best_weights) == (10, 32, 1, 1)


# ---- Search order (each case in a fresh interpreter) -----------------------------------------

def _import_in_subprocess(package_parent, env_extra, cwd):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(package_parent),
           "PYTHONNOUSERSITE": "1"}
    env.update(env_extra)
    code = "import autoencoders as ae; print(ae.library_path); print(ae.__version__)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(cwd), timeout=60)


def _copy_package(destination):
    shutil.copytree(PACKAGE_ROOT / "autoencoders", destination / "autoencoders",
                    ignore=shutil.ignore_patterns("__pycache__", "_lib"))


def test_checkout_uses_repository_build(tmp_path):
    result = _import_in_subprocess(PACKAGE_ROOT, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.split()[0]) == BUILD / "lib" / "libautoencoders.so.0"


def test_environment_variable_wins(tmp_path):
    copy = tmp_path / "elsewhere" / "libautoencoders.so.0"
    copy.parent.mkdir()
    shutil.copyfile(BUILD / "lib" / "libautoencoders.so.0", copy)
    for value in (str(copy), str(copy.parent)):  # a file, or a folder holding it
        result = _import_in_subprocess(PACKAGE_ROOT, {"AUTOENCODERS_LIBRARY": value}, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[0] == str(copy)


def test_environment_variable_pointing_nowhere_fails_clearly(tmp_path):
    result = _import_in_subprocess(PACKAGE_ROOT, {"AUTOENCODERS_LIBRARY": str(tmp_path / "none.so")},
                                   tmp_path)
    assert result.returncode != 0
    assert "AUTOENCODERS_LIBRARY" in result.stderr and "does not exist" in result.stderr


def test_bundled_copy_comes_before_the_repository(tmp_path):
    _copy_package(tmp_path)
    bundled = tmp_path / "autoencoders" / "_lib" / "libautoencoders.so.0"
    bundled.parent.mkdir()
    shutil.copyfile(BUILD / "lib" / "libautoencoders.so.0", bundled)
    result = _import_in_subprocess(tmp_path, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == str(bundled)


def test_system_loader_is_the_last_resort(tmp_path):
    _copy_package(tmp_path)  # outside the repository, nothing bundled
    result = _import_in_subprocess(tmp_path, {"LD_LIBRARY_PATH": str(BUILD / "lib")}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "libautoencoders.so" in result.stdout.split()[0]
    result = _import_in_subprocess(tmp_path, {}, tmp_path)
    assert result.returncode != 0
    assert "make library" in result.stderr and "AUTOENCODERS_LIBRARY" in result.stderr
