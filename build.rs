//! Records the git commit the binary is built from, for `--version` and
//! every manifest.json: `FLEKSIM_GIT_COMMIT` (the full hash, or `unknown`
//! when git or the repository is absent, e.g. a build from a tarball) and
//! `FLEKSIM_GIT_DIRTY` (`true` when tracked files differ from the commit,
//! `false`, or `unknown`).

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

fn main() {
    // Rebuild when the sources or the checked-out commit change. Without
    // any rerun-if-changed line Cargo would rerun this on every change of
    // any file in the package; with these it reruns when the crate itself
    // would be rebuilt, or HEAD, the branch it points to, or the index move.
    for p in ["build.rs", "Cargo.toml", "src", "scenarios"] {
        println!("cargo:rerun-if-changed={p}");
    }
    // Only this package's own repository counts: a source archive unpacked
    // inside some other checkout must not record that checkout's commit.
    let own = git(&["rev-parse", "--show-toplevel"]).is_some_and(|top| {
        let here = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        match (
            Path::new(&top).canonicalize(),
            Path::new(&here).canonicalize(),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    });
    let commit = own
        .then(|| git(&["rev-parse", "HEAD"]))
        .flatten()
        .filter(|c| c.len() >= 7 && c.chars().all(|ch| ch.is_ascii_hexdigit()));
    let dirty = match &commit {
        Some(_) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(s) => (!s.is_empty()).to_string(),
            None => "unknown".to_string(),
        },
        None => "unknown".to_string(),
    };
    if commit.is_some() {
        for what in ["HEAD", "index"] {
            if let Some(p) = git(&["rev-parse", "--git-path", what]) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            for what in [r.as_str(), "packed-refs"] {
                if let Some(p) = git(&["rev-parse", "--git-path", what])
                    && Path::new(&p).exists()
                {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
        }
    }
    println!(
        "cargo:rustc-env=FLEKSIM_GIT_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rustc-env=FLEKSIM_GIT_DIRTY={dirty}");
    // For `--version`: `commit 0123abcd4567`, `... with uncommitted changes`.
    let build = match (&commit, dirty.as_str()) {
        (Some(c), "true") => format!("commit {}, with uncommitted changes", &c[..12.min(c.len())]),
        (Some(c), _) => format!("commit {}", &c[..12.min(c.len())]),
        (None, _) => "commit unknown".to_string(),
    };
    println!("cargo:rustc-env=FLEKSIM_BUILD={build}");
}
