//! Reading input files: every file fleksim reads (scenario, parent, patch,
//! targets) goes through [`read_input`], which reads only regular files and
//! at most [`MAX_INPUT_BYTES`], so a device, a FIFO or a huge file ends in a
//! clear error instead of a hang or an exhausted memory.

use std::fs::{File, FileType};
use std::io::{self, Read};
use std::path::Path;

/// The largest input file read: 4 MiB. The baseline scenario is about
/// 25 KiB and the targets file about 20 KiB, so this leaves two orders of
/// magnitude for comments and generated files while keeping a file's text,
/// its parsed document and its spans well under 100 MB.
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

/// Reads the UTF-8 text of the regular file at `path`, at most
/// [`MAX_INPUT_BYTES`].
///
/// The file type is checked before opening, and the file is opened without
/// blocking, so a FIFO never blocks and a device is never read. The error
/// says what is wrong; the caller names the path and what the file is for.
pub fn read_input(path: &Path) -> io::Result<String> {
    let meta = std::fs::metadata(path)?;
    check_type(meta.file_type())?;
    check_size(meta.len())?;
    let file = open_nonblocking(path)?;
    // The path may have been replaced between the two looks.
    let meta = file.metadata()?;
    check_type(meta.file_type())?;
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_INPUT_BYTES) as usize);
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    check_size(bytes.len() as u64)?;
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

fn check_size(len: u64) -> io::Result<()> {
    if len > MAX_INPUT_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the file is larger than the {} MiB limit for input files",
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

fn check_type(t: FileType) -> io::Result<()> {
    if t.is_file() {
        return Ok(());
    }
    let kind = if t.is_dir() {
        "a directory"
    } else {
        kind_unix(t).unwrap_or("not a file")
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({kind})"),
    ))
}

#[cfg(unix)]
fn kind_unix(t: FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn kind_unix(_: FileType) -> Option<&'static str> {
    None
}
