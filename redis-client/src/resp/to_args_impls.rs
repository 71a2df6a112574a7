//! [`ToArgs`] for strings, byte strings, numbers, references, collections and tuples.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::args::{ArgWriter, ToArgs};

/// Types that are exactly one argument.
macro_rules! single_arg {
    ($($ty:ty => |$v:ident, $out:ident| $write:expr;)+) => {$(
        impl ToArgs for $ty {
            fn write_args(&self, $out: &mut ArgWriter<'_>) {
                let $v = self;
                $write
            }

            fn num_args(&self) -> usize {
                1
            }
        }
    )+};
}

single_arg! {
    str => |v, out| out.arg(v.as_bytes());
    String => |v, out| out.arg(v.as_bytes());
    Bytes => |v, out| out.arg(v);
    BytesMut => |v, out| out.arg(v);
    i8 => |v, out| out.int(i64::from(*v));
    i16 => |v, out| out.int(i64::from(*v));
    i32 => |v, out| out.int(i64::from(*v));
    i64 => |v, out| out.int(*v);
    isize => |v, out| out.int(*v as i64);
    u16 => |v, out| out.uint(u64::from(*v));
    u32 => |v, out| out.uint(u64::from(*v));
    u64 => |v, out| out.uint(*v);
    usize => |v, out| out.uint(*v as u64);
    i128 => |v, out| out.int128(*v);
    u128 => |v, out| out.uint128(*v);
    f64 => |v, out| out.float(*v);
    f32 => |v, out| out.float32(*v);
}

/// A lone `u8` is a number; a slice, vector or array of them is one binary argument.
impl ToArgs for u8 {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        out.uint(u64::from(*self));
    }

    fn num_args(&self) -> usize {
        1
    }

    fn write_slice(items: &[Self], out: &mut ArgWriter<'_>) {
        out.arg(items);
    }

    fn slice_num_args(_: &[Self]) -> usize {
        1
    }
}

impl<T: ToArgs> ToArgs for [T] {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        T::write_slice(self, out);
    }

    fn num_args(&self) -> usize {
        T::slice_num_args(self)
    }
}

impl<T: ToArgs, const N: usize> ToArgs for [T; N] {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        T::write_slice(self, out);
    }

    fn num_args(&self) -> usize {
        T::slice_num_args(self)
    }
}

impl<T: ToArgs> ToArgs for Vec<T> {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        T::write_slice(self, out);
    }

    fn num_args(&self) -> usize {
        T::slice_num_args(self)
    }
}

/// Smart pointers and references write what they point to.
macro_rules! deref_args {
    ($($ptr:ty),+) => {$(
        impl<T: ToArgs + ?Sized> ToArgs for $ptr {
            fn write_args(&self, out: &mut ArgWriter<'_>) {
                (**self).write_args(out);
            }

            fn num_args(&self) -> usize {
                (**self).num_args()
            }
        }
    )+};
}

deref_args!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl<T: ToArgs + ToOwned + ?Sized> ToArgs for Cow<'_, T> {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        (**self).write_args(out);
    }

    fn num_args(&self) -> usize {
        (**self).num_args()
    }
}

impl<T: ToArgs, S> ToArgs for HashSet<T, S> {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        self.iter().for_each(|item| item.write_args(out));
    }

    fn num_args(&self) -> usize {
        self.iter().map(ToArgs::num_args).sum()
    }
}

impl<T: ToArgs> ToArgs for BTreeSet<T> {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        self.iter().for_each(|item| item.write_args(out));
    }

    fn num_args(&self) -> usize {
        self.iter().map(ToArgs::num_args).sum()
    }
}

impl<K: ToArgs, V: ToArgs, S> ToArgs for HashMap<K, V, S> {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        for (key, value) in self {
            key.write_args(out);
            value.write_args(out);
        }
    }

    fn num_args(&self) -> usize {
        self.iter().map(|(k, v)| k.num_args() + v.num_args()).sum()
    }
}

impl<K: ToArgs, V: ToArgs> ToArgs for BTreeMap<K, V> {
    fn write_args(&self, out: &mut ArgWriter<'_>) {
        for (key, value) in self {
            key.write_args(out);
            value.write_args(out);
        }
    }

    fn num_args(&self) -> usize {
        self.iter().map(|(k, v)| k.num_args() + v.num_args()).sum()
    }
}

/// Tuples write their fields in order.
macro_rules! tuple_args {
    ($($name:ident)+) => {
        #[allow(non_snake_case)]
        impl<$($name: ToArgs),+> ToArgs for ($($name,)+) {
            fn write_args(&self, out: &mut ArgWriter<'_>) {
                let ($($name,)+) = self;
                $($name.write_args(out);)+
            }

            fn num_args(&self) -> usize {
                let ($($name,)+) = self;
                0 $(+ $name.num_args())+
            }
        }
    };
}

tuple_args!(A);
tuple_args!(A B);
tuple_args!(A B C);
tuple_args!(A B C D);
tuple_args!(A B C D E);
tuple_args!(A B C D E F);
tuple_args!(A B C D E F G);
tuple_args!(A B C D E F G H);
tuple_args!(A B C D E F G H I);
tuple_args!(A B C D E F G H I J);
tuple_args!(A B C D E F G H I J K);
tuple_args!(A B C D E F G H I J K L);
