//! All-or-nothing output folders (output::publish): a folder holds a
//! complete old set or a complete new set at every instant, a failed write
//! leaves the old set, and leftovers of dead runs are cleaned.

use std::path::Path;
use std::time::{Duration, SystemTime};

use fleksim::output::report::write_all;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn set(tag: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("a.csv", format!("{tag}\n").into_bytes()),
        ("b.csv", format!("{tag}\n").into_bytes()),
    ]
}

#[test]
fn a_new_set_replaces_the_old_and_keeps_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_all(&out, &set("one")).unwrap();
    write_all(&out, &[("check.csv", b"other command\n".to_vec())]).unwrap();
    std::fs::create_dir(out.join("exact")).unwrap();
    std::fs::write(out.join("exact/stocks.csv"), "exact\n").unwrap();
    write_all(&out, &set("two")).unwrap();
    assert_eq!(names(&out), ["a.csv", "b.csv", "check.csv", "exact"]);
    assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "two\n");
    assert_eq!(
        std::fs::read_to_string(out.join("check.csv")).unwrap(),
        "other command\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("exact/stocks.csv")).unwrap(),
        "exact\n"
    );
    assert_eq!(names(tmp.path()), ["out"], "no temporary folder is left");
}

#[test]
fn a_failed_write_leaves_the_old_set_and_no_temporary_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_all(&out, &set("old")).unwrap();
    // The second file cannot be created (its folder does not exist).
    let bad = vec![
        ("a.csv", b"new\n".to_vec()),
        ("missing/b.csv", b"new\n".to_vec()),
    ];
    let err = write_all(&out, &bad).unwrap_err().to_string();
    assert!(
        err.contains("cannot write") && err.contains("missing/b.csv"),
        "{err}"
    );
    assert_eq!(names(&out), ["a.csv", "b.csv"]);
    assert_eq!(std::fs::read_to_string(out.join("a.csv")).unwrap(), "old\n");
    assert_eq!(names(tmp.path()), ["out"]);
}

#[test]
fn leftovers_of_dead_runs_are_removed_and_live_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_all(&out, &set("one")).unwrap();
    let me = std::process::id();
    // A pid above the kernel's maximum (4,194,304) never runs.
    let dead = 999_999_999u32;
    for d in [
        format!(".out.tmp-{dead}-1"),
        format!(".out.old-{dead}-2"),
        format!(".out.tmp-{me}-3"),
    ] {
        std::fs::create_dir(tmp.path().join(&d)).unwrap();
        std::fs::write(tmp.path().join(&d).join("a.csv"), "half\n").unwrap();
    }
    std::fs::write(out.join(format!(".a.csv.{dead}-4.partial")), "half").unwrap();
    std::fs::write(out.join(format!(".a.csv.{me}-5.partial")), "half").unwrap();
    // An older version's partial file names no pid: removed once a day old.
    let young = out.join(".b.csv.Ab12Cd.partial");
    let aged = out.join(".b.csv.Zz99Yy.partial");
    std::fs::write(&young, "half").unwrap();
    let f = std::fs::File::create(&aged).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(2 * 24 * 3600))
        .unwrap();
    drop(f);
    write_all(&out, &set("two")).unwrap();
    assert_eq!(
        names(tmp.path()),
        ["out".to_string(), format!(".out.tmp-{me}-3")]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        names(&out),
        [
            ".a.csv.".to_string() + &me.to_string() + "-5.partial",
            ".b.csv.Ab12Cd.partial".into(),
            "a.csv".into(),
            "b.csv".into()
        ]
    );
}

/// A reader that opens the folder and then its files through that open
/// folder sees one version: never files of two different sets.
#[cfg(target_os = "linux")]
#[test]
fn readers_never_see_a_mixed_folder() {
    use std::os::fd::AsRawFd;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_all(&out, &set("0")).unwrap();
    let writer_out = out.clone();
    let writer = std::thread::spawn(move || {
        for i in 1..=300 {
            write_all(&writer_out, &set(&i.to_string())).unwrap();
        }
    });
    let mut seen = 0;
    while !writer.is_finished() {
        let Ok(dir) = std::fs::File::open(&out) else {
            panic!("the output folder is missing at some instant");
        };
        let at = format!("/proc/self/fd/{}", dir.as_raw_fd());
        let read = |n: &str| std::fs::read_to_string(Path::new(&at).join(n));
        // The old folder may be removed under us: then skip the sample.
        if let (Ok(a), Ok(b)) = (read("a.csv"), read("b.csv")) {
            assert_eq!(a, b, "one version of the folder mixes two sets");
            seen += 1;
        }
    }
    writer.join().unwrap();
    assert!(seen > 0);
}

/// A new run folder never replaces another: a taken name gets `-2`, `-3`,
/// and no temporary folder is left.
#[test]
fn publish_new_never_replaces_a_folder() {
    use fleksim::output::publish::publish_new;
    let tmp = tempfile::tempdir().unwrap();
    let a = publish_new(tmp.path(), "20260101T000000Z-run", &set("one")).unwrap();
    let b = publish_new(tmp.path(), "20260101T000000Z-run", &set("two")).unwrap();
    let c = publish_new(tmp.path(), "20260101T000000Z-run", &set("three")).unwrap();
    assert_eq!(a, tmp.path().join("20260101T000000Z-run"));
    assert_eq!(b, tmp.path().join("20260101T000000Z-run-2"));
    assert_eq!(c, tmp.path().join("20260101T000000Z-run-3"));
    assert_eq!(std::fs::read_to_string(a.join("a.csv")).unwrap(), "one\n");
    assert_eq!(std::fs::read_to_string(b.join("b.csv")).unwrap(), "two\n");
    assert_eq!(
        names(tmp.path()),
        [
            "20260101T000000Z-run",
            "20260101T000000Z-run-2",
            "20260101T000000Z-run-3"
        ]
    );
}
