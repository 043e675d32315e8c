//! `paddock`: the operator's tool of a Paddock cluster.

use paddock::{capacity, cib, history, maintenance, report};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};

const EXIT_STATUS: &str = "Exit status: 0 the answer is yes (every resource comes back); \
1 the answer is no (some would stay stopped); 2 bad input, or a Pacemaker tool failed.";

/// The operator's tool of a Paddock cluster (Corosync/Pacemaker with Paddock's agents)
#[derive(Debug, Parser)]
#[command(name = "paddock", version, after_help = EXIT_STATUS, disable_help_subcommand = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Which resources would stay down if hosts failed
    ///
    /// For each failover segment (the hosts that share storage: node attribute
    /// paddock-segment; nodes without it form one segment), every choice of K of its hosts
    /// fails at once, and the report says which resources would be restarted where, which
    /// would stay stopped (with their priority and utilization), and the utilization reserve
    /// left in the segment. The CIB (live: one cibadmin --query; or a saved one) is read once.
    /// Paddock's placement model answers (priorities, stickiness, location constraints and
    /// rules, utilization and every placement-strategy, as Pacemaker's scheduler does; checked
    /// against crm_simulate): seconds for 1,000 VMs on 32 nodes. Where it cannot answer
    /// exactly (colocations, mandatory orders, groups or other clones that would have to move,
    /// bundles, remote nodes...) crm_simulate does, one transition per scenario, and the report
    /// says so; --engine chooses. Keep VMs inside their segment with a location rule per VM:
    /// --segment-rules pcs (or crm) prints the commands for every running VM not kept in its
    /// node's segment yet, e.g. pcs constraint location vm-db rule score=-INFINITY
    /// paddock-segment ne rack-a.
    #[command(after_help = EXIT_STATUS)]
    Capacity(capacity::Args),
    /// What happened, from every node's event journal
    ///
    /// One timeline merged from the journal that paddock-alert, Pacemaker's alert agent, writes
    /// on every node (default directory /var/lib/paddock/events, or PADDOCK_JOURNAL): nodes
    /// lost and joined, fencing, resource operations (start, stop, monitor failures,
    /// migrations), attribute changes; and the agents' own decisions (a VM that did not shut
    /// down and was destroyed, a fencing's power off confirmed and after how long, a failure
    /// the watcher saw and reported). To keep the journal on shared storage, set
    /// PADDOCK_JOURNAL=DIR in /etc/default/pacemaker on every node: the alert agent and the
    /// resource and fence agents all read it. An event several nodes reported is shown once,
    /// with who saw it. Lines that cannot be read are skipped and counted on stderr.
    History(history::Args),
    /// Availability from the event journal
    ///
    /// Per resource: failures (a failed operation, or its host lost), recoveries, downtime
    /// (from the failure until it runs again; planned stops and moves do not count) and
    /// availability in percent over the period. Per host: losses, fencings and the mean time
    /// until everything that ran on it ran again.
    Report(report::Args),
    /// Put a host into maintenance, or take it out
    ///
    /// on: refuses (exit 1, unless --force) when the other hosts cannot take what runs on the
    /// node (Pacemaker's scheduler says so); otherwise marks the maintenance in the journal,
    /// puts the node in standby so that Pacemaker drains it (live migration for VMs that allow
    /// it), waits at most --timeout seconds and shows what moved where. off: takes the node out
    /// of standby and marks the end in the journal.
    Maintenance(maintenance::Args),
    /// Write the man pages into DIR (for packaging)
    #[command(hide = true)]
    Manpages { dir: PathBuf },
    /// Print a completion script for SHELL
    #[command(hide = true)]
    Completions { shell: clap_complete::Shell },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            // one line: the causes joined
            eprintln!("paddock: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Capacity(args) => {
            let report = capacity::run(&args)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let cib = args
                    .cib
                    .as_ref()
                    .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                    .unwrap_or_default();
                let describe = cib::Cib::parse(&cib).ok();
                print!(
                    "{}",
                    report.text(|id| describe
                        .as_ref()
                        .map(|c| c.describe(id))
                        .unwrap_or_default())
                );
            }
            Ok(ExitCode::from(if report.ok { 0 } else { 1 }))
        }
        Command::History(args) => {
            let journal = history::open(args.journal.as_deref())?;
            // one buffered writer: a million lines must not be a million writes
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut written: std::io::Result<()> = Ok(());
            let mut first = true;
            let skipped = history::load(&journal, &args, |entry| {
                if written.is_err() {
                    return;
                }
                written = if !args.json {
                    writeln!(out, "{}", history::line(&entry))
                } else {
                    // a JSON array written as it is merged
                    let separator = if first { "[\n" } else { ",\n" };
                    first = false;
                    out.write_all(separator.as_bytes()).and_then(|()| {
                        serde_json::to_writer_pretty(&mut out, &entry).map_err(std::io::Error::from)
                    })
                };
            });
            if args.json && written.is_ok() {
                written = out.write_all(if first { b"[]\n" } else { b"\n]\n" });
            }
            match written.and_then(|()| out.flush()) {
                // `paddock history | head` is no error
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
            if skipped > 0 {
                eprintln!("paddock: warning: {skipped} journal line(s) could not be read and were skipped");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            let (report, skipped) = report::run(&args)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.text());
            }
            if skipped > 0 {
                eprintln!("paddock: warning: {skipped} journal line(s) could not be read and were skipped");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Maintenance(args) => match maintenance::run(&args)? {
            maintenance::Outcome::Refused(stranded) => {
                eprintln!(
                    "paddock: refusing maintenance of {}: {} would have nowhere to run (--force stops them)",
                    args.node,
                    stranded.join(", ")
                );
                Ok(ExitCode::from(1))
            }
            maintenance::Outcome::Drained(moves) => {
                println!(
                    "{} is in maintenance: {} resource(s) moved or stopped",
                    args.node,
                    moves.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            maintenance::Outcome::Resumed => {
                println!("{} is out of maintenance", args.node);
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Manpages { dir } => {
            write_manpages(&dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "paddock",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// paddock(8) and one page per subcommand, paddock-capacity(8)...
fn write_manpages(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let command = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let mut pages = vec![(String::from("paddock"), command.clone())];
    // the built-in `help` subcommand is no page of its own
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("paddock-{}", sub.get_name());
        let shown = format!("paddock {}", sub.get_name());
        let page = sub.clone().name(name.clone()).bin_name(shown);
        pages.push((name, page.version(env!("CARGO_PKG_VERSION"))));
    }
    for (name, page) in pages {
        let mut roff = Vec::new();
        clap_mangen::Man::new(page).section("8").render(&mut roff)?;
        let path = dir.join(format!("{name}.8"));
        std::fs::write(&path, roff).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
