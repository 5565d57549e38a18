//! `fleksim slurm --tasks N -- COMMAND ARGS...`: a batch script that runs a
//! command as a Slurm job array of shards and merges them when all succeed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use fleksim::{Error, Result};

use super::args::{Cli, Command, SlurmArgs};

pub fn slurm(a: SlurmArgs) -> Result<ExitCode> {
    if a.tasks == 0 {
        return Err(Error::Invalid("--tasks must be at least 1".into()));
    }
    let command = &a.command;
    // The command must parse here, so that a typo fails now, not on the cluster.
    let cli =
        Cli::try_parse_from(std::iter::once("fleksim".to_string()).chain(command.iter().cloned()))
            .map_err(|e| {
                Error::Invalid(format!(
                    "`{}` is not a fleksim command line:\n{}",
                    command.join(" "),
                    e.render()
                ))
            })?;
    let shard = match &cli.command {
        Command::Run(a) => &a.shard,
        Command::Compare(a) => &a.shard,
        Command::Check(a) => &a.shard,
        Command::Verify(a) => &a.shard,
        Command::Sweep(a) => &a.plan.shard,
        Command::Sensitivity(a) => &a.plan.shard,
        Command::Uncertainty(a) => &a.plan.shard,
        _ => {
            return Err(Error::Invalid(format!(
                "`{}` cannot be split into shards; run, compare, check, verify, sweep, sensitivity and uncertainty can",
                command[0]
            )));
        }
    };
    let has_out = match &cli.command {
        Command::Run(a) => a.out.is_some(),
        Command::Compare(a) => a.out.is_some(),
        Command::Check(a) => a.out.is_some(),
        Command::Verify(a) => a.out.is_some(),
        Command::Sweep(a) => a.plan.out.is_some(),
        Command::Sensitivity(a) => a.plan.out.is_some(),
        Command::Uncertainty(a) => a.plan.out.is_some(),
        _ => false,
    };
    if shard.shard.is_some() || shard.mpi || has_out {
        return Err(Error::Invalid(
            "give the command without --shard, --mpi or --out: the script adds --shard and writes into --dir".into(),
        ));
    }
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        action: "cannot read the current directory",
        path: PathBuf::from("."),
        source,
    })?;
    let dir = cwd.join(
        a.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("slurm-{}", command[0]))),
    );
    let exe = match &a.fleksim {
        Some(p) => cwd.join(p),
        None => std::env::current_exe().map_err(|source| Error::Io {
            action: "cannot find the fleksim executable",
            path: PathBuf::from("fleksim"),
            source,
        })?,
    };
    let script = script(&exe, &cwd, &dir, a.tasks, command);
    match &a.out {
        Some(path) => {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .ok_or_else(|| Error::Invalid(format!("--out {} names no file", path.display())))?;
            fleksim::output::publish::write_file(
                parent,
                &name.to_string_lossy(),
                script.as_bytes(),
            )?;
            eprintln!(
                "wrote {}; edit its #SBATCH lines, then run: bash {}",
                path.display(),
                path.display()
            );
        }
        None => print!("{script}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `s` quoted for a POSIX shell.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The batch script: a job array of `tasks` shards, then a merge that
/// waits for all of them (`--dependency=afterok`).
pub fn script(exe: &Path, cwd: &Path, dir: &Path, tasks: u32, command: &[String]) -> String {
    let exe = quote(&exe.display().to_string());
    let cwd = quote(&cwd.display().to_string());
    let dir = quote(&dir.display().to_string());
    let args: Vec<String> = command.iter().map(|a| quote(a)).collect();
    let args = args.join(" ");
    let last = tasks - 1;
    let name = quote(&format!("fleksim-{}", command[0]));
    format!(
        r#"#!/bin/bash
# Runs `fleksim {args}` on a Slurm cluster as {tasks} shards (a job array),
# then merges the shards' partial files into the outputs once every shard has
# succeeded. Made by `fleksim slurm`. Run it with bash on the login node (it
# submits two jobs with sbatch); edit the #SBATCH lines of both jobs first.
#
#   parts:   {dir}/parts/part-K-of-{tasks}.fleksim-part
#   results: {dir}/results/   (identical to the command run on one machine)
#   logs:    {dir}/logs/
#
# A failed shard can be rerun on its own (its part is replaced whole):
#   cd {cwd} && {exe} {args} --shard K/{tasks} --out {dir}/parts
# and the merge by hand: {exe} merge {dir}/parts --out {dir}/results
set -euo pipefail
mkdir -p {dir}/logs {dir}/parts

shards=$(sbatch --parsable <<'FLEKSIM_SHARDS'
#!/bin/bash
#SBATCH --job-name={name}
#SBATCH --array=0-{last}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem-per-cpu=2G
#SBATCH --time=01:00:00
#SBATCH --output={dir}/logs/shard-%a.log
set -euo pipefail
cd {cwd}
export RAYON_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-1}}"
exec {exe} {args} --shard "$SLURM_ARRAY_TASK_ID/{tasks}" --out {dir}/parts
FLEKSIM_SHARDS
)
shards=${{shards%%;*}}

merge=$(sbatch --parsable --dependency=afterok:"$shards" <<'FLEKSIM_MERGE'
#!/bin/bash
#SBATCH --job-name={name}-merge
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=00:30:00
#SBATCH --output={dir}/logs/merge.log
set -euo pipefail
cd {cwd}
exec {exe} merge {dir}/parts --out {dir}/results
FLEKSIM_MERGE
)
merge=${{merge%%;*}}

echo "submitted shards as job array $shards and the merge as job $merge"
echo "results will be in {dir}/results"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_the_shell_would_split() {
        assert_eq!(quote("scenarios/a.toml"), "scenarios/a.toml");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote(""), "''");
    }
}
