//! A simulated power device for testing the framework's own logic (power loop, retries,
//! timeouts, exit codes, close-once). The real devices are tested by the agents' crates against
//! ipmi_sim and sushy-emulator.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use stonith::{
    common, AgentInfo, Deadline, FenceAgent, FenceDevice, FenceError, OptionSpec, OptionType,
    Options, Outlet, PowerAction, PowerState,
};

/// The simulated device's port row: the common one with a default, as an agent replaces it.
const SIM_PORT: OptionSpec = common::IPPORT.default("623");

/// How the simulated device behaves and what it saw.
#[derive(Debug)]
pub struct Sim {
    pub power: PowerState,
    /// A requested change becomes visible this long after the request.
    pub change_delay: Duration,
    pub pending: Option<(PowerState, Instant)>,
    /// Requests are accepted but the power never changes.
    pub stuck: bool,
    /// The first N `On` requests are accepted and silently ignored.
    pub ignore_on_requests: u32,
    /// The next N status reads fail with a transient device error.
    pub failing_status_reads: u32,
    /// After each power request, the next N status reads fail (a BMC busy switching).
    pub failing_reads_after_request: u32,
    /// Every status read fails with this kind of error ("device", "auth", "timeout").
    pub status_error: Option<&'static str>,
    pub set_error: Option<&'static str>,
    /// The next N `On` requests are refused with a transient device error (a busy BMC).
    pub refused_on_requests: u32,
    pub connect_error: Option<&'static str>,
    /// Status reads block until their deadline, like a BMC that stopped answering.
    pub hang: bool,
    /// `PowerAction::Cycle` is answered with Unsupported.
    pub no_cycle: bool,
    pub panic_on_status: bool,
    pub outlets: Vec<Outlet>,
    // What happened:
    pub connects: u32,
    pub closes: u32,
    pub status_reads: u32,
    pub requests: Vec<PowerAction>,
    pub password_seen: Option<String>,
    pub ip_seen: Option<String>,
    /// The password `validate` saw.
    pub password_validated: Option<String>,
    pub plug_seen: Option<String>,
    /// Every deadline a device call received was in the future when the call started.
    pub expired_deadlines: u32,
}

impl Default for Sim {
    fn default() -> Self {
        Sim {
            power: PowerState::On,
            change_delay: Duration::from_millis(0),
            pending: None,
            stuck: false,
            ignore_on_requests: 0,
            failing_status_reads: 0,
            failing_reads_after_request: 0,
            status_error: None,
            set_error: None,
            refused_on_requests: 0,
            connect_error: None,
            hang: false,
            no_cycle: false,
            panic_on_status: false,
            outlets: Vec::new(),
            connects: 0,
            closes: 0,
            status_reads: 0,
            requests: Vec::new(),
            password_seen: None,
            ip_seen: None,
            password_validated: None,
            plug_seen: None,
            expired_deadlines: 0,
        }
    }
}

fn error(kind: &str) -> FenceError {
    match kind {
        "auth" => FenceError::Auth("simulated: authentication refused".into()),
        "timeout" => FenceError::Timeout("simulated: no answer".into()),
        "unsupported" => FenceError::Unsupported("simulated: unsupported".into()),
        _ => FenceError::Device("simulated: device error".into()),
    }
}

impl Sim {
    fn settle(&mut self) {
        if let Some((state, at)) = self.pending {
            if Instant::now() >= at {
                self.power = state;
                self.pending = None;
            }
        }
    }

    fn note_deadline(&mut self, deadline: Deadline) {
        if deadline.expired() {
            self.expired_deadlines += 1;
        }
    }
}

/// The agent under test: a handle on the shared simulation.
#[derive(Clone)]
pub struct SimAgent {
    pub sim: Arc<Mutex<Sim>>,
    pub multiple_plugs: bool,
    pub diag: bool,
}

impl SimAgent {
    pub fn new(sim: Sim) -> Self {
        SimAgent {
            sim: Arc::new(Mutex::new(sim)),
            multiple_plugs: false,
            diag: false,
        }
    }

    pub fn state(&self) -> MutexGuard<'_, Sim> {
        self.sim.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FenceAgent for SimAgent {
    fn info(&self) -> AgentInfo {
        AgentInfo {
            name: "fence_sim",
            shortdesc: "Simulated fence device",
            longdesc: "A power device simulated in memory, for the framework's tests.",
            vendor_url: "https://example.invalid/",
            multiple_plugs: self.multiple_plugs,
        }
    }

    fn options(&self) -> Vec<OptionSpec> {
        vec![
            OptionSpec::new("lanplus", OptionType::Boolean, "Use Lanplus").short('P'),
            OptionSpec::new("hexadecimal_kg", OptionType::String, "Kg key")
                .long("hexadecimal-kg")
                .secret(),
            common::PORT_AS_IP,
            SIM_PORT,
        ]
    }

    fn validate(&self, options: &Options) -> Result<(), FenceError> {
        self.state().password_validated = options.password().map(|p| p.expose().to_string());
        // A check only the agent can make: the simulated device has no port 9.
        match options.port(&SIM_PORT) {
            Some(9) => Err(FenceError::Config("ipport 9 is not this device's".into())),
            _ => Ok(()),
        }
    }

    fn has_diag(&self) -> bool {
        self.diag
    }

    fn connect(
        &self,
        options: &Options,
        deadline: Deadline,
    ) -> Result<Box<dyn FenceDevice>, FenceError> {
        let mut sim = self.state();
        sim.note_deadline(deadline);
        sim.connects += 1;
        sim.password_seen = options.password().map(|p| p.expose().to_string());
        sim.ip_seen = options.text(&common::IP).map(str::to_string);
        if let Some(kind) = sim.connect_error {
            return Err(error(kind));
        }
        stonith::tracing::debug!("simulated session open");
        Ok(Box::new(SimDevice {
            sim: Arc::clone(&self.sim),
        }))
    }
}

pub struct SimDevice {
    sim: Arc<Mutex<Sim>>,
}

impl SimDevice {
    fn state(&self) -> MutexGuard<'_, Sim> {
        self.sim.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FenceDevice for SimDevice {
    fn power_status(
        &mut self,
        plug: Option<&str>,
        deadline: Deadline,
    ) -> Result<PowerState, FenceError> {
        let (hang, panic) = {
            let mut sim = self.state();
            sim.note_deadline(deadline);
            sim.status_reads += 1;
            sim.plug_seen = plug.map(str::to_string);
            (sim.hang, sim.panic_on_status)
        };
        if panic {
            panic!("simulated bug in a device");
        }
        if hang {
            std::thread::sleep(deadline.remaining());
            return Err(FenceError::Timeout(
                "simulated: no answer before the deadline".into(),
            ));
        }
        let mut sim = self.state();
        if let Some(kind) = sim.status_error {
            return Err(error(kind));
        }
        if sim.failing_status_reads > 0 {
            sim.failing_status_reads -= 1;
            return Err(error("device"));
        }
        sim.settle();
        Ok(sim.power)
    }

    fn set_power(
        &mut self,
        _plug: Option<&str>,
        action: PowerAction,
        deadline: Deadline,
    ) -> Result<(), FenceError> {
        let mut sim = self.state();
        sim.note_deadline(deadline);
        sim.requests.push(action);
        sim.failing_status_reads = sim.failing_reads_after_request;
        if let Some(kind) = sim.set_error {
            return Err(error(kind));
        }
        if action == PowerAction::On && sim.refused_on_requests > 0 {
            sim.refused_on_requests -= 1;
            return Err(FenceError::Device(
                "simulated: command not supported in present state".into(),
            ));
        }
        if action == PowerAction::Cycle && sim.no_cycle {
            return Err(FenceError::Unsupported("simulated: no power cycle".into()));
        }
        if sim.stuck {
            return Ok(());
        }
        if action == PowerAction::On && sim.ignore_on_requests > 0 {
            sim.ignore_on_requests -= 1;
            return Ok(());
        }
        let at = Instant::now() + sim.change_delay;
        match action {
            PowerAction::On => sim.pending = Some((PowerState::On, at)),
            PowerAction::Off | PowerAction::Soft => sim.pending = Some((PowerState::Off, at)),
            PowerAction::Cycle => {
                // Off at once, on again after the delay.
                sim.power = PowerState::Off;
                sim.pending = Some((PowerState::On, at));
            }
            PowerAction::Diag => {}
        }
        Ok(())
    }

    fn list(&mut self, deadline: Deadline) -> Result<Vec<Outlet>, FenceError> {
        let mut sim = self.state();
        sim.note_deadline(deadline);
        if sim.outlets.is_empty() {
            return Err(FenceError::Unsupported("no plugs".into()));
        }
        Ok(sim.outlets.clone())
    }

    fn close(&mut self, _deadline: Deadline) {
        self.state().closes += 1;
    }
}

/// The result of one invocation.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Run the framework with argv (no program name), stdin and environment.
pub fn run(agent: &SimAgent, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut input = stdin.as_bytes();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let started = Instant::now();
    let code = stonith::run_with(agent, &args, &mut input, &mut stdout, &mut stderr, &lookup);
    Run {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
