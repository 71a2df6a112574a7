//! The [`ToArgs`] trait and the [`ArgWriter`] that argument values write themselves into.

use bytes::BytesMut;

use super::encode_error::EncodeError;
use super::number::NUM_BUF;
use super::number::{
    digits_before, format_f32, format_f64, format_i128, format_i64, format_u128, format_u64,
};

/// A value that writes itself as zero or more command arguments.
///
/// Strings, byte strings and numbers are one argument each; slices, vectors, sets, maps and
/// tuples are their elements in order (a map writes key, value, key, value, …). `Vec<u8>`,
/// `&[u8]` and `[u8; N]` are one binary argument, not a list of numbers. `bool` and `Option`
/// are deliberately not arguments: Redis has no boolean type, and a `None` must not silently turn
/// into an empty argument — commands model optional arguments as setters instead.
///
/// A command type implements it by writing its name and its fields in wire order:
///
/// ```
/// use redis_client::resp::ArgWriter;
/// use redis_client::ToArgs;
///
/// struct Expire<'a> {
///     key: &'a str,
///     seconds: u64,
///     only_if_new: bool,
/// }
///
/// impl ToArgs for Expire<'_> {
///     fn write_args(&self, out: &mut ArgWriter<'_>) {
///         out.arg(b"EXPIRE");
///         self.key.write_args(out);
///         self.seconds.write_args(out);
///         if self.only_if_new {
///             out.arg(b"NX");
///         }
///     }
/// }
///
/// let cmd = Expire { key: "k", seconds: 10, only_if_new: true };
/// assert_eq!(cmd.num_args(), 4);
/// ```
///
/// Neither a `bool` nor an `Option` is an argument:
///
/// ```compile_fail
/// use redis_client::ToArgs;
/// fn takes(_: &impl ToArgs) {}
/// takes(&true);
/// ```
///
/// ```compile_fail
/// use redis_client::ToArgs;
/// fn takes(_: &impl ToArgs) {}
/// takes(&Some("value"));
/// ```
pub trait ToArgs {
    /// Writes this value's arguments, in order, into `out`.
    fn write_args(&self, out: &mut ArgWriter<'_>);

    /// How many arguments [`ToArgs::write_args`] writes.
    ///
    /// The default runs `write_args` against a writer that only counts; types that know their
    /// count override it.
    fn num_args(&self) -> usize {
        let mut counter = ArgWriter::counting();
        self.write_args(&mut counter);
        counter.count()
    }

    /// Writes a slice of `Self`; `u8` overrides it so byte slices are one binary argument.
    #[doc(hidden)]
    fn write_slice(items: &[Self], out: &mut ArgWriter<'_>)
    where
        Self: Sized,
    {
        for item in items {
            item.write_args(out);
        }
    }

    /// Counts the arguments of a slice of `Self`, consistently with [`ToArgs::write_slice`].
    #[doc(hidden)]
    fn slice_num_args(items: &[Self]) -> usize
    where
        Self: Sized,
    {
        items.iter().map(ToArgs::num_args).sum()
    }
}

/// Where [`ToArgs`] values write their arguments: a command being encoded, a [`Cmd`] being
/// built, or a counter.
///
/// [`Cmd`]: super::Cmd
pub struct ArgWriter<'a> {
    sink: Sink<'a>,
    count: usize,
    error: Option<EncodeError>,
}

enum Sink<'a> {
    /// Counting only, for [`ToArgs::num_args`].
    Count,
    /// RESP bulk strings appended to an output buffer.
    Resp(&'a mut BytesMut),
    /// Raw argument bytes appended to `data`, each argument's end offset pushed onto `ends`.
    Raw {
        data: &'a mut BytesMut,
        ends: &'a mut Vec<usize>,
    },
}

impl<'a> ArgWriter<'a> {
    pub(crate) fn counting() -> ArgWriter<'static> {
        ArgWriter {
            sink: Sink::Count,
            count: 0,
            error: None,
        }
    }

    pub(crate) fn resp(out: &'a mut BytesMut) -> Self {
        ArgWriter {
            sink: Sink::Resp(out),
            count: 0,
            error: None,
        }
    }

    pub(crate) fn raw(data: &'a mut BytesMut, ends: &'a mut Vec<usize>) -> Self {
        ArgWriter {
            sink: Sink::Raw { data, ends },
            count: 0,
            error: None,
        }
    }

    /// Writes one argument.
    #[inline]
    pub fn arg(&mut self, bytes: &[u8]) {
        self.count += 1;
        match &mut self.sink {
            Sink::Count => {}
            Sink::Resp(out) => write_bulk(out, bytes),
            Sink::Raw { data, ends } => {
                data.extend_from_slice(bytes);
                ends.push(data.len());
            }
        }
    }

    /// Writes a signed integer as one decimal argument.
    pub fn int(&mut self, v: i64) {
        if self.is_counting() {
            self.count += 1;
        } else {
            self.arg(format_i64(v, &mut [0; NUM_BUF]));
        }
    }

    /// Writes an unsigned integer as one decimal argument.
    pub fn uint(&mut self, v: u64) {
        if self.is_counting() {
            self.count += 1;
        } else {
            self.arg(format_u64(v, &mut [0; NUM_BUF]));
        }
    }

    /// Writes a float as one argument that Redis parses back to exactly `v` (`inf` and `-inf`
    /// included).
    ///
    /// NaN, which Redis rejects, is not written: the command fails to encode with
    /// [`EncodeError::NotANumber`] and nothing of it reaches the output.
    pub fn float(&mut self, v: f64) {
        let mut buf = [0; NUM_BUF];
        match format_f64(v, &mut buf) {
            Some(text) => self.arg(text),
            None => self.not_a_number(),
        }
    }

    pub(crate) fn float32(&mut self, v: f32) {
        let mut buf = [0; NUM_BUF];
        match format_f32(v, &mut buf) {
            Some(text) => self.arg(text),
            None => self.not_a_number(),
        }
    }

    pub(crate) fn int128(&mut self, v: i128) {
        self.arg(format_i128(v, &mut [0; NUM_BUF]));
    }

    pub(crate) fn uint128(&mut self, v: u128) {
        self.arg(format_u128(v, &mut [0; NUM_BUF]));
    }

    /// How many arguments have been written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Records why the command cannot be encoded; the first reason wins.
    pub(crate) fn fail(&mut self, error: EncodeError) {
        self.error.get_or_insert(error);
    }

    /// The argument count and the first failure.
    pub(crate) fn finish(self) -> (usize, Option<EncodeError>) {
        (self.count, self.error)
    }

    fn is_counting(&self) -> bool {
        matches!(self.sink, Sink::Count)
    }

    fn not_a_number(&mut self) {
        let index = self.count;
        // Counted all the same, so a dry run and the real run agree.
        self.count += 1;
        self.fail(EncodeError::NotANumber {
            command: String::new(),
            index,
        });
    }
}

/// Room for `$` or `*`, the digits of any `usize` and `\r\n`.
pub(crate) const HEADER_BUF: usize = 24;

/// Appends `$<len>\r\n<bytes>\r\n`: the header is formatted straight into a small stack buffer
/// (no digit buffer to copy from, nothing large to zero) and the buffer grows at most once.
#[inline]
fn write_bulk(out: &mut BytesMut, bytes: &[u8]) {
    let mut header = [0u8; HEADER_BUF];
    let header = length_header(b'$', bytes.len(), &mut header);
    out.reserve(header.len() + bytes.len() + 2);
    out.extend_from_slice(header);
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Writes `<prefix><len>\r\n` (`$3\r\n`, `*2\r\n`) at the end of `buf`, returning the slice
/// that holds it.
#[inline]
pub(crate) fn length_header(prefix: u8, len: usize, buf: &mut [u8; HEADER_BUF]) -> &[u8] {
    buf[HEADER_BUF - 2] = b'\r';
    buf[HEADER_BUF - 1] = b'\n';
    let mut pos = digits_before(len as u64, buf, HEADER_BUF - 2);
    pos -= 1;
    buf[pos] = prefix;
    &buf[pos..]
}
