# Thin wrapper; the work is done by scripts/ (see README.md).
.PHONY: all build demo test bench clean distclean

all: build

build:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j $$(nproc)

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "bench/run.sh does not exist yet"; exit 1; fi

clean:
	bash scripts/pg.sh destroy .data/test-pg
	rm -rf build build-asan

distclean: clean
	bash scripts/pg.sh destroy .data/pg
	rm -rf .data bench/out tests/node_modules
