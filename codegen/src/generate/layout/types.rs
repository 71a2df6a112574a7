//! The layout's data: how each member is stored, the structs, enums and type-state
//! parameters a command needs, and its reply variants.

use std::collections::HashMap;

use crate::generate::model::{CommandModel, Node, Scalar};
use crate::reply::ReplyType;

/// How a member is stored.
#[derive(Clone, Debug)]
pub(crate) enum Repr {
    /// A type parameter of the command struct.
    Generic(String),
    /// `crate::command::Arg`.
    Arg,
    /// A number (`i64` or `f64`), with the trait its setter accepts.
    Num(Scalar),
    /// A generated enum.
    Enum(String),
    /// A generated block struct with its const arguments (parameter names of the owner).
    Struct(String, Vec<String>),
    /// A tuple of members (one member: the member itself; none: `()`).
    Tuple(Vec<Member>),
    /// `Option<_>`.
    Opt(Box<Repr>),
    /// `Vec<_>`.
    Many(Box<Repr>),
    /// An optional flag.
    Bool,
    /// A `Vec` of tuples written member by member (`STREAMS`).
    Zip(Vec<Member>),
}

/// One stored member of a struct, tuple or enum variant.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    /// The argument's node id.
    pub node: usize,
    /// Field name.
    pub name: String,
    /// How it is stored.
    pub repr: Repr,
}

/// A generated struct: the command itself or a block with optional members.
#[derive(Clone, Debug)]
pub(crate) struct StructLayout {
    /// Type name.
    pub name: String,
    /// The node whose children are the struct's arguments (`None`: the command).
    pub node: Option<usize>,
    /// Fields, in wire order.
    pub members: Vec<Member>,
    /// Type parameters (command struct only).
    pub generics: Vec<String>,
    /// Const parameters.
    pub params: Vec<Param>,
    /// A required oneof whose choice changes the reply: one constructor per choice.
    pub selector: Option<usize>,
}

/// A const type-state parameter.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    /// `GET`, `OPTIONS_WITHVALUES`.
    pub name: String,
    /// What sets it.
    pub trigger: Trigger,
}

/// What sets a type-state parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The option (node id) is given.
    Present(usize),
    /// The oneof (first id) has this choice (second id).
    Choice(usize, usize),
    /// A parameter of the block struct in field `field` (node id), at index `inner`.
    Exported { field: usize, inner: usize },
}

/// A generated enum for a oneof.
#[derive(Clone, Debug)]
pub(crate) struct EnumLayout {
    /// Type name.
    pub name: String,
    /// The oneof's node id.
    pub node: usize,
    /// One per choice.
    pub variants: Vec<VariantLayout>,
}

/// One choice of a oneof.
#[derive(Clone, Debug)]
pub(crate) struct VariantLayout {
    /// The choice's node id.
    pub node: usize,
    /// Variant name.
    pub name: String,
    /// The snake_case name of the function building it (the choice's label).
    pub func: String,
    /// What it holds.
    pub payload: Payload,
}

/// What an enum variant holds.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    /// Nothing (a token, or a block of tokens).
    Unit,
    /// One value.
    One(Repr),
    /// The members of a block, as named fields.
    Fields(Vec<Member>),
}

/// A type the command needs besides its own struct.
#[derive(Clone, Debug)]
pub(crate) enum TypeDef {
    /// An enum for a oneof.
    Enum(EnumLayout),
    /// A struct for a block with optional members.
    Struct(StructLayout),
}

/// A reply variant after resolving its `when` paths.
#[derive(Clone, Debug)]
pub(crate) struct ReplyVariant {
    /// Indices into the command struct's params that must all be true.
    pub when: Vec<usize>,
    /// The RESP3 type.
    pub ty: ReplyType,
    /// The explicit RESP2 type.
    pub resp2: Option<ReplyType>,
    /// The `when` paths as written, for docs.
    pub paths: Vec<String>,
    /// The note.
    pub note: Option<String>,
}

/// Everything generated for one command.
pub(crate) struct Layout<'a> {
    /// The command.
    pub model: &'a CommandModel<'a>,
    /// The command struct.
    pub root: StructLayout,
    /// Enums and block structs, each once.
    pub types: Vec<TypeDef>,
    /// The default reply.
    pub reply: ReplyVariant,
    /// The variants that apply, in order (paths unknown to the first-ranked server dropped).
    pub variants: Vec<ReplyVariant>,
    /// Every node by id.
    pub nodes: HashMap<usize, &'a Node>,
}

impl Layout<'_> {
    /// The node with this id.
    pub fn node(&self, id: usize) -> &Node {
        self.nodes[&id]
    }

    /// The enum of this name among the command's types (layout names every repr's type).
    pub fn enum_named(&self, name: &str) -> &EnumLayout {
        self.types
            .iter()
            .find_map(|t| match t {
                TypeDef::Enum(e) if e.name == name => Some(e),
                _ => None,
            })
            .expect("layout defines the enum of every repr")
    }

    /// The block struct of this name among the command's types.
    pub fn struct_named(&self, name: &str) -> &StructLayout {
        self.types
            .iter()
            .find_map(|t| match t {
                TypeDef::Struct(s) if s.name == name => Some(s),
                _ => None,
            })
            .expect("layout defines the struct of every repr")
    }

    /// The output type index (into `variants`, or `None` for the default) when the command's
    /// params have these values.
    pub fn variant_for(&self, values: &[bool]) -> Option<usize> {
        self.variants
            .iter()
            .position(|v| v.when.iter().all(|&p| values[p]))
    }
}
