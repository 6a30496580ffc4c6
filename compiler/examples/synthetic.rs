//! Prints the reference workload spec of N services: `cargo run --release --example synthetic -- 1000 > bench.kdl`.

fn main() {
    let n = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    print!("{}", hawser::synthetic::spec(n));
}
