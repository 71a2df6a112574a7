//! The command metadata table (`generated/meta.rs`): name, arity, flags, legacy key positions,
//! where a blocking command keeps its timeout and whether the command changes the state of its
//! connection (`rust.connection_state`) and how a cluster routes it (see `routing`), for every
//! command and subcommand, sorted by name.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::GenerateError;
use crate::spec::{Command, TimeUnit};

/// The server's command flags and the runtime constants (`command_meta::flags`) they become.
/// A flag missing here fails generation, so a new server flag gets a deliberate decision.
const FLAGS: &[(&str, &str)] = &[
    ("write", "WRITE"),
    ("readonly", "READONLY"),
    ("denyoom", "DENYOOM"),
    ("module", "MODULE"),
    ("admin", "ADMIN"),
    ("pubsub", "PUBSUB"),
    ("noscript", "NOSCRIPT"),
    ("blocking", "BLOCKING"),
    ("loading", "LOADING"),
    ("stale", "STALE"),
    ("skip_monitor", "SKIP_MONITOR"),
    ("skip_slowlog", "SKIP_SLOWLOG"),
    ("skip_commandlog", "SKIP_COMMANDLOG"),
    ("asking", "ASKING"),
    ("fast", "FAST"),
    ("no_auth", "NO_AUTH"),
    ("may_replicate", "MAY_REPLICATE"),
    ("sentinel", "SENTINEL"),
    ("only_sentinel", "ONLY_SENTINEL"),
    ("no_mandatory_keys", "NO_MANDATORY_KEYS"),
    ("protected", "PROTECTED"),
    ("no_async_loading", "NO_ASYNC_LOADING"),
    ("no_multi", "NO_MULTI"),
    ("movablekeys", "MOVABLE_KEYS"),
    ("allow_busy", "ALLOW_BUSY"),
];

/// Builds `meta.rs`.
pub fn generate(commands: &[Command]) -> Result<TokenStream, GenerateError> {
    let mut sorted: Vec<&Command> = commands.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut consts = Vec::new();
    let mut names = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for command in &sorted {
        let ident = const_name(&command.name);
        if !seen.insert(ident.to_string()) {
            return Err(GenerateError {
                file: format!("commands/{}", command.file_name()),
                message: format!("two commands share the metadata constant `{ident}`"),
            });
        }
        let value = entry(command)?;
        let doc = format!(" `{}`.", command.name);
        consts.push(quote! {
            #[doc = #doc]
            pub const #ident: CommandMeta = #value;
        });
        names.push(ident);
    }
    Ok(quote! {
        //! The command metadata: one [`CommandMeta`] constant per command and subcommand (typed
        //! commands point at theirs through [`crate::command::Command::META`], so they need no lookup), and
        //! the table of all of them sorted by name in byte order (upper case; subcommands as
        //! `"CLIENT KILL"`), so that [`crate::command::lookup`] can binary-search it for
        //! commands given as raw arguments.

        use crate::command_meta::{
            flags, BeginSearch, BlockingTimeout, CommandMeta, FindKeys, KeySpec, RequestPolicy,
            ResponsePolicy, Routing, Special, TimeUnit, TimeoutPosition,
        };

        #(#consts)*

        /// Every known command and subcommand, sorted by name.
        pub static COMMANDS: &[CommandMeta] = &[#(#names),*];
    })
}

/// The constant holding a command's metadata: its name in upper snake case (`CLIENT_KILL`,
/// `CLUSTER_COUNT_FAILURE_REPORTS`).
pub(super) fn const_name(command: &str) -> proc_macro2::Ident {
    let snake: String = command
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format_ident!("{}", snake)
}

fn entry(command: &Command) -> Result<TokenStream, GenerateError> {
    let error = |message: String| GenerateError {
        file: format!("commands/{}", command.file_name()),
        message,
    };
    let name = &command.name;
    let arity = i32::try_from(command.arity).map_err(|_| error("arity out of range".into()))?;
    let mut flags = Vec::new();
    for flag in &command.flags {
        let (_, constant) = FLAGS
            .iter()
            .find(|(server_name, _)| server_name == flag)
            .ok_or_else(|| error(format!("flags: unknown command flag `{flag}`")))?;
        let constant = format_ident!("{}", constant);
        // Qualified: some commands (READONLY, ASKING) share a flag's name.
        flags.push(quote!(flags::#constant));
    }
    let flags = if flags.is_empty() {
        quote!(0)
    } else {
        quote!(#(#flags)|*)
    };
    let (first, last, step) = command
        .legacy_keys
        .as_ref()
        .map(|k| (k.first, k.last, k.step))
        .unwrap_or((0, 0, 0));
    let [arity, first, last, step] =
        [arity, to_i32(first), to_i32(last), to_i32(step)].map(Literal::i32_unsuffixed);
    let blocking = match blocking_timeout(command).map_err(error)? {
        Some(tokens) => quote!(Some(#tokens)),
        None => quote!(None),
    };
    let connection_state = command.rust.as_ref().is_some_and(|r| r.connection_state);
    let routing = super::routing::routing(command).map_err(error)?;
    Ok(quote! {
        CommandMeta {
            name: #name,
            arity: #arity,
            flags: #flags,
            first_key: #first,
            last_key: #last,
            key_step: #step,
            blocking_timeout: #blocking,
            connection_state: #connection_state,
            routing: #routing,
        }
    })
}

fn to_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

/// Where the timeout named by `rust.blocking_timeout` sits on the wire: after its token when it
/// has one, else first or last among the top-level arguments.
fn blocking_timeout(command: &Command) -> Result<Option<TokenStream>, String> {
    let Some(hint) = command
        .rust
        .as_ref()
        .and_then(|r| r.blocking_timeout.as_ref())
    else {
        return Ok(None);
    };
    let unit = match hint.unit {
        TimeUnit::Seconds => quote!(TimeUnit::Seconds),
        TimeUnit::Milliseconds => quote!(TimeUnit::Milliseconds),
    };
    let argument = command.argument(&hint.argument).ok_or_else(|| {
        format!(
            "rust.blocking_timeout.argument: no argument `{}`",
            hint.argument
        )
    })?;
    let position = if let Some(token) = &argument.token {
        quote!(TimeoutPosition::AfterToken(#token))
    } else {
        let top = &command.arguments;
        let is = |arg: Option<&crate::spec::Argument>| arg.is_some_and(|a| a.name == argument.name);
        if is(top.last()) {
            quote!(TimeoutPosition::Last)
        } else if is(top.first()) {
            quote!(TimeoutPosition::First)
        } else {
            return Err(format!(
                "rust.blocking_timeout: `{}` is neither first, last, nor after a token; \
                 the runtime cannot find it on the wire",
                hint.argument
            ));
        }
    };
    Ok(Some(
        quote!(BlockingTimeout { position: #position, unit: #unit }),
    ))
}
