//! `fleksim validate FILE...`

use std::process::ExitCode;

use fleksim::Error;
use fleksim::scenario;

use super::args::ValidateArgs;

pub fn validate(a: ValidateArgs) -> Result<ExitCode, Error> {
    let mut failed = 0;
    for f in &a.files {
        let loaded = scenario::load_file(f)
            .and_then(|l| scenario::check_range_ends(f, &l.scenario).map(|()| l));
        match loaded {
            Ok(l) => println!(
                "ok  {}  (scenario `{}`, {} quarters from {}, hash {})",
                f.display(),
                l.scenario.name,
                l.scenario.horizon,
                l.scenario.start,
                l.scenario.hash
            ),
            Err(e) => {
                failed += 1;
                eprint!("{}", e.render(super::color()));
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} scenario files are invalid",
            a.files.len()
        );
        return Ok(ExitCode::from(super::EXIT_USER));
    }
    Ok(ExitCode::SUCCESS)
}
