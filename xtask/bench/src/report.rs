//! Turns the medians into the table (Markdown, printed and written) and the JSON file, with
//! our ratio to each peer and the targets.

use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use crate::measure::{median, Summary};
use crate::peers::Peer;
use crate::workloads::Group;

/// The medians of one workload, per client (redis-client first when it ran).
pub struct Row {
    /// Its family.
    pub group: Group,
    /// Its name within the family.
    pub name: String,
    /// Each client's medians.
    pub results: Vec<(Peer, Summary)>,
}

/// How the run was set up, stated above the tables.
pub struct Setup {
    /// `key: value` lines: machine, load, server, versions, repetitions.
    pub facts: Vec<(String, String)>,
}

/// The least ratio (our ops/s over the peer's) the issue asks for, if any.
pub fn target_ratio(group: Group, peer: Peer) -> Option<f64> {
    match (group, peer) {
        (Group::RoundTrip, Peer::RedisBenchmark) => Some(0.95),
        (Group::RoundTrip, Peer::RedisRs) => Some(1.0),
        (Group::Pipeline, Peer::RedisBenchmark) => Some(0.9),
        (Group::Pipeline, Peer::RedisRs) => Some(1.5),
        (Group::BigReply, Peer::RedisRs) => Some(2.0),
        (Group::Shared, Peer::RedisRs) => Some(2.0),
        (Group::Parse, Peer::RedisRs) => Some(5.0),
        (Group::ClusterRoundTrip, Peer::RedisRs) => Some(1.0),
        (Group::ClusterPipeline, Peer::RedisRs) => Some(1.5),
        _ => None,
    }
}

/// The most client CPU per operation the issue allows redis-client, if limited.
pub fn cpu_limit_ns(group: Group) -> Option<f64> {
    (group == Group::Pipeline).then_some(250.0)
}

/// Parsing must allocate O(1) times per reply, whatever its size; the bench holds every case to
/// this many allocations per reply (the cases range from 1 to 10 001 values).
pub const PARSE_MAX_ALLOCS: f64 = 4.0;

/// Our checks on one workload: `(description, met)`.
fn own_checks(group: Group, ours: &Summary) -> Vec<(String, bool)> {
    let mut checks = Vec::new();
    if let Some(limit) = cpu_limit_ns(group) {
        checks.push((
            format!("CPU ≤ {limit:.0} ns/op"),
            ours.cpu_ns_per_op <= limit,
        ));
    }
    if group == Group::Parse {
        if let Some(allocs) = ours.allocs_per_op {
            checks.push((
                format!("≤ {PARSE_MAX_ALLOCS:.0} allocs/reply"),
                allocs <= PARSE_MAX_ALLOCS,
            ));
        }
    }
    checks
}

fn ours(row: &Row) -> Option<&Summary> {
    row.results
        .iter()
        .find(|(p, _)| *p == Peer::Ours)
        .map(|(_, s)| s)
}

/// The whole report as Markdown: the setup, then one table per workload family.
pub fn markdown(setup: &Setup, rows: &[Row]) -> String {
    let mut md = String::from("# redis-client benchmarks, side by side\n\n");
    for (key, value) in &setup.facts {
        let _ = writeln!(md, "- {key}: {value}");
    }
    md.push_str(
        "\nops/s and client CPU per op are medians over the repetitions; spread is the range of the \
         repetitions' ops/s over their median. Speed is redis-client's \
         ops/s over the peer's, CPU the peer's client CPU per op over redis-client's (above 1: \
         redis-client is faster, or cheaper), each the median of the ratios within a \
         repetition, whose runs are back to back. Parse and encode times \
         are per reply or command; allocations are heap allocations per operation in this \
         process (none are counted for redis-benchmark, another process).\n",
    );
    md.push_str(
        "\nServer CPU ns/op is the CPU time of the server's main thread, which runs every \
         command, per operation; server busy is that time over the run's wall time, in percent \
         of one core, and in parentheses the share of the run the main thread was ready to run \
         but waited for its CPU, which another process had (medians too). They cover the \
         runner's whole run, untimed parts included (pubsub's publishing), except that \
         redis-benchmark's runs are timed by redis-benchmark itself, without its process start; \
         they show – where there is no server (parse, encode) or its process cannot be read \
         (not on this machine). A run whose server is about 100 % busy is server-bound: no \
         client could have gone faster, so a ratio between two such runs says nothing about the \
         clients. A large waiting share means other load on the server's core held the run \
         back.\n",
    );
    let mut group = None;
    for row in rows {
        if group != Some(row.group) {
            group = Some(row.group);
            let _ = write!(
                md,
                "\n## {}\n\n| workload | client | ops/s | spread | CPU ns/op | allocs/op | \
                 server CPU ns/op | server busy (waiting) | speed | CPU | target |\n\
                 |---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
                row.group.title()
            );
        }
        let ours = ours(row);
        for (i, (peer, s)) in row.results.iter().enumerate() {
            let workload = if i == 0 { row.name.as_str() } else { "" };
            let (ratio, cpu_ratio, target) = match (peer, ours) {
                (Peer::Ours, _) => (String::new(), String::new(), own_checks(row.group, s)),
                (_, Some(o)) => {
                    let (ratio, cpu_ratio) = ratios(o, s);
                    let checks = target_ratio(row.group, *peer)
                        .map(|t| vec![(format!("speed ≥ {t}×"), ratio >= t)])
                        .unwrap_or_default();
                    (format!("{ratio:.2}×"), format!("{cpu_ratio:.2}×"), checks)
                }
                (_, None) => (String::new(), String::new(), Vec::new()),
            };
            let target: Vec<String> = target
                .iter()
                .map(|(what, met)| format!("{what} {}", if *met { "met" } else { "**MISSED**" }))
                .collect();
            let _ = writeln!(
                md,
                "| {workload} | {} | {} | {} | {} | {} | {} | {} | {ratio} | {cpu_ratio} | {} |",
                peer.label(),
                thousands(s.ops_per_sec),
                spread(s),
                cpu(s.cpu_ns_per_op),
                s.allocs_per_op
                    .map_or("–".to_string(), |a| format!("{a:.2}")),
                s.server_cpu_ns_per_op.map_or("–".to_string(), cpu),
                busy(s),
                target.join("; ")
            );
        }
    }
    md
}

/// The whole report as JSON: setup facts and, per workload and client, medians, every
/// repetition's numbers, the ratio and the targets.
pub fn json(setup: &Setup, rows: &[Row]) -> Json {
    let facts: serde_json::Map<String, Json> = setup
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let workloads: Vec<Json> = rows
        .iter()
        .map(|row| {
            let ours = ours(row);
            let results: Vec<Json> = row
                .results
                .iter()
                .map(|(peer, s)| {
                    let (ratio, cpu_ratio) = match (peer, ours) {
                        (Peer::Ours, _) | (_, None) => (None, None),
                        (_, Some(o)) => {
                            let (speed, cpu) = ratios(o, s);
                            (Some(speed), Some(cpu))
                        }
                    };
                    let checks: Vec<Json> = match peer {
                        Peer::Ours => own_checks(row.group, s),
                        _ => target_ratio(row.group, *peer)
                            .zip(ratio)
                            .map(|(t, r)| vec![(format!("ours ÷ {} ≥ {t}", peer.label()), r >= t)])
                            .unwrap_or_default(),
                    }
                    .into_iter()
                    .map(|(what, met)| json!({ "target": what, "met": met }))
                    .collect();
                    let samples: Vec<Json> = s
                        .samples
                        .iter()
                        .map(|m| {
                            let x = &m.sample;
                            let server = m.server.map(|u| {
                                json!({
                                    "main_thread_cpu_s": u.times.main.as_secs_f64(),
                                    "main_thread_waiting_s": u.times.main_waiting.as_secs_f64(),
                                    "all_threads_cpu_s": u.times.all.as_secs_f64(),
                                    "run_wall_s": u.elapsed.as_secs_f64(),
                                })
                            });
                            json!({
                                "ops": x.ops,
                                "wall_s": x.wall.as_secs_f64(),
                                "cpu_s": x.cpu.as_secs_f64(),
                                "allocs": x.allocs,
                                "server": server,
                            })
                        })
                        .collect();
                    json!({
                        "client": peer.label(),
                        "ops_per_sec": s.ops_per_sec,
                        "cpu_ns_per_op": s.cpu_ns_per_op,
                        "allocs_per_op": s.allocs_per_op,
                        "server_cpu_ns_per_op": s.server_cpu_ns_per_op,
                        "server_busy_percent": s.server_busy_percent,
                        "server_waiting_percent": s.server_waiting_percent,
                        "speed_ours_over_peer": ratio,
                        "cpu_peer_over_ours": cpu_ratio,
                        "targets": checks,
                        "samples": samples,
                    })
                })
                .collect();
            json!({
                "group": row.group.title(),
                "workload": row.name,
                "results": results,
            })
        })
        .collect();
    json!({ "setup": facts, "workloads": workloads })
}

/// redis-client's speed over the peer's and the peer's CPU per op over redis-client's: the
/// median of the ratios within each repetition, whose runs were back to back, so that load
/// changing between repetitions cancels out; the ratio of the medians when the counts differ.
fn ratios(ours: &Summary, peer: &Summary) -> (f64, f64) {
    if ours.samples.len() != peer.samples.len() {
        return (
            ours.ops_per_sec / peer.ops_per_sec,
            peer.cpu_ns_per_op / ours.cpu_ns_per_op,
        );
    }
    let pairs = ours
        .samples
        .iter()
        .zip(&peer.samples)
        .map(|(o, p)| (&o.sample, &p.sample));
    (
        median(
            pairs
                .clone()
                .map(|(o, p)| o.ops_per_sec() / p.ops_per_sec())
                .collect(),
        ),
        median(
            pairs
                .map(|(o, p)| p.cpu_ns_per_op() / o.cpu_ns_per_op())
                .collect(),
        ),
    )
}

/// How far the repetitions' ops/s lie apart: (max − min) ÷ median, as a percentage.
fn spread(s: &Summary) -> String {
    if s.samples.len() < 2 {
        return "–".to_string();
    }
    let rates = s.samples.iter().map(|x| x.sample.ops_per_sec());
    let (min, max) = rates.fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)));
    format!("{:.0}%", (max - min) / s.ops_per_sec * 100.0)
}

/// Server busy and waiting percentages as `97% (2%)`, `–` when unknown.
fn busy(s: &Summary) -> String {
    match (s.server_busy_percent, s.server_waiting_percent) {
        (Some(busy), Some(waiting)) => format!("{busy:.0}% ({waiting:.0}%)"),
        _ => "–".to_string(),
    }
}

/// `1234567.8` as `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn cpu(ns: f64) -> String {
    if ns >= 100.0 {
        thousands(ns)
    } else {
        format!("{ns:.1}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cpu::ServerTimes;
    use crate::measure::{Measurement, Sample, ServerUse};

    fn summary(ops_per_sec: f64, cpu_ns: f64) -> Summary {
        let ops = ops_per_sec as u64;
        Summary::of(vec![Sample {
            ops,
            wall: Duration::from_secs(1),
            cpu: Duration::from_nanos((cpu_ns * ops as f64) as u64),
            allocs: Some(ops),
        }
        .into()])
        .unwrap()
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(cpu(42.25), "42.2");
        let runs = [90, 100, 110].map(|ops| Sample {
            ops,
            wall: Duration::from_secs(1),
            cpu: Duration::ZERO,
            allocs: None,
        });
        let runs = runs.map(Measurement::from).to_vec();
        assert_eq!(spread(&Summary::of(runs).unwrap()), "20%");
        assert_eq!(spread(&summary(1.0, 1.0)), "–");
    }

    #[test]
    fn ratios_pair_the_runs_of_each_repetition() {
        let runs = |rates: [u64; 3]| {
            Summary::of(
                rates
                    .map(|ops| Sample {
                        ops,
                        wall: Duration::from_secs(1),
                        cpu: Duration::from_secs(1),
                        allocs: None,
                    })
                    .map(Measurement::from)
                    .to_vec(),
            )
            .unwrap()
        };
        // Load changed between repetitions; within each, redis-client was twice as fast.
        let (speed, cpu) = ratios(&runs([200, 20, 2000]), &runs([100, 10, 1000]));
        assert_eq!(speed, 2.0);
        assert_eq!(cpu, 2.0);
    }

    #[test]
    fn ratios_and_targets_show_in_both_outputs() {
        let rows = [Row {
            group: Group::Pipeline,
            name: "100 × SET".into(),
            results: vec![
                (Peer::Ours, summary(300_000.0, 300.0)),
                (Peer::RedisRs, summary(100_000.0, 900.0)),
                (Peer::RedisBenchmark, summary(400_000.0, 200.0)),
            ],
        }];
        let setup = Setup {
            facts: vec![("machine".into(), "test".into())],
        };
        let md = markdown(&setup, &rows);
        assert!(md.contains("| 3.00× | 3.00× | speed ≥ 1.5× met |"), "{md}");
        assert!(
            md.contains("| 0.75× | 0.67× | speed ≥ 0.9× **MISSED** |"),
            "{md}"
        );
        assert!(md.contains("CPU ≤ 250 ns/op **MISSED**"), "{md}");
        let js = json(&setup, &rows);
        let results = &js["workloads"][0]["results"];
        assert_eq!(results[1]["speed_ours_over_peer"], 3.0);
        assert_eq!(results[1]["cpu_peer_over_ours"], 3.0);
        assert_eq!(results[2]["targets"][0]["met"], false);
        assert_eq!(results[0]["targets"][0]["met"], false);
    }

    #[test]
    fn server_columns_show_cpu_and_busy_or_a_dash() {
        let run = |ops: u64, server: Option<(u64, u64)>| Measurement {
            sample: Sample {
                ops,
                wall: Duration::from_secs(1),
                cpu: Duration::from_secs(1),
                allocs: None,
            },
            server: server.map(|(main_ms, all_ms)| ServerUse {
                times: ServerTimes {
                    main: Duration::from_millis(main_ms),
                    main_waiting: Duration::from_millis(3),
                    all: Duration::from_millis(all_ms),
                },
                elapsed: Duration::from_secs(1),
            }),
        };
        let rows = [
            Row {
                group: Group::RoundTrip,
                name: "GET".into(),
                // 100 000 ops in 990 ms of server CPU: 9.9 µs each, 99 % busy.
                results: vec![(
                    Peer::Ours,
                    Summary::of(vec![run(100_000, Some((990, 1000)))]).unwrap(),
                )],
            },
            Row {
                group: Group::Parse,
                name: "integer".into(),
                results: vec![(Peer::Ours, Summary::of(vec![run(1000, None)]).unwrap())],
            },
        ];
        let setup = Setup { facts: Vec::new() };
        let md = markdown(&setup, &rows);
        assert!(
            md.contains("| server CPU ns/op | server busy (waiting) |"),
            "{md}"
        );
        assert!(md.contains("| – | 9,900 | 99% (0%) |"), "{md}");
        assert!(md.contains("| 1,000,000 | – | – | – |"), "{md}");
        let js = json(&setup, &rows);
        let get = &js["workloads"][0]["results"][0];
        assert_eq!(get["server_cpu_ns_per_op"], 9900.0);
        assert_eq!(get["server_busy_percent"], 99.0);
        assert_eq!(get["server_waiting_percent"], 0.3);
        assert_eq!(get["samples"][0]["server"]["all_threads_cpu_s"], 1.0);
        assert_eq!(get["samples"][0]["server"]["main_thread_waiting_s"], 0.003);
        let parse = &js["workloads"][1]["results"][0];
        assert!(parse["server_busy_percent"].is_null());
        assert!(parse["samples"][0]["server"].is_null());
    }
}
