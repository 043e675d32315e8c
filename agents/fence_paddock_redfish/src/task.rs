//! Following a Redfish Task monitor (an action answered 202 Accepted + Location) to its end,
//! within the deadline.

use crate::error::{extended_message, Error};
use crate::http::{Http, Method, Reply};
use serde_json::Value;
use std::time::Duration;
use stonith::Deadline;

const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// What one look at the task monitor tells.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    Running,
    Done,
    Failed(String),
}

/// Read one task monitor reply: 202 = still running; a Task body says by its TaskState;
/// another 2xx = done; 404/410 = the monitor is gone, the task is over (the caller verifies
/// the power state anyway); any other status = failed.
pub fn progress(reply: &Reply) -> Progress {
    if reply.status == 202 {
        return Progress::Running;
    }
    if reply.is_success() {
        return match reply.body.get("TaskState").and_then(Value::as_str) {
            None | Some("Completed") => {
                match reply.body.get("TaskStatus").and_then(Value::as_str) {
                    Some("Critical") => Progress::Failed(task_messages(
                        &reply.body,
                        "completed with status Critical",
                    )),
                    _ => Progress::Done,
                }
            }
            Some("Exception" | "Killed" | "Cancelled" | "Interrupted") => {
                let state = reply
                    .body
                    .get("TaskState")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Progress::Failed(task_messages(&reply.body, &format!("ended {state}")))
            }
            Some(_) => Progress::Running,
        };
    }
    if matches!(reply.status, 404 | 410) {
        return Progress::Done;
    }
    Progress::Failed(reply.error("task").to_string())
}

fn task_messages(task: &Value, what: &str) -> String {
    let messages: Vec<&str> = task
        .get("Messages")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| m.get("Message").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    match (messages.is_empty(), extended_message(task)) {
        (false, _) => format!(
            "task {what}: {}",
            crate::error::one_line(&messages.join("; "), 300)
        ),
        (true, Some(m)) => format!("task {what}: {m}"),
        (true, None) => format!("task {what}"),
    }
}

/// Poll `monitor` until the task ends or the deadline passes.
pub fn wait(http: &Http, monitor: &str, deadline: Deadline) -> Result<(), Error> {
    loop {
        let reply = http.request(Method::Get, monitor, None, deadline)?;
        match progress(&reply) {
            Progress::Done => return Ok(()),
            Progress::Failed(why) => return Err(Error::Device(format!("reset {why}"))),
            Progress::Running => {}
        }
        if deadline.remaining() <= POLL_INTERVAL {
            return Err(Error::Timeout(format!(
                "reset task {monitor} still running at the deadline"
            )));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(status: u16, body: Value) -> Reply {
        Reply {
            status,
            location: None,
            auth_token: None,
            body,
        }
    }

    #[test]
    fn task_states() {
        assert_eq!(progress(&reply(202, Value::Null)), Progress::Running);
        assert_eq!(
            progress(&reply(200, json!({"TaskState": "Running"}))),
            Progress::Running
        );
        assert_eq!(
            progress(&reply(
                200,
                json!({"TaskState": "Completed", "TaskStatus": "OK"})
            )),
            Progress::Done
        );
        assert_eq!(progress(&reply(204, Value::Null)), Progress::Done);
        assert_eq!(progress(&reply(404, Value::Null)), Progress::Done);
        let failed = progress(&reply(
            200,
            json!({"TaskState": "Exception", "Messages": [{"Message": "PSU fault"}]}),
        ));
        assert_eq!(
            failed,
            Progress::Failed("task ended Exception: PSU fault".into())
        );
        let critical = progress(&reply(
            200,
            json!({"TaskState": "Completed", "TaskStatus": "Critical"}),
        ));
        assert!(matches!(critical, Progress::Failed(m) if m.contains("Critical")));
        assert!(
            matches!(progress(&reply(500, Value::Null)), Progress::Failed(m) if m.contains("HTTP 500"))
        );
    }
}
