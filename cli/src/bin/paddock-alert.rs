//! paddock-alert: Pacemaker's alert agent for the Paddock event journal.
//!
//!     pcs alert create id=paddock path=/usr/libexec/paddock/paddock-alert
//!     pcs alert recipient add paddock value=/shared/paddock-events   (optional: the directory)
//!
//! Pacemaker runs it (as hacluster) for every node, fencing, resource and attribute event with
//! the event in CRM_alert_* variables; it appends one JSON line to this node's file of the
//! journal and exits. It never waits on anything but its own write: a journal it cannot write
//! is one line on stderr (Pacemaker logs it) and exit status 1.

use std::process::ExitCode;

use paddock::journal::{self, Event};

fn main() -> ExitCode {
    let event = Event::from_alert(std::env::vars(), &journal::this_node());
    let dir = journal::directory(
        event.fields.get("recipient"),
        std::env::var(journal::DIR_ENV).ok().as_deref(),
    );
    match journal::append(&dir, &event) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "paddock-alert: {error:#} (journal {}: create it writable by hacluster)",
                dir.display()
            );
            ExitCode::FAILURE
        }
    }
}
