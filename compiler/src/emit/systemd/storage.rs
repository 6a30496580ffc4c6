//! What a workload keeps and reads on a host: its volumes and configuration files, mounted
//! into the service's own namespace at the paths the spec gives, so that the program finds
//! them where it finds them on Kubernetes.
//!
//! - A persistent volume is a state directory of its own (`StateDirectory=<unit>.<volume>`,
//!   `/var/lib/<unit>.<volume>`), kept across restarts and releases, and bound at its path
//!   (`BindPaths=`).
//! - An ephemeral volume is a private cache directory (`CacheDirectory=<unit>.<volume>`,
//!   `/var/cache/<unit>.<volume>`), bound at its path. It outlives a restart, as an
//!   emptyDir outlives a container restart, and holds nothing anyone must keep. A host does
//!   not bound its size; Kubernetes evicts a pod beyond it.
//!
//! The directories are not nested in the unit's own state directory: with `DynamicUser=`,
//! systemd makes each listed directory a symlink into `private/`, and a directory listed
//! inside another listed one would be created through the first one's symlink and then
//! collide with its own. A unit's name has no `.` (it is made of DNS labels), so
//! `<unit>.<volume>` is no other unit's directory.
//! - A configuration file is part of each release (`/opt/<project>/releases/<version>/
//!   files/<unit>/<name>`, mode 0444, owned by root), and the unit binds the current
//!   release's copy at its path, read-only (`BindReadOnlyPaths=`): a deploy and a rollback
//!   switch files and binaries together.
//!
//! Below the floor that has `StateDirectory=`/`CacheDirectory=` (235), the lifecycle script
//! creates the directories, owned by the unit's named user. The bind mounts need systemd
//! 233; the checker refuses volumes and files below it. A mount point that does not exist
//! on the host is created empty by the lifecycle script (a directory for a volume, an empty
//! file for a configuration file): the mounts cover it inside the service only.

use crate::check::model::Workload;

/// The writable and read-only places of one unit.
#[derive(Debug, Default)]
pub struct HostStorage {
    /// `StateDirectory=` entries beyond the unit's own: `<unit>.<volume>`.
    pub state_directories: Vec<String>,
    /// `CacheDirectory=` entries: `<unit>.<volume>`.
    pub cache_directories: Vec<String>,
    /// `BindPaths=` entries, `SOURCE:PATH`.
    pub binds: Vec<String>,
    /// `BindReadOnlyPaths=` entries, `SOURCE:PATH`.
    pub read_only_binds: Vec<String>,
    /// One comment line per volume and file, for the reviewer of the unit.
    pub notes: Vec<String>,
    /// Directories the lifecycle script creates below the floor of `StateDirectory=`.
    pub directories: Vec<String>,
    /// Mount points the lifecycle script creates when missing: (path, is a directory).
    pub mount_points: Vec<(String, bool)>,
    /// Configuration files of the release: (file of the generated directory, file of the
    /// release), both relative.
    pub files: Vec<(String, String)>,
}

/// The directory of a unit's configuration files, in the generated directory and in a release.
pub fn files_dir(unit: &str) -> String {
    format!("files/{unit}")
}

/// The volumes and files of a workload on a host of a project.
pub fn host_storage(project: &str, unit: &str, w: &Workload) -> HostStorage {
    let mut out = HostStorage::default();
    for v in &w.volumes {
        let name = &v.name.value;
        let path = &v.path.value;
        let dir = format!("{unit}.{name}");
        let source = if v.persistent {
            out.notes.push(format!("{name} at {path}: persistent, kept in /var/lib/{dir}"));
            out.state_directories.push(dir.clone());
            format!("/var/lib/{dir}")
        } else {
            out.notes.push(format!(
                "{name} at {path}: ephemeral, in /var/cache/{dir} (Kubernetes limits it to {}; a host does not)",
                v.size.text
            ));
            out.cache_directories.push(dir.clone());
            format!("/var/cache/{dir}")
        };
        out.directories.push(source.clone());
        out.binds.push(format!("{source}:{path}"));
        out.mount_points.push((path.clone(), true));
    }
    for f in &w.files {
        let rel = format!("{}/{}", files_dir(unit), f.key());
        out.notes.push(format!("{} at {}: read-only, from {}", f.key(), f.path.value, crate::emit::inert::comment(&f.source.value)));
        out.read_only_binds.push(format!("/opt/{project}/current/{rel}:{}", f.path.value));
        out.mount_points.push((f.path.value.clone(), false));
        out.files.push((rel.clone(), rel));
    }
    out
}
