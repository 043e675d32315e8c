//! The power loop, fence-agents' semantics with every step bounded: read the status first
//! (already in the requested state = success), ask for the change, wait `power_wait`, poll every
//! `stonith_status_sleep` until the target state is seen or `power_timeout` passes, retry `on`
//! `retry_on` times. `reboot` is off-then-on (method onoff: success once off was seen) or one
//! power cycle (method cycle). Only an observed state counts as success.

use std::time::Duration;

use crate::log::Logger;
use crate::{
    common, Deadline, FenceDevice, FenceError, OptionSpec, Options, PowerAction, PowerState,
};

/// The timing options of one invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub delay: Duration,
    pub login_timeout: Duration,
    pub power_timeout: Duration,
    pub power_wait: Duration,
    pub shell_timeout: Duration,
    pub status_sleep: Duration,
    pub retry_on: u32,
    pub cycle: bool,
    /// Under Pacemaker the last attempt of a phase may use all the time Pacemaker gives us
    /// (fence-agents disables its own timeouts there), instead of stopping at `power_timeout`.
    pub under_pacemaker: bool,
}

impl Timing {
    pub fn from_options(options: &Options) -> Self {
        // Every row has a default, so each reads as Some.
        let seconds = |spec: &OptionSpec| options.seconds(spec).unwrap_or_default();
        Timing {
            delay: seconds(&common::DELAY),
            login_timeout: seconds(&common::LOGIN_TIMEOUT),
            power_timeout: seconds(&common::POWER_TIMEOUT),
            power_wait: seconds(&common::POWER_WAIT),
            shell_timeout: seconds(&common::SHELL_TIMEOUT),
            status_sleep: seconds(&common::STONITH_STATUS_SLEEP),
            retry_on: options
                .integer(&common::RETRY_ON)
                .unwrap_or_default()
                .clamp(0, 100) as u32,
            cycle: options.text(&common::METHOD) == Some("cycle"),
            under_pacemaker: false,
        }
    }

    /// Attempts of the `on` phase: fence-agents gives `on` 1 + retry_on, and the `on` half of
    /// a reboot retry_on (at least one here, so a reboot always tries to power on).
    fn on_attempts(&self, reboot: bool) -> u32 {
        if reboot {
            self.retry_on.max(1)
        } else {
            1 + self.retry_on
        }
    }

    /// One change-and-verify phase of `attempts` attempts.
    fn phase(&self, attempts: u32) -> Duration {
        (self.shell_timeout * 2 + self.power_wait + self.power_timeout) * attempts
    }

    /// Time reserved after the work for `close`.
    pub fn close_reserve(&self) -> Duration {
        self.shell_timeout.min(Duration::from_secs(1))
    }

    /// The whole invocation's time: the sum of the timeouts its steps may use.
    pub fn budget(&self, action: &str, password_script: bool) -> Duration {
        let mut total =
            self.login_timeout + self.shell_timeout + self.close_reserve() + Duration::from_secs(1);
        if password_script {
            total += self.login_timeout;
        }
        total += match action {
            "on" => self.phase(self.on_attempts(false)),
            "off" => self.phase(1),
            "reboot" if self.cycle => self.phase(1 + self.retry_on),
            "reboot" => self.phase(1) + self.phase(self.on_attempts(true)),
            _ => self.shell_timeout,
        };
        if crate::common::FENCING_ACTIONS.contains(&action) {
            total += self.delay;
        }
        total
    }
}

/// What a successful power operation did, for the message fence-agents prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Already(PowerState),
    Powered(PowerState),
    /// Off was seen (or the cycle accepted); `on_confirmed` says whether on was seen after.
    Rebooted {
        on_confirmed: bool,
    },
}

impl Outcome {
    pub fn message(&self) -> &'static str {
        match self {
            Outcome::Already(PowerState::Off) => "Success: Already OFF",
            Outcome::Already(_) => "Success: Already ON",
            Outcome::Powered(PowerState::Off) => "Success: Powered OFF",
            Outcome::Powered(_) => "Success: Powered ON",
            Outcome::Rebooted { .. } => "Success: Rebooted",
        }
    }
}

/// Errors that no amount of waiting will fix.
fn is_fatal(error: &FenceError) -> bool {
    matches!(
        error,
        FenceError::Auth(_) | FenceError::Config(_) | FenceError::Unsupported(_)
    )
}

/// A request the device never accepted: its own error, of its own kind, saying what it refused.
fn refused(error: FenceError, what: &str) -> FenceError {
    let message = |m: String| format!("Failed: the device refused the {what}: {m}");
    match error {
        FenceError::Config(m) => FenceError::Config(message(m)),
        FenceError::Auth(m) => FenceError::Auth(message(m)),
        FenceError::Timeout(m) => {
            FenceError::Timeout(format!("Failed: no answer to the {what}: {m}"))
        }
        FenceError::Device(m) => FenceError::Device(message(m)),
        FenceError::Unsupported(m) => FenceError::Unsupported(message(m)),
    }
}

/// The first pause between status reads while waiting for a power change; it doubles up to
/// `stonith_status_sleep`.
const FIRST_STATUS_PAUSE: Duration = Duration::from_millis(100);

/// How long after a power request the status is read every FIRST_STATUS_PAUSE before the
/// pauses grow: the time most BMCs take to apply a change.
const QUICK_POLLS_FOR: Duration = Duration::from_secs(2);

/// The longest pause before asking again a device that refused a power request.
const MAX_REFUSAL_PAUSE: Duration = Duration::from_secs(1);

/// Drives one device for one invocation.
pub struct PowerLoop<'d, 'l, 'w> {
    pub device: &'d mut dyn FenceDevice,
    pub plug: Option<&'d str>,
    pub timing: Timing,
    /// When the work must be over (close has its own reserve after it).
    pub deadline: Deadline,
    pub log: &'l mut Logger<'w>,
    /// When the power was first seen off (for the event journal).
    pub off_seen: Option<std::time::Instant>,
}

impl PowerLoop<'_, '_, '_> {
    fn check_time(&self, what: &str) -> Result<(), FenceError> {
        if self.deadline.expired() {
            return Err(FenceError::Timeout(format!(
                "Failed: out of time before {what}"
            )));
        }
        Ok(())
    }

    fn sleep(&self, duration: Duration, until: Deadline) {
        let duration = duration.min(until.remaining());
        if !duration.is_zero() {
            std::thread::sleep(duration);
        }
    }

    /// One status read, bounded by `shell_timeout`.
    pub fn status(&mut self) -> Result<PowerState, FenceError> {
        self.check_time("reading the power status")?;
        let result = self
            .device
            .power_status(self.plug, self.deadline.capped(self.timing.shell_timeout));
        self.log.drain_agent_lines();
        match &result {
            Ok(state) => self.log.debug(&format!("power status: {}", state.name())),
            Err(e) => self.log.debug(&format!("power status failed: {e}")),
        }
        result
    }

    fn request(&mut self, action: PowerAction) -> Result<(), FenceError> {
        self.check_time("sending the power request")?;
        self.log.debug(&format!("requesting power {action:?}"));
        let result = self.device.set_power(
            self.plug,
            action,
            self.deadline.capped(self.timing.shell_timeout),
        );
        self.log.drain_agent_lines();
        if let Err(e) = &result {
            self.log
                .debug(&format!("power {action:?} request failed: {e}"));
        }
        result
    }

    /// Send a power request; a device that refuses it for a moment (a BMC still busy with the
    /// previous change, "not in present state") is asked again, with backoff, until `until`.
    /// Only the device's acceptance ends this: a refusal is never taken for success.
    fn request_until(&mut self, action: PowerAction, until: Deadline) -> Result<(), FenceError> {
        let mut pause = FIRST_STATUS_PAUSE;
        loop {
            match self.request(action) {
                Ok(()) => return Ok(()),
                Err(e) if is_fatal(&e) || until.expired() || self.deadline.expired() => {
                    return Err(e)
                }
                Err(_) => {
                    self.sleep(pause, until);
                    pause = (pause * 2).min(MAX_REFUSAL_PAUSE);
                }
            }
        }
    }

    /// The status once a transition (PoweringOn, PoweringOff) is over: a graceful shutdown in
    /// progress is neither on nor off, so acting on it would be a guess. Waits at most
    /// `power_timeout`; still in transition then, that state (the caller then acts, and only a
    /// settled state it sees afterwards counts).
    fn settled_status(&mut self) -> Result<PowerState, FenceError> {
        let mut state = self.status()?;
        if state.is_settled() {
            return Ok(state);
        }
        self.log
            .debug(&format!("{state:?}: waiting for the transition to settle"));
        let until = self.deadline.capped(self.timing.power_timeout);
        let mut pause = FIRST_STATUS_PAUSE;
        while !state.is_settled() && !until.expired() {
            self.sleep(pause.min(self.timing.status_sleep), until);
            pause = pause.saturating_mul(2);
            match self.status() {
                Ok(now) => state = now,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(state)
    }

    /// Poll until `target` is seen or `until` passes. Transient status errors are retried.
    fn wait_for(&mut self, target: PowerState, until: Deadline) -> Result<bool, FenceError> {
        let mut last_error = None;
        let mut pause = FIRST_STATUS_PAUSE;
        let started = std::time::Instant::now();
        loop {
            match self.status() {
                Ok(state) if state == target => return Ok(true),
                Ok(_) => {}
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => last_error = Some(e),
            }
            if until.expired() || self.deadline.expired() {
                return match last_error {
                    Some(e) => Err(e),
                    None => Ok(false),
                };
            }
            // Soon after the command the change is most likely (BMCs apply it within a second
            // or two): look every 0.1 s then, and back off to stonith_status_sleep after. A
            // node fenced a second earlier is failed over a second earlier.
            self.sleep(pause.min(self.timing.status_sleep), until);
            if started.elapsed() >= QUICK_POLLS_FOR {
                pause = pause.saturating_mul(2);
            }
        }
    }

    /// Ask for `target` up to `attempts` times, each followed by power_wait and polling.
    fn switch(&mut self, target: PowerState, attempts: u32) -> Result<(), FenceError> {
        // callers ask for a settled state
        let action = match target {
            PowerState::Off | PowerState::PoweringOff => PowerAction::Off,
            PowerState::On | PowerState::PoweringOn => PowerAction::On,
        };
        let timed_out = FenceError::Timeout(format!(
            "Failed: Timed out waiting to power {}",
            target.name()
        ));
        let mut last_error = None;
        // Whether the device ever took the request: if not, the failure is its refusal (say a
        // 404 or "not in present state"), not a wait for the power that timed out.
        let mut accepted = false;
        for attempt in 1..=attempts.max(1) {
            if attempt > 1 {
                self.log.debug(&format!(
                    "power {} attempt {attempt} of {attempts}",
                    target.name()
                ));
            }
            let refusals_until = self.deadline.capped(self.timing.power_timeout);
            match self.request_until(action, refusals_until) {
                Ok(()) => accepted = true,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    last_error = Some(e);
                    if self.deadline.expired() {
                        break;
                    }
                    continue;
                }
            }
            self.sleep(self.timing.power_wait, self.deadline);
            let last_attempt = attempt >= attempts;
            let until = if self.timing.under_pacemaker && last_attempt {
                self.deadline
            } else {
                self.deadline.capped(self.timing.power_timeout)
            };
            match self.wait_for(target, until) {
                Ok(true) => {
                    if target == PowerState::Off {
                        self.off_seen = Some(std::time::Instant::now());
                    }
                    return Ok(());
                }
                Ok(false) => last_error = None,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => last_error = Some(e),
            }
            if self.deadline.expired() {
                break;
            }
        }
        Err(match last_error {
            Some(e) if !accepted => refused(e, &format!("power {} request", target.name())),
            Some(e) => FenceError::Timeout(format!("{timed_out} (last error: {e})")),
            None => timed_out,
        })
    }

    pub fn on(&mut self) -> Result<Outcome, FenceError> {
        if self.settled_status()? == PowerState::On {
            return Ok(Outcome::Already(PowerState::On));
        }
        self.switch(PowerState::On, self.timing.on_attempts(false))?;
        Ok(Outcome::Powered(PowerState::On))
    }

    pub fn off(&mut self) -> Result<Outcome, FenceError> {
        if self.settled_status()? == PowerState::Off {
            return Ok(Outcome::Already(PowerState::Off));
        }
        self.switch(PowerState::Off, 1)?;
        Ok(Outcome::Powered(PowerState::Off))
    }

    /// Off (unless already off), then on. The on half failing does not fail the reboot: the node
    /// is fenced once off was seen (FenceAgentAPI), but it is logged as an error.
    pub fn reboot(&mut self) -> Result<Outcome, FenceError> {
        let initial = self.settled_status()?;
        if self.timing.cycle && initial == PowerState::On {
            match self.cycle() {
                // Like fence-agents without a cycle function: fall back to off-then-on.
                Err(FenceError::Unsupported(why)) => self.log.debug(&format!(
                    "power cycle not supported ({why}); using off then on"
                )),
                other => return other,
            }
        }
        if initial != PowerState::Off {
            self.switch(PowerState::Off, 1)?;
        }
        let on_confirmed = match self.switch(PowerState::On, self.timing.on_attempts(true)) {
            Ok(()) => true,
            Err(e) => {
                self.log
                    .error(&format!("Timed out waiting to power ON: {e}"));
                false
            }
        };
        Ok(Outcome::Rebooted { on_confirmed })
    }

    /// One power cycle request (method=cycle), retried like `on`; then wait to see it on again.
    fn cycle(&mut self) -> Result<Outcome, FenceError> {
        let attempts = 1 + self.timing.retry_on;
        let mut result = Err(FenceError::Timeout("Failed: Connection timed out".into()));
        for _ in 0..attempts {
            result = self.request(PowerAction::Cycle);
            match &result {
                Ok(()) => break,
                Err(e) if is_fatal(e) => break,
                Err(_) if self.deadline.expired() => break,
                Err(_) => {}
            }
        }
        result?;
        self.sleep(self.timing.power_wait, self.deadline);
        let until = if self.timing.under_pacemaker {
            self.deadline
        } else {
            self.deadline.capped(self.timing.power_timeout)
        };
        let on_confirmed = matches!(self.wait_for(PowerState::On, until), Ok(true));
        if !on_confirmed {
            self.log
                .error("Power cycle accepted, but the power was not seen ON again");
        }
        Ok(Outcome::Rebooted { on_confirmed })
    }

    /// Diagnostic interrupt: nothing to observe afterwards, the request's answer is the result.
    pub fn diag(&mut self) -> Result<(), FenceError> {
        self.request(PowerAction::Diag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(pairs: &[(&str, &str)]) -> Timing {
        let mut options = Options::new();
        for (name, value) in pairs {
            options.set_by_name(name, value.to_string());
        }
        Timing::from_options(&options)
    }

    #[test]
    fn budget_is_the_sum_of_the_timeouts_an_action_may_use() {
        let t = timing(&[]);
        // connect 5 + first status 3 + close reserve 1 + slack 1 = 10, + status 3
        assert_eq!(t.budget("status", false), Duration::from_secs(13));
        // + one phase: request 3 + power_wait 0 + power_timeout 20 + last status 3
        assert_eq!(t.budget("off", false), Duration::from_secs(36));
        // on: 1 + retry_on attempts
        assert_eq!(t.budget("on", false), Duration::from_secs(62));
        assert_eq!(t.budget("reboot", false), Duration::from_secs(62));
        assert_eq!(
            t.budget("off", true),
            Duration::from_secs(41),
            "password_script gets login_timeout"
        );
        let t = timing(&[("delay", "15"), ("retry_on", "0"), ("power_wait", "2")]);
        assert_eq!(t.budget("off", false), Duration::from_secs(10 + 28 + 15));
        assert_eq!(
            t.budget("on", false),
            Duration::from_secs(10 + 28),
            "no delay for on"
        );
        assert_eq!(
            t.budget("reboot", false),
            Duration::from_secs(10 + 28 + 28 + 15),
            "reboot tries on at least once"
        );
    }

    #[test]
    fn outcome_messages_are_fence_agents_words() {
        assert_eq!(
            Outcome::Already(PowerState::Off).message(),
            "Success: Already OFF"
        );
        assert_eq!(
            Outcome::Powered(PowerState::On).message(),
            "Success: Powered ON"
        );
        assert_eq!(
            Outcome::Rebooted {
                on_confirmed: false
            }
            .message(),
            "Success: Rebooted"
        );
    }
}
