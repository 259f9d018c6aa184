//! The assess stage: every risk check family runs over the matched units and adds its signals;
//! checks are independent of one another (`risk/`), this module only feeds them their inputs.

use jiff::civil::Date;

use crate::policy::Assessed;
use crate::risk::hygiene;

/// Runs the risk checks on every unit.
pub fn assess(mut assessed: Assessed, today: Date) -> Assessed {
    let signals: Vec<_> = assessed
        .units
        .iter()
        .map(|a| {
            let twin = a.unit.lockfile_twin.map(|i| &assessed.units[i].unit.graph);
            hygiene::check(&a.unit, twin, today)
        })
        .collect();
    for (a, s) in assessed.units.iter_mut().zip(signals) {
        a.signals.extend(s);
    }
    assessed
}
