# The autoencoders runtime: build, test, demo, benchmark, install and package.
#
#   make            build the library, the command-line tool and the C examples into build/
#   make test       run every test (Swift, C ABI, valgrind, command-line tool, installation)
#   make demo       train on MNIST, save, reload from C, print the quality figures, write pictures
#   make bench      the benchmark workloads, alternating with PyTorch / ONNX Runtime in the same run
#   make bench-setup   the venv with PyTorch and ONNX Runtime that `make bench` compares against
#   make bench-startup where the cold start's milliseconds and W1 training's MiB go, stage by stage
#   make bench-distributed   data-parallel figures over MPI and the scaling model (docs/BENCHMARKS.md)
#   make install    install into $(DESTDIR)$(PREFIX) (default /usr/local): header, library with
#                   its soname links, the command-line tool, pkg-config and CMake files
#   make uninstall  remove what `make install` put there
#   make wheel      build a manylinux Python wheel with the library and OpenBLAS inside (build/wheel/)
#
# build/ is laid out like an installed package: include/, lib/ (libautoencoders.so, stripped,
# with its soname libautoencoders.so.0) and bin/autoencoders (stripped, Swift runtime linked in).
SWIFT ?= swift
PYTHON ?= python3
STAGE := $(CURDIR)/build
PREFIX ?= /usr/local
DESTDIR ?=
LIBRARY := .build/release/libautoencoders.so

all: library cli examples

# The project's own release builds take -Ounchecked: it drops the overflow and bounds traps of the
# hot loops (worth 20-40 % on inference and convolutions here, docs/BENCHMARKS.md). Sizes do not
# depend on it: they are checked explicitly (Tensor/Size.swift), and the fuzzing build keeps every
# check. Swift packages that depend on this one build it with plain -O (SwiftPM refuses unsafe
# flags in a versioned dependency). SWIFT_RELEASE_FLAGS= builds with -O here too.
# -Xcc -gdwarf-4: the C target's (CGemm) debug information in the DWARF version the Swift code
# uses, which valgrind 3.19 reads (it gives up on clang's default DWARF 5).
SWIFT_RELEASE_FLAGS ?= -Xswiftc -Ounchecked -Xcc -gdwarf-4
swift-release:
	$(SWIFT) build -c release $(SWIFT_RELEASE_FLAGS)

library: swift-release
	@mkdir -p $(STAGE)/lib $(STAGE)/include
	cp include/autoencoders.h $(STAGE)/include/
	strip --strip-unneeded -o $(STAGE)/lib/libautoencoders.so.0 $(LIBRARY)
	ln -sf libautoencoders.so.0 $(STAGE)/lib/libautoencoders.so

cli: swift-release
	@mkdir -p $(STAGE)/bin
	strip -o $(STAGE)/bin/autoencoders .build/release/autoencoders-cli

examples: library
	$(MAKE) -C examples/c AE_PREFIX=$(STAGE)

# All or nothing: packaging/install.sh checks every destination first, and undoes a failed copy.
install: library cli
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" STAGE="$(STAGE)" packaging/install.sh install

uninstall:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" packaging/install.sh uninstall

# A manylinux wheel (auditwheel grafts OpenBLAS in); its tools live in a venv under build/.
wheel: library
	PYTHON="$(PYTHON)" packaging/wheel.sh

test: all
	scripts/test.sh

demo: all
	scripts/demo.sh

bench: all
	scripts/bench.sh $(BENCH_ARGS)

# GFLOP/s of GEMM for the workloads' shapes: OpenBLAS (as the environment sets it) against the
# library's own kernels (Sources/CGemm, compiled in), at 1 and 2 threads (docs/BENCHMARKS.md).
# OTHER_BLAS=path/libscipy_openblas.so adds another OpenBLAS build to the table.
BENCH_CC ?= $(shell command -v clang || echo cc)
bench-gemm:
	@mkdir -p build/bench
	$(BENCH_CC) -std=c11 -O2 -Wall -Wextra -ISources/CGemm/include -ISources/CGemm -o build/bench/gemm bench/gemm.c \
	    Sources/CGemm/*.c -lopenblas -lpthread -ldl -lm
	build/bench/gemm --threads 1 $(if $(OTHER_BLAS),--other-blas $(OTHER_BLAS))
	build/bench/gemm --threads 2 $(if $(OTHER_BLAS),--other-blas $(OTHER_BLAS))

# Where the cold start's milliseconds and W1 training's MiB go, stage by stage (bench/startup.c,
# docs/BENCHMARKS.md "Start-up and memory"): about a minute on 2 cores. BENCH_RUNS processes each.
BENCH_RUNS ?= 51
bench-startup: library
	bench/startup.sh $(BENCH_RUNS)

# The references of `make bench` (PyTorch, ONNX Runtime, onnx, numpy) in a venv of their own,
# build/bench-venv (about 1 GB; tests never use it). From PyPI; wheels in /opt/wheels are
# preferred when they fit (pip --find-links).
BENCH_VENV := build/bench-venv
bench-setup:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --upgrade pip
	$(BENCH_VENV)/bin/pip install --find-links /opt/wheels torch onnxruntime onnx numpy
	$(BENCH_VENV)/bin/python bench/reference.py --info

bench-distributed: all
	scripts/bench_distributed.sh

clean:
	rm -rf build out
	$(MAKE) -C examples/c clean

.PHONY: all swift-release library cli examples install uninstall wheel test demo bench bench-setup bench-gemm bench-startup bench-distributed clean

# Evidence for the autoencoder families (docs/RESULTS.md): about two minutes on 2 cores.
families: library
	python3 examples/python/autoencoder_families.py

.PHONY: families

# Evidence for the convolutional autoencoders, U-Net segmentation and 1-D signals (docs/RESULTS.md):
# about two to three minutes on 2 cores.
convolutional: library
	python3 examples/python/convolutional_autoencoders.py

.PHONY: convolutional

# Evidence for the variational autoencoders (docs/RESULTS.md): about two minutes on 2 cores.
variational: library
	python3 examples/python/variational_autoencoders.py

.PHONY: variational

# Evidence for the sequence autoencoders (docs/RESULTS.md): anomaly localisation on arterial blood
# pressure (UCR series 135), Japanese Vowels speech features of variable length, a character-level
# autoencoder of English words (data/signals, data/text). Needs numpy and Pillow only (the speaker
# classifier is a small logistic regression in numpy); about 5 minutes on 2 cores.
sequences: library
	python3 examples/python/sequence_autoencoders.py

.PHONY: sequences

# The core's concurrency under ThreadSanitizer: the lock, inference beside a trainer, rollback.
# Its own scratch path, so the normal debug build is not rebuilt afterwards.
tsan:
	$(SWIFT) test --scratch-path .build/tsan --sanitize=thread --filter 'ConcurrencyTests|FailedCallTests|ParallelTests.testAPartNoHelperHasTakenYetIsTakenByTheCaller|ParallelTests.testRegionsOfTwoThreadsAtOnceAreEachSplit'

.PHONY: tsan

# Fuzzing (Tests/fuzz/, docs/RELIABILITY.md): replays the regression inputs, then runs each libFuzzer
# harness for FUZZ_SECONDS seconds against an AddressSanitizer build of the core in .build-fuzz/
# (built on first use: about 3 minutes on 2 cores). CI runs 60 s per harness (scripts/test.sh).
FUZZ_SECONDS ?= 300
fuzz:
	FUZZ_SEED=$${FUZZ_SEED:-0} Tests/fuzz/run.sh $(FUZZ_SECONDS)

.PHONY: fuzz

# Evidence for volumes: the 3-D U-Net with and without its VAE branch on brain-like phantoms at 16
# and 128 training volumes (four seeds each), and a 3-D denoising autoencoder (docs/RESULTS.md,
# "Volumes"): about 7 minutes on 2 cores.
volumetric: library
	python3 examples/python/volumetric_autoencoders.py

.PHONY: volumetric

# Evidence for adversarial autoencoders (docs/RESULTS.md, "Adversarial autoencoders"): a 2-D code with
# a 10-component mixture prior on MNIST (supervised and unsupervised) against a VAE, pictures and a
# kernel two-sample test. Needs numpy and Pillow only; about 3 minutes on 2 cores.
adversarial: library
	python3 examples/python/adversarial.py

.PHONY: adversarial

# Evidence for compression (docs/RESULTS.md, "Compression"): dense and convolutional autoencoders
# with 4- to 8-bit quantisers against JPEG and PNG on the 1,000 MNIST test images, bits per pixel
# against PSNR. Needs numpy and Pillow only; about 4 minutes on 2 cores.
compression: library
	python3 examples/python/compression.py

.PHONY: compression

# Evidence for int8 inference (docs/RESULTS.md and docs/BENCHMARKS.md, "int8 inference"): MNIST
# reconstruction error and one-class anomaly AUC of int8 against float models (dense and conv),
# file sizes, and W3 / W5 latency beside ONNX Runtime's quantize_dynamic model, in one run. Uses
# build/bench-venv when it exists (`make bench-setup`, for onnxruntime), else python3 (this
# library only). A few minutes on 2 cores.
INT8_PYTHON ?= $(if $(wildcard $(BENCH_VENV)/bin/python),$(BENCH_VENV)/bin/python,$(PYTHON))
int8: library
	@mkdir -p build/bench
	cc -std=c99 -O2 -Wall -Wextra -Iinclude -o build/bench/bench bench/bench.c -Lbuild/lib -Wl,-rpath,"$$PWD/build/lib" -lautoencoders -lm
	$(INT8_PYTHON) examples/python/int8_evidence.py

.PHONY: int8
