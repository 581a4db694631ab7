//! Element types of a [`Tensor`](crate::Tensor): the dtype table, the runtime [`DType`] and the
//! [`Element`] trait.
//!
//! Every fact about a dtype is written once, as a row of [`dtype_table!`]; the enum, its methods,
//! the `Element` impls, [`with_element_type!`], the numpy bridge and DLPack are generated from the
//! rows. A new dtype is one row (plus, for a new class of values, one arm of
//! [`element_impl!`]). The dates are parametrised by a unit, whose list is its own table
//! (`time_unit_table!` in [`crate::datetime`]).

mod scalar;

use std::fmt;

use num_traits::AsPrimitive;

pub use scalar::Scalar;

use crate::datetime::{TimeUnit, convert_datetime, convert_timedelta};

/// Calls `$callback! { ($($args)*) [rows] [rows by unit] }` with every row of the dtype table.
///
/// A row is `Variant => RustType, "numpy name", numpy kind, size, (DLPack code, DLPack bits),
/// class, "doc";`, where the numpy kind is `dtype.kind` (`b'V'` for a dtype numpy only has
/// through `ml_dtypes`) and the class picks the [`Element`] impl (`float`, `int`, `bool`,
/// `complex`). A row by unit is `Variant => GenericType, "numpy name", numpy kind, size, class,
/// "doc";`: one dtype per [`TimeUnit`], `Variant(unit)`, whose element type is
/// `GenericType<units::Marker>` and whose numpy name is `name[unit]`; DLPack has no such types.
macro_rules! dtype_table {
    ($callback:ident $($args:tt)*) => {
        $crate::dtype::dtype_table! { [$callback] $($args)* }
    };
    ([$($callback:tt)*] $($args:tt)*) => {
        $($callback)*! {
            ($($args)*)
            [
            Float64 => f64, "float64", b'f', 8, (2, 64), float,
                "64-bit IEEE float (`numpy.float64`).";
            Float32 => f32, "float32", b'f', 4, (2, 32), float,
                "32-bit IEEE float (`numpy.float32`).";
            BFloat16 => ::half::bf16, "bfloat16", b'V', 2, (4, 16), float,
                "bfloat16 ([`half::bf16`]; `ml_dtypes.bfloat16`, or a `float32` copy).";
            Float16 => ::half::f16, "float16", b'f', 2, (2, 16), float,
                "16-bit IEEE float ([`half::f16`], `numpy.float16`).";
            Int64 => i64, "int64", b'i', 8, (0, 64), int, "`numpy.int64`.";
            Int32 => i32, "int32", b'i', 4, (0, 32), int, "`numpy.int32`.";
            Int16 => i16, "int16", b'i', 2, (0, 16), int, "`numpy.int16`.";
            Int8 => i8, "int8", b'i', 1, (0, 8), int, "`numpy.int8`.";
            UInt64 => u64, "uint64", b'u', 8, (1, 64), int, "`numpy.uint64`.";
            UInt32 => u32, "uint32", b'u', 4, (1, 32), int, "`numpy.uint32`.";
            UInt16 => u16, "uint16", b'u', 2, (1, 16), int, "`numpy.uint16`.";
            UInt8 => u8, "uint8", b'u', 1, (1, 8), int, "`numpy.uint8`.";
            Bool => bool, "bool", b'b', 1, (6, 8), bool, "`numpy.bool_`, one byte per element.";
            Complex64 => ::num_complex::Complex32, "complex64", b'c', 8, (5, 64), complex,
                "Two 32-bit floats ([`num_complex::Complex32`], `numpy.complex64`).";
            Complex128 => ::num_complex::Complex64, "complex128", b'c', 16, (5, 128), complex,
                "Two 64-bit floats ([`num_complex::Complex64`], `numpy.complex128`).";
            ]
            [
            DateTime64 => DateTime64, "datetime64", b'M', 8, datetime,
                "A date and time without time zone, an `i64` count of the unit since \
                 1970-01-01T00:00 ([`DateTime64`](crate::datetime::DateTime64), \
                 `numpy.datetime64[unit]`; `i64::MIN` is `NaT`).";
            TimeDelta64 => TimeDelta64, "timedelta64", b'm', 8, timedelta,
                "A duration, an `i64` count of the unit \
                 ([`TimeDelta64`](crate::datetime::TimeDelta64), `numpy.timedelta64[unit]`; \
                 `i64::MIN` is `NaT`).";
            ]
        }
    };
}
pub(crate) use dtype_table;

/// Runs `$body` with `$t` bound to the Rust element type of `$dtype`.
macro_rules! with_element_type {
    ($dtype:expr, $t:ident => $body:expr) => {
        $crate::dtype::dtype_table!([$crate::dtype::element_type_match] { $dtype, $t, $body })
    };
}
pub(crate) use with_element_type;

macro_rules! element_type_match {
    (
        ({ $dtype:expr, $t:ident, $body:expr })
        [$($variant:ident => $rust:ty, $name:literal, $kind:literal, $size:literal,
            ($code:literal, $bits:literal), $class:ident, $doc:literal;)*]
        [$($uvariant:ident => $urust:ident, $uname:literal, $ukind:literal, $usize:literal,
            $uclass:ident, $udoc:literal;)*]
    ) => {
        match $dtype {
            $($crate::dtype::DType::$variant => {
                type $t = $rust;
                $body
            })*
            $($crate::dtype::DType::$uvariant(unit) => {
                $crate::datetime::time_unit_table!(
                    [$crate::dtype::unit_type_match] { unit, $t, $urust, $body }
                )
            })*
        }
    };
}
pub(crate) use element_type_match;

/// `element_type_match`'s arm for a dtype by unit: one arm per unit.
macro_rules! unit_type_match {
    (
        ({ $unit:ident, $t:ident, $generic:ident, $body:expr })
        $($uv:ident => $marker:ident, $code:literal, $plural:literal, $nanos:literal,
            $class:ident $(($months:literal))?, $doc:literal;)*
    ) => {
        match $unit {
            $($crate::datetime::TimeUnit::$uv => {
                type $t = $crate::datetime::$generic<$crate::datetime::units::$marker>;
                $body
            })*
        }
    };
}
pub(crate) use unit_type_match;

/// The numpy name of a dtype by unit: `datetime64[ns]`.
macro_rules! unit_name_match {
    (
        ({ $unit:ident, $name:literal })
        $($uv:ident => $marker:ident, $code:literal, $plural:literal, $nanos:literal,
            $class:ident $(($months:literal))?, $doc:literal;)*
    ) => {
        match $unit {
            $(TimeUnit::$uv => concat!($name, "[", $code, "]"),)*
        }
    };
}
pub(crate) use unit_name_match;

macro_rules! define_dtype {
    (
        ()
        [$($variant:ident => $rust:ty, $name:literal, $kind:literal, $size:literal,
            ($code:literal, $bits:literal), $class:ident, $doc:literal;)*]
        [$($uvariant:ident => $urust:ident, $uname:literal, $ukind:literal, $usize:literal,
            $uclass:ident, $udoc:literal;)*]
    ) => {
        /// The element type of a [`Tensor`](crate::Tensor), known at run time.
        ///
        /// The variants are the rows of python4j's dtype table, numpy's complex types, and
        /// numpy's dates and durations, which carry their [`TimeUnit`]. [`DType::numpy_name`] is
        /// the numpy dtype each one crosses as (`BFloat16` crosses as `float32` by default, or as
        /// `ml_dtypes.bfloat16` when enabled).
        ///
        /// # Example
        ///
        /// ```
        /// use python4r::DType;
        /// use python4r::datetime::TimeUnit;
        /// assert_eq!(DType::Float32.size(), 4);
        /// assert_eq!(DType::BFloat16.numpy_name(), "bfloat16");
        /// assert_eq!(DType::from_numpy_name("uint16"), Some(DType::UInt16));
        /// assert_eq!(DType::from_numpy_name("complex64"), Some(DType::Complex64));
        /// assert_eq!(DType::DateTime64(TimeUnit::Nanosecond).to_string(), "datetime64[ns]");
        /// assert_eq!(DType::Bool.to_string(), "bool");
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DType {
            $(#[doc = $doc] $variant,)*
            $(#[doc = $udoc] $uvariant(TimeUnit),)*
        }

        impl DType {
            /// Every dtype: python4j's table, the complex types, then the dates and durations
            /// in every unit.
            pub const ALL: [DType; [$($size),*].len() + [$($usize),*].len() * TimeUnit::ALL.len()] = {
                let plain = [$(DType::$variant),*];
                let mut all = [DType::Bool; [$($size),*].len() + [$($usize),*].len() * TimeUnit::ALL.len()];
                let mut i = 0;
                while i < plain.len() {
                    all[i] = plain[i];
                    i += 1;
                }
                $(
                    let mut u = 0;
                    while u < TimeUnit::ALL.len() {
                        all[i] = DType::$uvariant(TimeUnit::ALL[u]);
                        i += 1;
                        u += 1;
                    }
                )*
                all
            };

            /// Size of one element in bytes.
            ///
            /// ```
            /// assert_eq!(python4r::DType::Int16.size(), 2);
            /// assert_eq!(python4r::DType::Complex128.size(), 16);
            /// ```
            pub const fn size(self) -> usize {
                match self {
                    $(DType::$variant => $size,)*
                    $(DType::$uvariant(_) => $usize,)*
                }
            }

            /// The name numpy (or `ml_dtypes`, for `bfloat16`) gives this dtype.
            ///
            /// ```
            /// use python4r::{DType, datetime::TimeUnit};
            /// assert_eq!(DType::Float64.numpy_name(), "float64");
            /// assert_eq!(DType::TimeDelta64(TimeUnit::Month).numpy_name(), "timedelta64[M]");
            /// ```
            pub const fn numpy_name(self) -> &'static str {
                match self {
                    $(DType::$variant => $name,)*
                    $(DType::$uvariant(unit) => {
                        $crate::datetime::time_unit_table!(
                            [$crate::dtype::unit_name_match] { unit, $uname }
                        )
                    })*
                }
            }

            /// numpy's `dtype.kind` character (`b'V'` for dtypes numpy only has through
            /// `ml_dtypes`).
            #[cfg(feature = "numpy")]
            pub(crate) const fn numpy_kind(self) -> u8 {
                match self {
                    $(DType::$variant => $kind,)*
                    $(DType::$uvariant(_) => $ukind,)*
                }
            }

            /// DLPack's type code and bit width, if DLPack has this type.
            pub(crate) const fn dlpack(self) -> Option<(u8, u8)> {
                match self {
                    $(DType::$variant => Some(($code, $bits)),)*
                    $(DType::$uvariant(_) => None,)*
                }
            }

            /// Whether this is a real floating-point dtype.
            ///
            /// ```
            /// assert!(python4r::DType::BFloat16.is_float());
            /// assert!(!python4r::DType::Bool.is_float());
            /// assert!(!python4r::DType::Complex64.is_float());
            /// ```
            pub const fn is_float(self) -> bool {
                self.class_is(b"float")
            }

            /// Whether this is a complex dtype.
            ///
            /// ```
            /// assert!(python4r::DType::Complex128.is_complex());
            /// assert!(!python4r::DType::Float64.is_complex());
            /// ```
            pub const fn is_complex(self) -> bool {
                self.class_is(b"complex")
            }

            /// The unit of a date or duration dtype.
            ///
            /// ```
            /// use python4r::{DType, datetime::TimeUnit};
            /// assert_eq!(DType::DateTime64(TimeUnit::Second).time_unit(), Some(TimeUnit::Second));
            /// assert_eq!(DType::Int64.time_unit(), None);
            /// ```
            pub const fn time_unit(self) -> Option<TimeUnit> {
                match self {
                    $(DType::$variant => None,)*
                    $(DType::$uvariant(unit) => Some(unit),)*
                }
            }

            const fn class_is(self, class: &[u8]) -> bool {
                let this: &[u8] = match self {
                    $(DType::$variant => stringify!($class).as_bytes(),)*
                    $(DType::$uvariant(_) => stringify!($uclass).as_bytes(),)*
                };
                if this.len() != class.len() {
                    return false;
                }
                let mut i = 0;
                while i < this.len() {
                    if this[i] != class[i] {
                        return false;
                    }
                    i += 1;
                }
                true
            }
        }

        $(
            const _: () = assert!(size_of::<$rust>() == $size, "the table's size is the Rust type's");
            element_impl!($class, $rust, $variant);
        )*
        $(
            const _: () = assert!(
                size_of::<$crate::datetime::$urust<$crate::datetime::units::Nanoseconds>>() == $usize,
                "the table's size is the Rust type's"
            );
            element_impl!($uclass, $urust, $uvariant);
        )*
    };
}

impl DType {
    /// The dtype numpy calls `name` (`"float32"`, `"bool"`, `"bfloat16"`, `"datetime64[ns]"`),
    /// if a tensor can hold it.
    ///
    /// ```
    /// use python4r::{DType, datetime::TimeUnit};
    /// assert_eq!(DType::from_numpy_name("timedelta64[us]"), Some(DType::TimeDelta64(TimeUnit::Microsecond)));
    /// assert_eq!(DType::from_numpy_name("clongdouble"), None);
    /// ```
    pub fn from_numpy_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.numpy_name() == name)
    }

    /// The dtype of numpy's `(dtype.kind, dtype.itemsize)`, for the dtypes numpy has itself
    /// without a unit (not those of kind `V`, which need a look at the dtype's type object, nor
    /// dates, which need the unit).
    #[cfg(feature = "numpy")]
    pub(crate) fn from_numpy_kind(kind: u8, size: usize) -> Option<DType> {
        DType::ALL
            .iter()
            .copied()
            .find(|d| d.numpy_kind() == kind && d.size() == size && d.time_unit().is_none())
    }

    /// The date or duration dtype of numpy's kind (`b'M'`, `b'm'`) in `unit`.
    #[cfg(feature = "numpy")]
    pub(crate) fn from_numpy_kind_and_unit(kind: u8, unit: TimeUnit) -> Option<DType> {
        DType::ALL
            .iter()
            .copied()
            .find(|d| d.numpy_kind() == kind && d.time_unit() == Some(unit))
    }

    /// The dtype of a DLPack type code and bit width.
    pub(crate) fn from_dlpack(code: u8, bits: u8) -> Option<DType> {
        DType::ALL
            .iter()
            .copied()
            .find(|d| d.dlpack() == Some((code, bits)))
    }

    /// The names of every dtype, for messages: `float64, float32, ..., bool, complex64,
    /// complex128, datetime64[Y|M|...|ns], timedelta64[Y|M|...|ns]`.
    pub(crate) fn names() -> String {
        let units: Vec<&str> = TimeUnit::ALL.iter().map(|u| u.code()).collect();
        let units = units.join("|");
        let mut names: Vec<String> = Vec::new();
        for d in DType::ALL {
            let name = d.numpy_name();
            let name = match (d.time_unit(), name.find('[')) {
                (Some(_), Some(bracket)) => format!("{}[{units}]", &name[..bracket]),
                _ => name.to_owned(),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.join(", ")
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.numpy_name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that can be the element type of a [`Tensor`](crate::Tensor).
///
/// Implemented for exactly the element types of [`DType`] (`f64, f32, half::bf16, half::f16,
/// i64, i32, i16, i8, u64, u32, u16, u8, bool`, [`num_complex::Complex32`] and
/// [`num_complex::Complex64`], and [`DateTime64<U>`](crate::datetime::DateTime64) and
/// [`TimeDelta64<U>`](crate::datetime::TimeDelta64) for every unit); it is sealed.
///
/// # Example
///
/// ```
/// use python4r::{DType, Element};
/// assert_eq!(<half::bf16 as Element>::DTYPE, DType::BFloat16);
/// assert_eq!(<bool as Element>::DTYPE, DType::Bool);
/// assert_eq!(<num_complex::Complex64 as Element>::DTYPE, DType::Complex128);
/// use python4r::datetime::{DateTime64, TimeUnit, units::Nanoseconds};
/// assert_eq!(<DateTime64<Nanoseconds> as Element>::DTYPE, DType::DateTime64(TimeUnit::Nanosecond));
/// ```
pub trait Element: Copy + Send + Sync + PartialEq + fmt::Debug + 'static + sealed::Sealed {
    /// The runtime dtype of this element type.
    const DTYPE: DType;

    #[doc(hidden)]
    fn to_scalar(self) -> Scalar;

    #[doc(hidden)]
    fn from_scalar(v: Scalar) -> Self;

    /// Reads one element from possibly unaligned memory.
    ///
    /// # Safety
    /// `ptr` must be valid for reading `size_of::<Self>()` bytes.
    #[doc(hidden)]
    unsafe fn read(ptr: *const u8) -> Self {
        // SAFETY: the caller guarantees `ptr` is readable for `size_of::<Self>()` bytes; every bit
        // pattern is a valid value for the numeric types (bool overrides this method).
        unsafe { std::ptr::read_unaligned(ptr.cast::<Self>()) }
    }

    /// Whether `bytes` (one element's worth, native order) are a valid value of `Self`.
    #[doc(hidden)]
    fn valid_bytes(_bytes: &[u8]) -> bool {
        true
    }
}

/// The [`Element`] impl of one row, by the row's class.
macro_rules! element_impl {
    (float, $t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn to_scalar(self) -> Scalar {
                Scalar::Float(AsPrimitive::<f64>::as_(self))
            }
            fn from_scalar(v: Scalar) -> Self {
                AsPrimitive::<$t>::as_(v.as_f64())
            }
        }
    };
    (int, $t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn to_scalar(self) -> Scalar {
                Scalar::Int(AsPrimitive::<i128>::as_(self))
            }
            fn from_scalar(v: Scalar) -> Self {
                // Integer casts wrap, as numpy's `astype` does.
                AsPrimitive::<$t>::as_(v.as_i128())
            }
        }
    };
    (bool, $t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn to_scalar(self) -> Scalar {
                Scalar::Bool(self)
            }
            fn from_scalar(v: Scalar) -> Self {
                v.as_bool()
            }
            unsafe fn read(ptr: *const u8) -> Self {
                // SAFETY: the caller guarantees one readable byte. It is read as `u8`, because
                // numpy allows bool bytes other than 0 and 1, which are not valid Rust `bool`s;
                // any nonzero byte is true, as in numpy.
                unsafe { ptr.read() != 0 }
            }
            fn valid_bytes(bytes: &[u8]) -> bool {
                bytes.iter().all(|&b| b <= 1)
            }
        }
    };
    (complex, $t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn to_scalar(self) -> Scalar {
                Scalar::Complex(
                    AsPrimitive::<f64>::as_(self.re),
                    AsPrimitive::<f64>::as_(self.im),
                )
            }
            fn from_scalar(v: Scalar) -> Self {
                let (re, im) = v.as_complex();
                ::num_complex::Complex::new(AsPrimitive::as_(re), AsPrimitive::as_(im))
            }
        }
    };
    (datetime, $generic:ident, $variant:ident) => {
        impl<U: $crate::datetime::Unit> sealed::Sealed for $crate::datetime::$generic<U> {}
        impl<U: $crate::datetime::Unit> Element for $crate::datetime::$generic<U> {
            const DTYPE: DType = DType::$variant(U::UNIT);
            fn to_scalar(self) -> Scalar {
                Scalar::Time(self.count(), U::UNIT)
            }
            fn from_scalar(v: Scalar) -> Self {
                Self::new(v.as_time(U::UNIT, convert_datetime))
            }
        }
    };
    (timedelta, $generic:ident, $variant:ident) => {
        impl<U: $crate::datetime::Unit> sealed::Sealed for $crate::datetime::$generic<U> {}
        impl<U: $crate::datetime::Unit> Element for $crate::datetime::$generic<U> {
            const DTYPE: DType = DType::$variant(U::UNIT);
            fn to_scalar(self) -> Scalar {
                Scalar::Time(self.count(), U::UNIT)
            }
            fn from_scalar(v: Scalar) -> Self {
                Self::new(v.as_time(U::UNIT, convert_timedelta))
            }
        }
    };
}

dtype_table!(define_dtype);

/// Reads the element of dtype `dtype` at `ptr` as a [`Scalar`].
///
/// # Safety
/// `ptr` must be readable for `dtype.size()` bytes.
pub(crate) unsafe fn read_scalar(dtype: DType, ptr: *const u8) -> Scalar {
    with_element_type!(dtype, T => {
        // SAFETY: forwarded from this function's contract: `ptr` is readable for the element.
        unsafe { <T as Element>::read(ptr) }.to_scalar()
    })
}

/// Writes `v`, cast to `dtype`, at `ptr` (unaligned).
///
/// # Safety
/// `ptr` must be writable for `dtype.size()` bytes and not aliased by a live reference.
pub(crate) unsafe fn write_scalar(dtype: DType, ptr: *mut u8, v: Scalar) {
    with_element_type!(dtype, T => {
        // SAFETY: forwarded from this function's contract: `ptr` is writable for the element.
        unsafe { std::ptr::write_unaligned(ptr.cast::<T>(), <T as Element>::from_scalar(v)) }
    })
}

#[cfg(test)]
mod tests;
