//! Decides whether a domain's disks are on storage every node sees (validate-all, level 10):
//! a shared filesystem, a network block device, a network disk, or a path named in
//! the `shared_storage` parameter.

use std::fs;
use std::path::{Path, PathBuf};

use crate::domain_xml::{Disk, DiskSource};

/// One line of /proc/self/mountinfo that matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub point: PathBuf,
    pub fstype: String,
}

/// Filesystem types whose content is the same on every node.
pub fn is_shared_fstype(fstype: &str) -> bool {
    matches!(
        fstype,
        "nfs"
            | "nfs4"
            | "cifs"
            | "smb3"
            | "smbfs"
            | "glusterfs"
            | "ceph"
            | "gfs2"
            | "ocfs2"
            | "lustre"
            | "beegfs"
            | "gpfs"
    ) || fstype.starts_with("fuse.")
}

/// Block devices that are network storage by nature.
fn is_network_block_device(dev: &str) -> bool {
    let base = dev.rsplit('/').next().unwrap_or(dev);
    base.starts_with("rbd")
        || base.starts_with("nbd")
        || base.starts_with("drbd")
        || dev.contains("-iscsi-")
        || dev.starts_with("/dev/rbd/")
}

/// Reads the mount table (mount point, filesystem type) of this process.
pub fn read_mounts() -> Vec<Mount> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    let (left, right) = line.split_once(" - ")?;
    let point = left.split(' ').nth(4)?;
    let fstype = right.split(' ').next()?;
    Some(Mount {
        point: PathBuf::from(unescape_octal(point)),
        fstype: fstype.to_string(),
    })
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The filesystem type `path` lives on: the longest mount point that contains it.
pub fn fstype_of<'a>(path: &Path, mounts: &'a [Mount]) -> Option<&'a str> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.components().count())
        .map(|m| m.fstype.as_str())
}

/// The path with symlinks resolved, as far as it exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if parent != path => resolved(parent).join(name),
        _ => path.to_path_buf(),
    }
}

fn under_shared_path(path: &Path, shared: &[PathBuf]) -> bool {
    let path = resolved(path);
    shared.iter().any(|s| path.starts_with(resolved(s)))
}

/// Why one disk is not known to be shared, or None when it is.
pub fn disk_problem(disk: &Disk, shared: &[PathBuf], mounts: &[Mount]) -> Option<String> {
    let name = if disk.target.is_empty() {
        "disk"
    } else {
        disk.target.as_str()
    };
    let source = disk.source.as_ref()?; // an empty CD-ROM drive holds nothing
    match source {
        DiskSource::Network { .. } => None,
        DiskSource::Block(dev) => {
            if is_network_block_device(dev) || under_shared_path(Path::new(dev), shared) {
                None
            } else {
                Some(format!("{name}: block device {dev} is not known to be shared (not rbd/nbd/drbd/iSCSI; list it in shared_storage)"))
            }
        }
        DiskSource::Volume { pool, volume } => {
            Some(format!("{name}: storage pool volume {pool}/{volume} cannot be checked; use a file, block or network disk"))
        }
        DiskSource::File(p) | DiskSource::Dir(p) => {
            let path = Path::new(p);
            if under_shared_path(path, shared) {
                return None;
            }
            match fstype_of(&resolved(path), mounts) {
                Some(t) if is_shared_fstype(t) => None,
                Some(t) => Some(format!("{name}: {p} is on a local {t} filesystem (not shared; list its directory in shared_storage if it is)")),
                None => Some(format!("{name}: {p}: cannot tell its filesystem")),
            }
        }
    }
}

/// All problems of a domain's disks, empty when every disk is on shared storage.
pub fn problems(disks: &[Disk], shared: &[PathBuf], mounts: &[Mount]) -> Vec<String> {
    disks
        .iter()
        .filter_map(|d| disk_problem(d, shared, mounts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts() -> Vec<Mount> {
        vec![
            Mount {
                point: "/".into(),
                fstype: "ext4".into(),
            },
            Mount {
                point: "/srv/nfs".into(),
                fstype: "nfs4".into(),
            },
            Mount {
                point: "/srv/gluster".into(),
                fstype: "fuse.glusterfs".into(),
            },
            Mount {
                point: "/srv/nfs/local".into(),
                fstype: "xfs".into(),
            },
        ]
    }

    fn file(p: &str) -> Disk {
        Disk {
            target: "vda".into(),
            source: Some(DiskSource::File(p.into())),
        }
    }

    #[test]
    fn shared_filesystems_and_network_disks_pass() {
        let m = mounts();
        assert_eq!(disk_problem(&file("/srv/nfs/vm.qcow2"), &[], &m), None);
        assert_eq!(disk_problem(&file("/srv/gluster/a/vm.raw"), &[], &m), None);
        let rbd = Disk {
            target: "vdb".into(),
            source: Some(DiskSource::Network {
                protocol: "rbd".into(),
                name: "p/i".into(),
            }),
        };
        assert_eq!(disk_problem(&rbd, &[], &m), None);
        let dev = Disk {
            target: "vdc".into(),
            source: Some(DiskSource::Block("/dev/rbd0".into())),
        };
        assert_eq!(disk_problem(&dev, &[], &m), None);
        let cdrom = Disk {
            target: "hdc".into(),
            source: None,
        };
        assert_eq!(disk_problem(&cdrom, &[], &m), None);
    }

    #[test]
    fn local_disks_fail_unless_named_shared() {
        let m = mounts();
        let p = disk_problem(&file("/var/lib/libvirt/images/vm.qcow2"), &[], &m).expect("local");
        assert!(p.contains("vda") && p.contains("ext4"), "{p}");
        let p =
            disk_problem(&file("/srv/nfs/local/vm.qcow2"), &[], &m).expect("nested local mount");
        assert!(p.contains("xfs"), "{p}");
        assert_eq!(
            disk_problem(
                &file("/var/lib/libvirt/images/vm.qcow2"),
                &["/var/lib/libvirt".into()],
                &m
            ),
            None
        );
        let dev = Disk {
            target: "vdc".into(),
            source: Some(DiskSource::Block("/dev/sda".into())),
        };
        assert!(disk_problem(&dev, &[], &m).is_some());
        let vol = Disk {
            target: "vdd".into(),
            source: Some(DiskSource::Volume {
                pool: "p".into(),
                volume: "v".into(),
            }),
        };
        assert!(disk_problem(&vol, &[], &m).is_some());
    }

    #[test]
    fn mountinfo_lines_parse_with_escapes() {
        let m = parse_mountinfo_line(
            "36 35 0:52 / /mnt/my\\040share rw,relatime shared:1 - nfs4 srv:/x rw",
        )
        .expect("parses");
        assert_eq!(
            m,
            Mount {
                point: "/mnt/my share".into(),
                fstype: "nfs4".into()
            }
        );
        assert!(read_mounts().iter().any(|m| m.point == Path::new("/")));
    }
}
