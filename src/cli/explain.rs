//! `fleksim explain FILE...`

use std::process::ExitCode;

use fleksim::{Result, scenario};

use super::args::ExplainArgs;

pub fn explain(a: ExplainArgs) -> Result<ExitCode> {
    for (i, f) in a.files.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let e = scenario::explain(f)?;
        println!("{} ({})", e.name, f.display());
        if !e.description.is_empty() {
            println!("  {}", e.description);
        }
        if !e.header.is_empty() {
            println!();
            for l in &e.header {
                if l.is_empty() {
                    println!();
                } else {
                    println!("  {l}");
                }
            }
        }
        println!();
        if !e.extends {
            println!("  extends nothing: a complete scenario, not a change to another");
            continue;
        }
        // Name and description always differ from the parent's; they are shown above.
        let changes: Vec<_> = e
            .changes
            .iter()
            .filter(|c| c.path != "name" && c.path != "description")
            .collect();
        if !e.dated.is_empty() {
            println!("  dated changes ({}):", e.dated.len());
            for c in &e.dated {
                println!("  - {}: {}", c.path, c.new.as_deref().unwrap_or(""));
                if let Some(why) = &c.comment {
                    println!("      {why}");
                }
                if let Some(at) = &c.at {
                    println!("      ({at})");
                }
            }
        }
        if changes.is_empty() {
            if e.dated.is_empty() {
                println!("  changes no parameter or rule of the scenario it extends");
            }
            continue;
        }
        println!("  changes {} setting(s):", changes.len());
        for c in changes {
            let old = c.old.as_deref().unwrap_or("(not set)");
            let new = c.new.as_deref().unwrap_or("(removed)");
            println!("  - {}: {old} -> {new}", c.path);
            if !c.chain.is_empty() {
                // A composed value: where it started, each step, the result.
                for l in &c.chain {
                    match &l.at {
                        Some(at) => println!("      {} ({at})", l.what),
                        None => println!("      {}", l.what),
                    }
                    if let Some(why) = &l.comment {
                        println!("          {why}");
                    }
                }
                println!("      = {new}");
                continue;
            }
            if let Some(why) = &c.comment {
                println!("      {why}");
            }
            if let Some(at) = &c.at {
                println!("      ({at})");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
