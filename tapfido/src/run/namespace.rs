//! The private mount namespace of `tapfido run`.
//!
//! ```text
//!  tapfido run ARGS -- CMD             (the caller's namespaces)
//!   └─ unshare --mount [--user --map-root-user] --propagation private \
//!        -- tapfido run --in-namespace ARGS -- CMD
//!        ├─ tmpfs on /run/pcscd        (or, when /run/pcscd is absent, a tmpfs
//!        │                              on /run with the old entries bound back)
//!        ├─ empty tmpfs on pcscd's USB driver directories (no real readers)
//!        ├─ pcscd --foreground -c /run/pcscd/tapfido/reader.conf.d
//!        ├─ the cards (in-process) and the control API
//!        └─ CMD
//! ```
//!
//! The namespace is made by util-linux's `unshare`, which then executes
//! `tapfido` again inside it: the workspace forbids `unsafe` code, and the
//! `unshare(2)` + uid-map dance is exactly what that small, ubiquitous tool
//! does. Root gets a mount namespace only; anyone else also gets a user
//! namespace in which they are root (`unshare -Ur`), where the kernel
//! allows unprivileged user namespaces.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rustix::mount::{self, MountFlags, MountPropagationFlags, UnmountFlags};

/// pcscd's socket directory; private in the namespace.
pub const PCSCD_DIR: &str = "/run/pcscd";

/// The hidden flag that marks the second stage.
pub const INNER_FLAG: &str = "--in-namespace";

/// `true` when this process runs as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The `unshare` command that runs `tapfido run --in-namespace ARGS` in a
/// private mount namespace (and a user namespace when not root).
pub fn unshare_command(exe: &Path, run_args: &[OsString]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(unshare_flags(is_root()));
    cmd.arg("--")
        .arg(exe)
        .arg("run")
        .arg(INNER_FLAG)
        .args(run_args);
    cmd
}

fn unshare_flags(root: bool) -> Vec<&'static str> {
    let mut flags = vec!["--mount", "--propagation", "private"];
    if !root {
        flags.extend(["--user", "--map-root-user"]);
    }
    flags
}

/// Check that `unshare` exists and may make the namespaces, with
/// `unshare FLAGS -- true`; the error names what is missing.
pub fn preflight() -> Result<(), String> {
    let root = is_root();
    let out = Command::new("unshare")
        .args(unshare_flags(root))
        .args(["--", "true"])
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err("`unshare` was not found: install util-linux \
                        (Debian: apt-get install util-linux)"
                .to_owned())
        }
        Err(e) => return Err(format!("cannot run `unshare` (util-linux): {e}")),
    };
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if root {
        return Err(format!(
            "cannot create a private mount namespace ({said}): the container or seccomp \
             profile forbids unshare(CLONE_NEWNS); run with CAP_SYS_ADMIN (docker: \
             --cap-add SYS_ADMIN, or --privileged)"
        ));
    }
    Err(format!(
        "not root and cannot create an unprivileged user namespace ({said}). {} \
         Run `tapfido run` as root (sudo), or allow unprivileged user namespaces.",
        userns_diagnosis()
    ))
}

/// Which kernel setting forbids unprivileged user namespaces, when one does.
fn userns_diagnosis() -> String {
    diagnose_userns(|path| fs::read_to_string(path).ok().map(|s| s.trim().to_owned()))
}

/// [`userns_diagnosis`] over a sysctl reader (`/proc/sys/...` path → value).
fn diagnose_userns(read: impl Fn(&str) -> Option<String>) -> String {
    let mut found = Vec::new();
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        found.push(
            "kernel.unprivileged_userns_clone = 0 (sysctl -w kernel.unprivileged_userns_clone=1)",
        );
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        found.push("user.max_user_namespaces = 0 (sysctl -w user.max_user_namespaces=15000)");
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        found.push(
            "AppArmor restricts unprivileged user namespaces, as on Ubuntu 24.04 \
             (sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)",
        );
    }
    if found.is_empty() {
        "No known sysctl forbids them: a container runtime's seccomp profile may.".to_owned()
    } else {
        format!("Found: {}.", found.join("; "))
    }
}

/// `true` when this process's mount namespace differs from its parent's;
/// `None` when that cannot be read.
pub fn in_private_mount_ns() -> Option<bool> {
    let parent = rustix::process::getppid()?.as_raw_nonzero().get();
    let ours = fs::read_link("/proc/self/ns/mnt").ok()?;
    let theirs = fs::read_link(format!("/proc/{parent}/ns/mnt")).ok()?;
    Some(ours != theirs)
}

/// What [`make_private_run`] did, to undo before the run directory goes.
#[derive(Debug, Default)]
pub struct PrivateRun {
    /// Directory that held the old `/run` while it was bound back, if used.
    pub staging: Option<PathBuf>,
}

/// Give this namespace its own `/run/pcscd` (a fresh tmpfs), without
/// touching the caller's. `staging` is an empty directory of this run,
/// used only when `/run/pcscd` does not exist.
///
/// When `/run/pcscd` exists it is simply covered by the tmpfs. When it does
/// not (no pcscd ever ran, no systemd socket unit), it cannot be created
/// outside the namespace without changing the system, so `/run` itself is
/// covered by a tmpfs and each of its old entries is bound back into it
/// (directories, files and sockets by bind mount, symlinks recreated), then
/// `/run/pcscd` is made in the tmpfs.
pub fn make_private_run(staging: &Path) -> io::Result<PrivateRun> {
    // Nothing done here may propagate back to the caller's namespace.
    mount::mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
    )
    .map_err(|e| ctx(e.into(), "make / private"))?;
    let pcscd = Path::new(PCSCD_DIR);
    if pcscd.is_dir() {
        mount_tmpfs(pcscd)?;
        return Ok(PrivateRun::default());
    }
    let run = Path::new("/run");
    fs::create_dir_all(staging).map_err(|e| ctx(e, "create staging dir"))?;
    mount::mount_bind_recursive(run, staging).map_err(|e| ctx(e.into(), "bind /run"))?;
    mount_tmpfs(run)?;
    for entry in fs::read_dir(staging).map_err(|e| ctx(e, "list /run"))? {
        let entry = entry?;
        let name = entry.file_name();
        let from = entry.path();
        let to = run.join(&name);
        let kind = entry.file_type()?;
        let result = if kind.is_symlink() {
            fs::read_link(&from).and_then(|target| std::os::unix::fs::symlink(target, &to))
        } else {
            let made = if kind.is_dir() {
                fs::create_dir(&to)
            } else {
                fs::File::create(&to).map(drop)
            };
            made.and_then(|()| mount::mount_bind_recursive(&from, &to).map_err(io::Error::from))
        };
        if let Err(e) = result {
            tracing::warn!(entry = %to.display(), %e, "cannot carry over into the private /run");
        }
    }
    fs::create_dir(pcscd).map_err(|e| ctx(e, "create /run/pcscd"))?;
    mount::unmount(staging, UnmountFlags::DETACH).map_err(|e| ctx(e.into(), "detach staging"))?;
    Ok(PrivateRun {
        staging: Some(staging.to_path_buf()),
    })
}

/// Where pcscd looks for USB reader drivers (its hotplug `DROPDIR`) on
/// Debian/Ubuntu, Fedora/RHEL and a source build.
pub const USB_DRIVER_DIRS: [&str; 3] = [
    "/usr/lib/pcsc/drivers",
    "/usr/lib64/pcsc/drivers",
    "/usr/local/lib/pcsc/drivers",
];

/// Cover every existing [`USB_DRIVER_DIRS`] with an empty read-only tmpfs,
/// in this namespace only: the private pcscd then loads no USB driver and
/// hotplug adds no real reader.
pub fn hide_usb_drivers() -> io::Result<()> {
    for dir in USB_DRIVER_DIRS
        .map(Path::new)
        .into_iter()
        .filter(|d| d.is_dir())
    {
        mount::mount(
            "tmpfs",
            dir,
            "tmpfs",
            MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC | MountFlags::RDONLY,
            Some(c"mode=0755"),
        )
        .map_err(|e| ctx(e.into(), &format!("mount a tmpfs on {}", dir.display())))?;
    }
    Ok(())
}

fn mount_tmpfs(target: &Path) -> io::Result<()> {
    mount::mount(
        "tmpfs",
        target,
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(c"mode=0755"),
    )
    .map_err(|e| ctx(e.into(), &format!("mount a tmpfs on {}", target.display())))
}

/// `true` when something is mounted on `path` or below it in this
/// namespace (`/proc/self/mountinfo`); a directory in that state must not
/// be removed recursively.
pub fn has_mounts_under(path: &Path) -> bool {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return true;
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|point| Path::new(&unescape_mountinfo(point)).starts_with(path))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .and_then(|d| {
                let v = d.iter().fold(0u16, |v, b| v * 8 + u16::from(b - b'0'));
                u8::try_from(v).ok()
            });
        if let Some(v) = octal {
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ctx(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_gets_a_mount_namespace_others_also_a_user_namespace() {
        assert_eq!(unshare_flags(true), ["--mount", "--propagation", "private"]);
        assert_eq!(
            unshare_flags(false),
            [
                "--mount",
                "--propagation",
                "private",
                "--user",
                "--map-root-user"
            ]
        );
    }

    #[test]
    fn the_sysctl_that_forbids_user_namespaces_is_named() {
        let ubuntu = diagnose_userns(|p| {
            p.ends_with("apparmor_restrict_unprivileged_userns")
                .then(|| "1".to_owned())
        });
        assert!(
            ubuntu.contains("kernel.apparmor_restrict_unprivileged_userns=0"),
            "{ubuntu}"
        );
        let debian = diagnose_userns(|p| {
            p.ends_with("unprivileged_userns_clone")
                .then(|| "0".to_owned())
        });
        assert!(
            debian.contains("kernel.unprivileged_userns_clone=1"),
            "{debian}"
        );
        let allowed = |p: &str| Some(if p.contains("apparmor") { "0" } else { "1" }.to_owned());
        let none = diagnose_userns(allowed);
        assert!(none.contains("seccomp"), "{none}");
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo("/tmp/a\\040b"), "/tmp/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo("/end\\"), "/end\\");
    }

    #[test]
    fn the_root_mount_is_seen_under_slash() {
        assert!(has_mounts_under(Path::new("/")));
    }
}
