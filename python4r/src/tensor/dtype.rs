//! Element types of a [`Tensor`](super::Tensor): the runtime [`DType`] and the [`Element`] trait.

use std::fmt;

use half::{bf16, f16};

/// The element type of a [`Tensor`](super::Tensor), known at run time.
///
/// The variants are the rows of python4j's dtype table; [`DType::numpy_name`] is the numpy dtype each
/// one crosses as (`BFloat16` crosses as `float32` by default, or as `ml_dtypes.bfloat16` when
/// enabled).
///
/// # Example
///
/// ```
/// use python4r::DType;
/// assert_eq!(DType::Float32.size(), 4);
/// assert_eq!(DType::BFloat16.numpy_name(), "bfloat16");
/// assert_eq!(DType::from_numpy_name("uint16"), Some(DType::UInt16));
/// assert_eq!(DType::Bool.to_string(), "bool");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// 64-bit IEEE float (`numpy.float64`).
    Float64,
    /// 32-bit IEEE float (`numpy.float32`).
    Float32,
    /// bfloat16 ([`half::bf16`]; `ml_dtypes.bfloat16`, or a `float32` copy).
    BFloat16,
    /// 16-bit IEEE float ([`half::f16`], `numpy.float16`).
    Float16,
    /// `numpy.int64`.
    Int64,
    /// `numpy.int32`.
    Int32,
    /// `numpy.int16`.
    Int16,
    /// `numpy.int8`.
    Int8,
    /// `numpy.uint64`.
    UInt64,
    /// `numpy.uint32`.
    UInt32,
    /// `numpy.uint16`.
    UInt16,
    /// `numpy.uint8`.
    UInt8,
    /// `numpy.bool_`, one byte per element.
    Bool,
}

impl DType {
    /// Every dtype, in the order of python4j's table.
    pub const ALL: [DType; 13] = [
        DType::Float64,
        DType::Float32,
        DType::BFloat16,
        DType::Float16,
        DType::Int64,
        DType::Int32,
        DType::Int16,
        DType::Int8,
        DType::UInt64,
        DType::UInt32,
        DType::UInt16,
        DType::UInt8,
        DType::Bool,
    ];

    /// Size of one element in bytes.
    ///
    /// ```
    /// assert_eq!(python4r::DType::Int16.size(), 2);
    /// ```
    pub const fn size(self) -> usize {
        match self {
            DType::Float64 | DType::Int64 | DType::UInt64 => 8,
            DType::Float32 | DType::Int32 | DType::UInt32 => 4,
            DType::BFloat16 | DType::Float16 | DType::Int16 | DType::UInt16 => 2,
            DType::Int8 | DType::UInt8 | DType::Bool => 1,
        }
    }

    /// The name numpy (or `ml_dtypes`, for `bfloat16`) gives this dtype.
    ///
    /// ```
    /// assert_eq!(python4r::DType::Float64.numpy_name(), "float64");
    /// ```
    pub const fn numpy_name(self) -> &'static str {
        match self {
            DType::Float64 => "float64",
            DType::Float32 => "float32",
            DType::BFloat16 => "bfloat16",
            DType::Float16 => "float16",
            DType::Int64 => "int64",
            DType::Int32 => "int32",
            DType::Int16 => "int16",
            DType::Int8 => "int8",
            DType::UInt64 => "uint64",
            DType::UInt32 => "uint32",
            DType::UInt16 => "uint16",
            DType::UInt8 => "uint8",
            DType::Bool => "bool",
        }
    }

    /// The dtype numpy calls `name` (`"float32"`, `"bool"`, `"bfloat16"`), if it is one of the 13.
    ///
    /// ```
    /// assert_eq!(python4r::DType::from_numpy_name("complex64"), None);
    /// ```
    pub fn from_numpy_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.numpy_name() == name)
    }

    /// Whether this is a floating-point dtype.
    ///
    /// ```
    /// assert!(python4r::DType::BFloat16.is_float());
    /// assert!(!python4r::DType::Bool.is_float());
    /// ```
    pub const fn is_float(self) -> bool {
        matches!(
            self,
            DType::Float64 | DType::Float32 | DType::BFloat16 | DType::Float16
        )
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.numpy_name())
    }
}

/// One element value of any dtype, used to cast and print.
#[derive(Clone, Copy, Debug, PartialEq)]
#[doc(hidden)]
pub enum Scalar {
    Float(f64),
    Int(i128),
    Bool(bool),
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that can be the element type of a [`Tensor`](super::Tensor).
///
/// Implemented for exactly the 13 element types of [`DType`] (`f64, f32, half::bf16, half::f16,
/// i64, i32, i16, i8, u64, u32, u16, u8, bool`); it is sealed.
///
/// # Example
///
/// ```
/// use python4r::{DType, Element};
/// assert_eq!(<half::bf16 as Element>::DTYPE, DType::BFloat16);
/// assert_eq!(<bool as Element>::DTYPE, DType::Bool);
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

impl Scalar {
    fn as_f64(self) -> f64 {
        match self {
            Scalar::Float(v) => v,
            Scalar::Int(v) => v as f64,
            Scalar::Bool(b) => f64::from(u8::from(b)),
        }
    }

    fn as_i128(self) -> i128 {
        match self {
            // `as` saturates and maps NaN to 0; numpy leaves these cases undefined.
            Scalar::Float(v) => v as i128,
            Scalar::Int(v) => v,
            Scalar::Bool(b) => i128::from(b),
        }
    }

    fn as_bool(self) -> bool {
        match self {
            Scalar::Float(v) => v != 0.0,
            Scalar::Int(v) => v != 0,
            Scalar::Bool(b) => b,
        }
    }
}

macro_rules! float_element {
    ($t:ty, $d:ident, $to:expr, $from:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_scalar(self) -> Scalar {
                Scalar::Float($to(self))
            }
            fn from_scalar(v: Scalar) -> Self {
                $from(v.as_f64())
            }
        }
    };
}

float_element!(f64, Float64, |v: f64| v, |v: f64| v);
float_element!(f32, Float32, f64::from, |v: f64| v as f32);
float_element!(bf16, BFloat16, bf16::to_f64, bf16::from_f64);
float_element!(f16, Float16, f16::to_f64, f16::from_f64);

macro_rules! int_element {
    ($($t:ty => $d:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_scalar(self) -> Scalar {
                Scalar::Int(i128::from(self))
            }
            fn from_scalar(v: Scalar) -> Self {
                // Integer casts wrap, as numpy's `astype` does.
                v.as_i128() as $t
            }
        }
    )*};
}

int_element!(i64 => Int64, i32 => Int32, i16 => Int16, i8 => Int8,
             u64 => UInt64, u32 => UInt32, u16 => UInt16, u8 => UInt8);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_scalar(self) -> Scalar {
        Scalar::Bool(self)
    }
    fn from_scalar(v: Scalar) -> Self {
        v.as_bool()
    }
    unsafe fn read(ptr: *const u8) -> Self {
        // SAFETY: the caller guarantees one readable byte. It is read as `u8`, because numpy
        // allows bool bytes other than 0 and 1, which are not valid Rust `bool`s; any nonzero byte
        // is true, as in numpy.
        unsafe { ptr.read() != 0 }
    }
    fn valid_bytes(bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| b <= 1)
    }
}

/// Reads the element of dtype `dtype` at `ptr` as a [`Scalar`].
///
/// # Safety
/// `ptr` must be readable for `dtype.size()` bytes.
pub(crate) unsafe fn read_scalar(dtype: DType, ptr: *const u8) -> Scalar {
    macro_rules! rd {
        ($t:ty) => {
            // SAFETY: forwarded from this function's contract.
            unsafe { <$t as Element>::read(ptr).to_scalar() }
        };
    }
    match dtype {
        DType::Float64 => rd!(f64),
        DType::Float32 => rd!(f32),
        DType::BFloat16 => rd!(bf16),
        DType::Float16 => rd!(f16),
        DType::Int64 => rd!(i64),
        DType::Int32 => rd!(i32),
        DType::Int16 => rd!(i16),
        DType::Int8 => rd!(i8),
        DType::UInt64 => rd!(u64),
        DType::UInt32 => rd!(u32),
        DType::UInt16 => rd!(u16),
        DType::UInt8 => rd!(u8),
        DType::Bool => rd!(bool),
    }
}

/// Writes `v`, cast to `dtype`, at `ptr` (unaligned).
///
/// # Safety
/// `ptr` must be writable for `dtype.size()` bytes and not aliased by a live reference.
pub(crate) unsafe fn write_scalar(dtype: DType, ptr: *mut u8, v: Scalar) {
    macro_rules! wr {
        ($t:ty) => {
            // SAFETY: forwarded from this function's contract.
            unsafe { std::ptr::write_unaligned(ptr.cast::<$t>(), <$t as Element>::from_scalar(v)) }
        };
    }
    match dtype {
        DType::Float64 => wr!(f64),
        DType::Float32 => wr!(f32),
        DType::BFloat16 => wr!(bf16),
        DType::Float16 => wr!(f16),
        DType::Int64 => wr!(i64),
        DType::Int32 => wr!(i32),
        DType::Int16 => wr!(i16),
        DType::Int8 => wr!(i8),
        DType::UInt64 => wr!(u64),
        DType::UInt32 => wr!(u32),
        DType::UInt16 => wr!(u16),
        DType::UInt8 => wr!(u8),
        DType::Bool => wr!(bool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_numpy_name(d.numpy_name()), Some(d));
        }
    }

    #[test]
    fn casts_follow_numpy() {
        assert_eq!(u8::from_scalar(Scalar::Int(300)), 44);
        assert_eq!(i32::from_scalar(Scalar::Float(-2.7)), -2);
        assert!(bool::from_scalar(Scalar::Float(0.5)));
        assert_eq!(f32::from_scalar(Scalar::Bool(true)), 1.0);
    }

    #[test]
    fn bool_reads_any_nonzero_byte_as_true() {
        let b = [2u8];
        // SAFETY: one readable byte.
        assert!(unsafe { <bool as Element>::read(b.as_ptr()) });
        assert!(!bool::valid_bytes(&b));
    }
}
