//! `fleksim report FOLDER`: the HTML report of an output folder.

use std::path::PathBuf;
use std::process::ExitCode;

use fleksim::Result;
use fleksim::output::publish;
use fleksim::output::report_html::{self, Locale, Options};

use super::args::ReportArgs;

pub fn report(a: ReportArgs) -> Result<ExitCode> {
    let opts = Options {
        locale: Locale::parse(&a.locale)?,
    };
    let r = report_html::build(&a.folder, opts)?;
    let out = a.out.unwrap_or_else(|| a.folder.join("report"));
    let files: Vec<(&str, Vec<u8>)> = r
        .files
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    publish::replace(&out, &files)?;
    if !a.quiet {
        let html: PathBuf = out.join("report.html");
        println!(
            "report of {} ({}): {} charts, {} files; wrote {}",
            a.folder.display(),
            r.kinds.join(", "),
            r.charts,
            r.files.len(),
            html.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
