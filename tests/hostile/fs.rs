//! Hostile cases about files: confinement, the output directory, concurrent runs, `fmt` and the lock.
