//! One logging path for every agent: code logs with `tracing` macros, and a [`LineSubscriber`]
//! turns each event into one line for the framework's sink (OCF: `HA_LOGFILE`, `HA_DEBUGLOG`
//! and stderr; fence agents: stderr with `-v` and `debug_file`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Where a framework writes log lines.
pub trait LineSink: Send + Sync + 'static {
    /// One event, as one line (newlines in it are replaced by spaces).
    fn line(&self, level: &Level, message: &str);
}

/// Crates whose debug output would drown ours.
const NOISY_TARGETS: &[&str] = &[
    "rustls",
    "ureq",
    "ureq_proto",
    "hyper",
    "h2",
    "mio",
    "polling",
];

/// A `tracing` subscriber that hands every enabled event to a [`LineSink`] as one line: the
/// message, then any other fields as ` name=value`. Spans are not tracked.
pub struct LineSubscriber<S: LineSink> {
    sink: Arc<S>,
    max_level: Level,
}

impl<S: LineSink> LineSubscriber<S> {
    pub fn new(sink: Arc<S>, max_level: Level) -> Self {
        LineSubscriber { sink, max_level }
    }
}

impl<S: LineSink> Subscriber for LineSubscriber<S> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let level = metadata.level();
        *level <= self.max_level
            && (*level <= Level::INFO
                || !NOISY_TARGETS
                    .iter()
                    .any(|t| metadata.target().starts_with(t)))
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = format!("{}{}", fields.message, fields.others).replace('\n', " ");
        self.sink.line(event.metadata().level(), &message);
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}

#[derive(Default)]
struct Fields {
    message: String,
    others: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.others, " {}={}", field.name(), value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.others, " {}={:?}", field.name(), value);
        }
    }
}

/// The name a level is logged with (`WARNING`, as Pacemaker and fence-agents write it).
pub fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// A moment in UTC, split for log timestamps (no date crate needed for that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl UtcTime {
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// `secs` seconds since the epoch.
    pub fn from_unix_secs(secs: u64) -> Self {
        Self::from(UNIX_EPOCH + std::time::Duration::from_secs(secs))
    }

    /// "2026-12-01 02:40:11 UTC", for messages people read (exit reasons).
    pub fn readable(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl From<SystemTime> for UtcTime {
    fn from(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = (secs % 86_400) as u32;
        UtcTime {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            millis: since.subsec_millis(),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(Level, String)>>);

    impl LineSink for Collect {
        fn line(&self, level: &Level, message: &str) {
            self.0.lock().unwrap().push((*level, message.to_string()));
        }
    }

    #[test]
    fn events_become_one_line_each_filtered_by_level() {
        let sink = Arc::new(Collect::default());
        let subscriber = LineSubscriber::new(sink.clone(), Level::INFO);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(attempt = 2, "two\nlines");
            tracing::debug!("too detailed");
            tracing::warn!("careful");
        });
        let lines = sink.0.lock().unwrap().clone();
        assert_eq!(
            lines,
            vec![
                (Level::INFO, "two lines attempt=2".to_string()),
                (Level::WARN, "careful".to_string())
            ]
        );
    }

    #[test]
    fn noisy_crates_are_quiet_below_info() {
        let sink = Arc::new(Collect::default());
        let subscriber = LineSubscriber::new(sink.clone(), Level::DEBUG);
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "rustls::client", "handshake detail");
            tracing::info!(target: "rustls::client", "worth seeing");
            tracing::debug!(target: "fence_paddock_redfish::http", "ours");
        });
        let messages: Vec<String> = sink.0.lock().unwrap().iter().map(|l| l.1.clone()).collect();
        assert_eq!(messages, vec!["worth seeing", "ours"]);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let t = UtcTime::from(UNIX_EPOCH + Duration::from_millis(86_400_000 + 3_723_004));
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis),
            (1970, 1, 2, 1, 2, 3, 4)
        );
        assert_eq!(
            UtcTime::from_unix_secs(86_400 + 3_723).readable(),
            "1970-01-02 01:02:03 UTC"
        );
    }
}
