//! The platforms Go 1.23 builds for (`stdlib/go-platforms.txt`, embedded), and how a
//! static, cgo-free build of each comes out: what the `platform` type accepts and what
//! build.sh checks per platform.

/// `go tool dist list` of Go 1.23, with how a `CGO_ENABLED=0` build of each comes out.
pub const PLATFORMS: &str = include_str!("../../../stdlib/go-platforms.txt");

/// How a static, cgo-free build of a platform comes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linking {
    /// A statically linked ELF executable: build.sh checks that it is.
    Static,
    /// An executable linked to the system's C library by design (macOS, illumos, OpenBSD,
    /// Android): there is no static form to check.
    Dynamic,
    /// Not an ELF executable (Windows, AIX, Plan 9, WebAssembly): nothing to check.
    Other,
    /// Go cannot link it without cgo (Android but arm64, iOS).
    NeedsCgo,
}

/// Every platform of the list, with its linking, in the list's order.
pub fn platforms() -> impl Iterator<Item = (&'static str, Linking)> {
    entries().map(|(p, l, _)| (p, l))
}

fn entries() -> impl Iterator<Item = (&'static str, Linking, bool)> {
    PLATFORMS.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| {
        let mut words = l.split_whitespace();
        let platform = words.next()?;
        let linking = match words.next()? {
            "static" => Linking::Static,
            "dynamic" => Linking::Dynamic,
            "other" => Linking::Other,
            "cgo" => Linking::NeedsCgo,
            _ => return None,
        };
        Some((platform, linking, words.next() == Some("readable")))
    })
}

/// Whether `go version -m` reads a platform's build information back (not from AIX,
/// Plan 9 or WebAssembly binaries).
pub fn build_info_readable(platform: &str) -> bool {
    entries().any(|(p, _, readable)| p == platform && readable)
}

/// How a platform's builds come out; `None` for a pair Go does not support.
pub fn linking(platform: &str) -> Option<Linking> {
    platforms().find(|(p, _)| *p == platform).map(|(_, l)| l)
}

/// The file name suffix of a platform's executables.
pub fn executable_suffix(platform: &str) -> &'static str {
    match platform.split('/').next() {
        Some("windows") => ".exe",
        Some("js" | "wasip1") => ".wasm",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list is `go tool dist list` of Go 1.23, pair for pair, when that
    /// toolchain is installed (the validators install it as `go1.23`).
    #[test]
    fn the_list_is_go_1_23s() {
        let listed: Vec<&str> = platforms().map(|(p, _)| p).collect();
        assert!(listed.len() >= 49, "{listed:?}");
        assert!(listed.contains(&"openbsd/amd64") && listed.contains(&"linux/riscv64"));
        let mut sorted = listed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, listed, "sorted and unique");
        let go = std::path::Path::new("/opt/validators/bin/go1.23");
        if !go.exists() {
            assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{} is not installed in CI", go.display());
            eprintln!("WARNING: skipped comparing with `go tool dist list`: {} is not installed", go.display());
            return;
        }
        let out = std::process::Command::new(go).args(["tool", "dist", "list"]).env("GOTOOLCHAIN", "local").output().expect("go runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let dist: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
        assert_eq!(listed, dist);
    }

    #[test]
    fn linking_and_suffixes() {
        assert_eq!(linking("linux/amd64"), Some(Linking::Static));
        assert_eq!(linking("darwin/arm64"), Some(Linking::Dynamic));
        assert_eq!(linking("windows/amd64"), Some(Linking::Other));
        assert_eq!(linking("ios/arm64"), Some(Linking::NeedsCgo));
        assert_eq!(linking("linux/x86_64"), None);
        assert_eq!(executable_suffix("windows/arm64"), ".exe");
        assert_eq!(executable_suffix("wasip1/wasm"), ".wasm");
        assert_eq!(executable_suffix("linux/arm64"), "");
    }
}
