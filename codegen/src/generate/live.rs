//! The sample table of the live test that runs every command against real servers.
//!
//! The samples are the golden ones (see `golden`): each command value is built through the
//! generated API, with every setter at least once. Here each sample becomes a function that
//! runs the value on a connection, tagged with the servers that know every argument it writes
//! (a Valkey-only option cannot be sent to Redis 7.0). What to do with them — which server, which
//! protocol, which errors are acceptable — is the hand-written runner's business; the table only
//! holds facts of the spec.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::golden::{self, Pick, SVal};
use super::layout::Layout;
use super::model::{Kind, Node};
use super::GenerateError;

/// Commands whose golden samples combine options the server refuses together (the types
/// cannot rule them out), by file stem: the subsets of samples the live test runs instead, as
/// (argument paths left out, only these sample indexes, leave out the constructor alone).
/// Together they still write every optional argument.
type PickRow = (&'static [&'static str], Option<&'static [usize]>, bool);
const PICKS: &[(&str, &[PickRow])] = &[
    // ABORT takes no other option.
    (
        "failover",
        &[
            (&["abort"], None, false),
            (&["target", "milliseconds"], None, true),
        ],
    ),
    // IDLETIME and FREQ exclude each other.
    (
        "restore",
        &[(&["seconds"], None, false), (&["frequency"], None, true)],
    ),
    (
        "restore-asking",
        &[(&["seconds"], None, false), (&["frequency"], None, true)],
    ),
    // WITHSCORES is refused with BYLEX (sample 1).
    (
        "zrange",
        &[(&[], Some(&[0]), false), (&["withscores"], None, true)],
    ),
    // BYRADIUS and BYBOX need FROMMEMBER or FROMLONLAT (the spec makes them optional for
    // BYPOLYGON, sample 2), which BYPOLYGON refuses.
    (
        "geosearch",
        &[(&[], Some(&[0, 1, 3]), true), (&["from"], Some(&[2]), true)],
    ),
    // Sentinel refuses SIMULATE-FAILURE without a mode (the spec's list of modes is optional).
    ("sentinel-simulate-failure", &[(&[], None, true)]),
    (
        "geosearchstore",
        &[(&[], Some(&[0, 1, 3]), true), (&["from"], Some(&[2]), true)],
    ),
];

/// The table entry of one command: a constant (one item each, so rustfmt formats them) and its
/// name for the table.
pub(crate) fn entry(l: &Layout) -> Result<(TokenStream, Ident), GenerateError> {
    let spec = l.model.spec;
    let stem = spec.file_name().trim_end_matches(".json").to_string();
    let name = l.model.words.join(" ");
    let group = &l.model.group;
    let servers = &spec.servers;
    let blocking = spec.flags.iter().any(|f| f == "blocking");
    let mut seen = BTreeSet::new();
    let mut samples = TokenStream::new();
    let picks: Vec<Pick> = match PICKS.iter().find(|(s, _)| *s == stem) {
        Some((_, picks)) => picks
            .iter()
            .map(|(omit, only, no_bare)| Pick {
                omit,
                only: *only,
                no_bare: *no_bare,
            })
            .collect(),
        None => vec![Pick::default()],
    };
    let mut all = Vec::new();
    for pick in &picks {
        all.extend(golden::samples_with(l, pick)?);
    }
    for s in all {
        // Samples of commands without options repeat the bare constructor.
        if !seen.insert(s.expected.clone()) {
            continue;
        }
        let mut known: BTreeSet<String> = servers.iter().cloned().collect();
        used_servers(&l.model.args, &s.vals, &mut known);
        let known: Vec<String> = known.into_iter().collect();
        let wire = &s.expected;
        let expr = s.expr;
        samples.extend(quote! {
            Sample {
                servers: &[#(#known),*],
                wire: &[#(#wire),*],
                run: |c| run(c, #expr),
            },
        });
    }
    let doc = format!(" `{name}`.");
    let ident = format_ident!("{}", l.model.method.trim_start_matches("r#").to_uppercase());
    let item = quote! {
        #[doc = #doc]
        const #ident: Entry = Entry {
            stem: #stem,
            name: #name,
            group: #group,
            servers: &[#(#servers),*],
            blocking: #blocking,
            samples: &[#samples],
        };
    };
    Ok((item, ident))
}

/// The sample file: `ENTRIES`, one per command, for the runner that includes it.
pub(crate) fn file(items: TokenStream, names: &[Ident]) -> TokenStream {
    quote! {
        //! Every command's golden samples, as functions that run them on a connection: the table
        //! of the `every_command_live` test.
        #![allow(deprecated, clippy::type_complexity)]

        use super::{run, Entry, Sample};

        /// One entry per command and subcommand, sorted by name.
        pub(crate) static ENTRIES: &[Entry] = &[#(#names),*];

        #items
    }
}

/// Narrows `known` to the servers that know every argument these values write.
fn used_servers(nodes: &[Node], vals: &HashMap<usize, SVal>, known: &mut BTreeSet<String>) {
    for node in nodes {
        match vals.get(&node.id) {
            Some(v) => {
                narrow(node, known);
                used_value(node, v, known);
            }
            None if !node.optional => {
                narrow(node, known);
                if node.is_inline_block() {
                    used_servers(node.children(), vals, known);
                }
            }
            None => {}
        }
    }
}

/// Narrows `known` by the arguments nested in one value of `node`.
fn used_value(node: &Node, v: &SVal, known: &mut BTreeSet<String>) {
    match (&node.kind, v) {
        (Kind::OneOf(choices), SVal::Choice(i, inner)) => {
            narrow(&choices[*i], known);
            used_value(&choices[*i], inner, known);
        }
        (Kind::Block(children) | Kind::Zip(children), SVal::Fields(fields)) => {
            used_servers(children, fields, known)
        }
        (_, SVal::List(items)) => {
            for item in items {
                used_value(node, item, known);
            }
        }
        _ => {}
    }
}

fn narrow(node: &Node, known: &mut BTreeSet<String>) {
    known.retain(|s| node.servers.contains(s));
}
