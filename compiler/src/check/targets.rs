//! What the targets support and what they derive from the model, where the checks need
//! it as much as the emitters: a check runs before any emitter and must hold a spec to
//! what the emitters will do. Each emitter re-exports what it uses of this.

/// systemd hosts.
pub mod systemd {
    /// systemd versions where a feature the units use arrived; below them the units fall
    /// back (docs/artifacts.md lists each fallback).
    pub mod since {
        /// `LoadCredential=` and `$CREDENTIALS_DIRECTORY`.
        pub const LOAD_CREDENTIAL: u32 = 247;
        /// `LoadCredential=ID` looked up in the credential store, and the `%d` specifier.
        pub const CREDSTORE: u32 = 251;
        /// `Restart=on-failure` on a `Type=oneshot` unit (older versions refuse the unit).
        pub const ONESHOT_RESTART: u32 = 244;
        /// `AmbientCapabilities=`: a non-root service binding a port below 1024.
        pub const AMBIENT_CAPABILITIES: u32 = 229;
        /// `OnCalendar=` with a time zone (`UTC`).
        pub const CALENDAR_TIMEZONE: u32 = 228;
        /// `StateDirectory=` and `CacheDirectory=`.
        pub const STATE_DIRECTORY: u32 = 235;
        /// `BindPaths=` and `BindReadOnlyPaths=`: volumes and files at the spec's paths.
        pub const BIND_PATHS: u32 = 233;
        /// `MemoryMax=`; `MemoryLimit=` before it.
        pub const MEMORY_MAX: u32 = 231;
        /// `RestartSteps=` and `RestartMaxDelaySec=`: a growing delay between restarts.
        pub const RESTART_BACKOFF: u32 = 254;
    }
}

/// Kubernetes clusters.
pub mod kubernetes {
    use crate::check::model::{Environment, Platform};

    /// The oldest Kubernetes the objects need: CronJob `timeZone` and PodDisruptionBudget
    /// `unhealthyPodEvictionPolicy` (both on by default since 1.27), topology spread's
    /// `matchLabelKeys` (beta, on by default, since 1.27).
    pub const OLDEST_VERSION: (u32, u32) = (1, 27);
    /// The first Kubernetes that runs a `preStop` sleep by default (beta in 1.30).
    pub const PRE_STOP_SLEEP_VERSION: (u32, u32) = (1, 30);
    /// The pod volume of a workload's configuration files; hawser's other pod volumes are
    /// `tmp` and `secret-<name>`. A spec's volume cannot take these names.
    pub const FILES_VOLUME: &str = "files";

    /// The namespace of a Kubernetes environment, `None` for other platforms.
    pub fn namespace(environment: &Environment) -> Option<&str> {
        match &environment.platform {
            Some(Platform::Kubernetes { namespace }) => Some(namespace.value.as_str()),
            _ => None,
        }
    }
}

/// Binaries built from source.
pub mod build {
    use crate::check::model::{Source, Workload};

    /// The binary a workload built from source produces, and its main package.
    pub fn binary(w: &Workload) -> Option<(&str, &str)> {
        match &w.source {
            Some(Source::Build { main, binary, .. }) => Some((binary.as_deref().unwrap_or(&w.name.value), &main.value)),
            _ => None,
        }
    }
}
