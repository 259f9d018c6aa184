//! Benchmark: the stale and takeover checks over a 500-function monorepo's trees (about 4,400
//! unique npm packages, each with 20 to 300 versions of registry facts, 150 packages per
//! function, popular packages shared by many functions), as `scan::assess::assess`
//! runs them. Target: under 1 s on the 2-core development machine. Data is generated
//! deterministically in memory.

use std::path::PathBuf;
use std::time::Instant;

use bundleguard::bundle::{TreeSource, Unit, UnitKind};
use bundleguard::graph::DepGraph;
use bundleguard::lockfile::LockfileFormat;
use bundleguard::package::{Ecosystem, Package, PackageName, Scope, Source};
use bundleguard::policy::{Assessed, AssessedUnit};
use bundleguard::registry::facts::{PackageFacts, VersionFacts};
use bundleguard::risk::history::FactsMap;
use bundleguard::risk::unused::UnusedConfig;
use bundleguard::scan::assess::{Inputs, RegistryChecks, assess};
use jiff::Timestamp;

const PACKAGES: usize = 4_400;
const FUNCTIONS: usize = 500;
const PER_FUNCTION: usize = 150;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

fn facts(rng: &mut Rng) -> (FactsMap, Vec<Vec<String>>) {
    let mut map = FactsMap::new();
    let mut versions_of = Vec::new();
    for i in 0..PACKAGES {
        let count = 20 + rng.below(280);
        let mut at = 1_400_000_000 + i64::try_from(rng.below(100_000_000)).unwrap_or(0);
        let mut versions = Vec::with_capacity(count);
        let mut names = Vec::with_capacity(count);
        for k in 0..count {
            at += 86_400 + i64::try_from(rng.below(2_000_000)).unwrap_or(0);
            let version = format!("{}.{}.{}", k / 50, (k / 10) % 5, k % 10);
            versions.push(VersionFacts {
                version: version.clone(),
                published: Timestamp::from_second(at).ok(),
                publisher: Some(format!("user{}", rng.below(3))),
                provenance: Some(k > count / 2),
                install_scripts: Some(Vec::new().into()),
                deprecated: None,
                deprecation_known: true,
                yanked: None,
                yank_known: false,
                dependencies: Some(vec![format!("pkg-{}", rng.below(PACKAGES))].into()),
                maintainers: Some(vec!["user0".into(), "user1".into()].into()),
            });
            names.push(version);
        }
        let name = PackageName::new(Ecosystem::Npm, &format!("pkg-{i}"));
        let package = PackageFacts {
            ecosystem: Ecosystem::Npm,
            name: name.clone(),
            fetched_at: Timestamp::UNIX_EPOCH,
            versions,
            maintainers: None,
            status: None,
            latest: None,
            dropped_times: None,
        };
        map.insert((Ecosystem::Npm, name), package);
        versions_of.push(names);
    }
    (map, versions_of)
}

fn units(rng: &mut Rng, versions_of: &[Vec<String>]) -> Vec<AssessedUnit> {
    (0..FUNCTIONS)
        .map(|f| {
            let mut graph = DepGraph::new();
            for _ in 0..PER_FUNCTION {
                // Half the picks come from the 300 most popular packages.
                let i = if rng.below(2) == 0 { rng.below(300) } else { rng.below(PACKAGES) };
                let versions = &versions_of[i];
                let node = graph.add_node(Package {
                    ecosystem: Ecosystem::Npm,
                    name: PackageName::new(Ecosystem::Npm, &format!("pkg-{i}")),
                    version: versions[versions.len() - 1 - rng.below(versions.len().min(5))].clone(),
                    scope: Scope::Prod,
                    source: Source::Registry,
                });
                graph.add_root(node);
            }
            graph.finish();
            let unit = Unit {
                name: format!("fn{f}"),
                kind: UnitKind::Function,
                runtime: None,
                handler: None,
                template: None,
                code_dir: None,
                path: format!("services/fn{f}/package-lock.json"),
                file: PathBuf::from(format!("services/fn{f}/package-lock.json")),
                source: TreeSource::Lockfile(LockfileFormat::NpmPackageLock),
                graph,
                artifact: None,
                lockfile_twin: None,
                coverage: None,
                esbuild: None,
            };
            AssessedUnit { unit, hits: Vec::new(), signals: Vec::new() }
        })
        .collect()
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (facts, versions_of) = facts(&mut rng);
    let now = Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
    let mut best = f64::MAX;
    let mut signals = 0;
    for _ in 0..3 {
        let assessed = Assessed { units: units(&mut Rng(7), &versions_of), ..Assessed::default() };
        let start = Instant::now();
        let inputs = Inputs {
            today: now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
            now,
            facts: &facts,
            registry: &RegistryChecks::default(),
            unused: &UnusedConfig::default(),
        };
        let out = assess(assessed, &inputs);
        best = best.min(start.elapsed().as_secs_f64());
        signals = out.units.iter().map(|u| u.signals.len()).sum();
    }
    #[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
    {
        println!(
            "registry_checks: {FUNCTIONS} functions x {PER_FUNCTION} packages, {PACKAGES} unique: best {best:.3} s ({signals} signals)"
        );
    }
}
