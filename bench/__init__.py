"""Load and scale benchmarks: `make bench` (see bench/README.md). Not part of `make test`."""
