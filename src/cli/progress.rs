//! Sync progress for people: indicatif bars on a terminal, plain log lines when stderr is not a
//! TTY (CI logs), nothing with `--quiet`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::advisory::sync::{Event, Observer};
use crate::package::Ecosystem;

pub struct SyncProgress {
    bars: Option<(MultiProgress, Mutex<HashMap<Ecosystem, ProgressBar>>)>,
    quiet: bool,
}

impl SyncProgress {
    pub fn new(quiet: bool) -> SyncProgress {
        let bars = (!quiet && std::io::stderr().is_terminal())
            .then(|| (MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), Mutex::new(HashMap::new())));
        SyncProgress { bars, quiet }
    }

    fn log(&self, line: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => {
                #[expect(clippy::print_stderr, reason = "progress lines go to stderr in CI logs")]
                {
                    eprintln!("{line}");
                }
            }
        }
    }

    fn bar(&self, eco: Ecosystem, what: &str, done: u64, total: Option<u64>) {
        let Some((multi, bars)) = &self.bars else {
            return;
        };
        let Ok(mut bars) = bars.lock() else { return };
        let bar = bars.entry(eco).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(total.unwrap_or(0)));
            let style =
                ProgressStyle::with_template("{prefix:>10} {msg:16} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            bar.set_prefix(eco.as_str());
            bar
        });
        bar.set_message(what.to_owned());
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    }

    pub fn finish(&self) {
        if let Some((_, bars)) = &self.bars
            && let Ok(bars) = bars.lock()
        {
            bars.values().for_each(ProgressBar::finish_and_clear);
        }
    }
}

impl Observer for SyncProgress {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Checking { ecosystem } => self.log(&format!("{ecosystem}: checking for changes")),
            Event::Downloading { ecosystem, what, done, total } => self.bar(*ecosystem, what, *done, *total),
            Event::Parsing { ecosystem, records } => self.log(&format!("{ecosystem}: parsing {records} records")),
            Event::UpToDate { ecosystem } => self.log(&format!("{ecosystem}: up to date")),
            Event::Planned { ecosystem, plan } => self.log(&format!("{ecosystem}: {plan} sync")),
            Event::Writing => self.log("writing the database"),
        }
    }
}
