//! Limits on what a scenario may ask for, each documented in
//! `scenarios/README.md` ("Limits"), so that hostile or mistaken input ends
//! in an error that names the key, never in a hang, a crash or a wrong number.

use std::path::{Path, PathBuf};

/// The deepest `extends` chain followed: a file, its parent, the parent's
/// parent, ... at most 64 files. Real chains are two or three files deep
/// (a proposal extends the baseline); the limit keeps the loader's
/// recursion, one frame per file, far from the stack's end.
pub const MAX_EXTENDS_DEPTH: usize = 64;

/// The message for a chain longer than [`MAX_EXTENDS_DEPTH`]: `stack` holds
/// the files being resolved, outermost first, and `next` the one that would
/// be one too many.
pub(super) fn chain_too_deep(stack: &[PathBuf], next: &Path) -> String {
    let show = |p: &PathBuf| p.display().to_string();
    let chain = if stack.len() > 6 {
        let head: Vec<String> = stack[..3].iter().map(show).collect();
        let tail: Vec<String> = stack[stack.len() - 2..].iter().map(show).collect();
        format!(
            "{} -> ... ({} more) -> {}",
            head.join(" -> "),
            stack.len() - 5,
            tail.join(" -> ")
        )
    } else {
        stack.iter().map(show).collect::<Vec<_>>().join(" -> ")
    };
    format!(
        "`extends` chain is longer than {MAX_EXTENDS_DEPTH} files: {chain} -> {}",
        next.display()
    )
}
