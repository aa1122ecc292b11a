# The autoencoders runtime: build, test, demo and benchmark.
#
#   make            build the library, the command-line tool and the C examples into build/
#   make test       run every test (Swift, C ABI, valgrind, command-line tool)
#   make demo       train on MNIST, save, reload from C, print the quality figures, write pictures
#   make bench      print the benchmark figures beside the PyTorch / ONNX Runtime references
#
# build/ is laid out like an installed package: include/, lib/ (libautoencoders.so, stripped,
# with its soname libautoencoders.so.0) and bin/autoencoders.
SWIFT ?= swift
PREFIX := $(CURDIR)/build
LIBRARY := .build/release/libautoencoders.so

all: library cli examples

swift-release:
	$(SWIFT) build -c release

library: swift-release
	@mkdir -p $(PREFIX)/lib $(PREFIX)/include
	cp include/autoencoders.h $(PREFIX)/include/
	strip --strip-unneeded -o $(PREFIX)/lib/libautoencoders.so.0 $(LIBRARY)
	ln -sf libautoencoders.so.0 $(PREFIX)/lib/libautoencoders.so

cli: swift-release
	@mkdir -p $(PREFIX)/bin
	cp .build/release/autoencoders-cli $(PREFIX)/bin/autoencoders

examples: library
	$(MAKE) -C examples/c AE_PREFIX=$(PREFIX)

test: all
	scripts/test.sh

demo: all
	scripts/demo.sh

bench: all
	scripts/bench.sh

clean:
	rm -rf build out
	$(MAKE) -C examples/c clean

.PHONY: all swift-release library cli examples test demo bench clean

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

# Fuzzing (Tests/fuzz/, docs/RELIABILITY.md): replays the regression inputs, then runs each libFuzzer
# harness for FUZZ_SECONDS seconds against an AddressSanitizer build of the core in .build-fuzz/
# (built on first use: about 3 minutes on 2 cores). CI runs 60 s per harness (scripts/test.sh).
FUZZ_SECONDS ?= 300
fuzz:
	Tests/fuzz/run.sh $(FUZZ_SECONDS)

.PHONY: fuzz
